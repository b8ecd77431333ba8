"""Tests of the Prometheus metrics (bridge/edges/metrics.py)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bridge.core.errors import HubErrorCode
from bridge.edges.metrics import BridgeMetrics, StoreSnapshot


def scrape(metrics: BridgeMetrics) -> dict[tuple[str, tuple], float]:
    """Parse the exposition text into {(sample name, sorted labels): value}."""
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


class TestBridgeMetrics:
    def test_message_counter_by_labels(self):
        """Counting a message moves only its (direction, adapter, state) series."""
        metrics = BridgeMetrics()
        metrics.message(direction="out", adapter="legacy-xml", state="published")
        metrics.message(direction="out", adapter="legacy-xml", state="published")
        metrics.message(direction="in", adapter="rc-eda-json", state="received")
        samples = scrape(metrics)
        key = ("bridge_messages_total", (("adapter", "legacy-xml"), ("direction", "out"), ("state", "published")))
        assert 2.0 == samples[key]

    def test_rs_error_by_code(self):
        """RS-ERROR counts are labelled by the numeric Hub code."""
        metrics = BridgeMetrics()
        metrics.rs_error(HubErrorCode.INVALID_MESSAGE)
        assert 1.0 == scrape(metrics)[("bridge_rs_error_total", (("code", "300"),))]

    def test_histograms(self):
        """Latencies land in the translation and publish histograms."""
        metrics = BridgeMetrics()
        metrics.observe_translation(0.003)
        metrics.observe_publish(0.2)
        samples = scrape(metrics)
        assert 1.0 == samples[("bridge_translation_seconds_count", ())]
        assert 1.0 == samples[("bridge_publish_seconds_bucket", (("le", "0.25"),))]

    def test_store_gauges_read_at_scrape_time(self):
        """Outbox depth, oldest age, DLQ size and RC-REF overdue come from the snapshot callable on each scrape."""
        state = {"depth": 3}
        metrics = BridgeMetrics(snapshot=lambda: StoreSnapshot(state["depth"], 42.5, 2, 1))
        assert 3.0 == scrape(metrics)[("bridge_outbox_depth", ())]
        state["depth"] = 7
        samples = scrape(metrics)
        assert (7.0, 42.5, 2.0, 1.0) == (
            samples[("bridge_outbox_depth", ())], samples[("bridge_outbox_oldest_age_seconds", ())],
            samples[("bridge_dlq_size", ())], samples[("bridge_rcref_overdue", ())],
        )

    def test_failing_snapshot_does_not_break_the_scrape(self):
        """A store error drops the store gauges but the rest of /metrics still renders."""
        def broken():
            raise RuntimeError("database is locked")

        metrics = BridgeMetrics(snapshot=broken)
        samples = scrape(metrics)
        assert ("bridge_outbox_depth", ()) not in samples and ("bridge_broker_connected", ()) in samples

    def test_broker_state_pushed_or_pulled(self):
        """The broker gauge follows set_broker_connected, or the injected callable when given."""
        metrics = BridgeMetrics()
        metrics.set_broker_connected(True)
        assert 1.0 == scrape(metrics)[("bridge_broker_connected", ())]
        assert 0.0 == scrape(BridgeMetrics(broker_connected=lambda: False))[("bridge_broker_connected", ())]

    def test_mapping_version_info(self):
        """The mapping-table version is exposed as an info series."""
        metrics = BridgeMetrics()
        metrics.set_mapping_version("abc123")
        assert 1.0 == scrape(metrics)[("bridge_mapping_tables_info", (("version", "abc123"),))]

    def test_rcref_overdue_events(self):
        """Flagged RC-REF deadlines are counted."""
        metrics = BridgeMetrics()
        metrics.rcref_overdue(2)
        assert 2.0 == scrape(metrics)[("bridge_rcref_overdue_events_total", ())]

    def test_registries_are_independent(self):
        """Two instances never share series (no global registry)."""
        first, second = BridgeMetrics(), BridgeMetrics()
        first.message(direction="out", adapter="a", state="s")
        assert not any(name == "bridge_messages_total" for name, _ in scrape(second))


def test_message_counts_several_at_once():
    """One frame that becomes two Hub messages counts two."""
    from bridge.edges.metrics import BridgeMetrics

    metrics = BridgeMetrics()
    metrics.message(direction="out", adapter="legacy-text", state="received", count=2)
    value = metrics.registry.get_sample_value(
        "bridge_messages_total", {"direction": "out", "adapter": "legacy-text", "state": "received"})
    assert value == 2


def test_labelled_children_are_made_once_per_label_set(monkeypatch):
    """labels() (label formatting and a lock) once per label set, not once per count; the values still add up."""
    metrics = BridgeMetrics()
    made: list[tuple] = []
    for counter in (metrics.messages, metrics.values_altered, metrics.rs_errors):
        labels = counter.labels

        def spy(*args, _labels=labels, **kwargs):
            made.append(tuple(sorted(kwargs.items())))
            return _labels(*args, **kwargs)

        monkeypatch.setattr(counter, "labels", spy)
    for _ in range(3):
        metrics.message(direction="out", adapter="legacy-text", state="published")
        metrics.value_altered(direction="in", table="lrm-alpha-nature")
        metrics.rs_error(HubErrorCode.INVALID_MESSAGE)
    assert len(made) == 3
    samples = scrape(metrics)
    assert samples[("bridge_value_altered_total", (("direction", "in"), ("table", "lrm-alpha-nature")))] == 3.0
    assert samples[("bridge_rs_error_total", (("code", "300"),))] == 3.0

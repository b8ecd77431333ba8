"""Prometheus metrics of one bridge, in a registry of its own.

The service counts events as they happen (:meth:`BridgeMetrics.message`,
:meth:`rs_error`, the latency histograms); the gauges that describe the store
(outbox depth, oldest pending age, DLQ size, RC-REF overdue) are read from an
injected callable at scrape time, so they are never stale and the store is
queried only when Prometheus asks. No global registry: tests build as many
``BridgeMetrics`` as they like.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram, Info, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = structlog.get_logger("bridge.metrics")

TRANSLATION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
PUBLISH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    """What the store says at scrape time."""

    outbox_depth: int = 0
    oldest_pending_age_seconds: float = 0.0
    dlq_size: int = 0
    rcref_overdue: int = 0
    inbound_overdue: int = 0


class _ScrapeTimeGauges:
    """A collector that asks the store and the broker for their gauges on every scrape."""

    def __init__(self, snapshot: Callable[[], StoreSnapshot], broker_connected: Callable[[], bool]) -> None:
        self.snapshot = snapshot
        self.broker_connected = broker_connected

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "bridge_broker_connected", "1 when the Hub (AMQP) connection is open, else 0.", value=float(self._broker())
        )
        snap = self._snapshot()
        if snap is None:
            return
        yield GaugeMetricFamily("bridge_outbox_depth", "Outbound messages not yet published.", value=snap.outbox_depth)
        yield GaugeMetricFamily(
            "bridge_outbox_oldest_age_seconds", "Age of the oldest message waiting in the outbox.",
            value=snap.oldest_pending_age_seconds,
        )
        yield GaugeMetricFamily("bridge_dlq_size", "Dead letters not yet replayed.", value=snap.dlq_size)
        yield GaugeMetricFamily(
            "bridge_rcref_overdue", "Published messages still waiting for their RC-REF past the deadline.",
            value=snap.rcref_overdue,
        )
        yield GaugeMetricFamily(
            "bridge_inbound_overdue", "Hub messages still not handed to the LRM past the hand-over deadline.",
            value=snap.inbound_overdue,
        )

    def _broker(self) -> bool:
        try:
            return bool(self.broker_connected())
        except Exception:  # a scrape must never crash the bridge
            log.warning("metrics_broker_state_failed", exc_info=True)
            return False

    def _snapshot(self) -> StoreSnapshot | None:
        try:
            return self.snapshot()
        except Exception:  # the store gauges go missing, which alerts can detect (absent())
            log.warning("metrics_store_snapshot_failed", exc_info=True)
            return None


class BridgeMetrics:
    """Every metric the bridge exposes on ``/metrics``."""

    def __init__(
        self,
        *,
        snapshot: Callable[[], StoreSnapshot] = StoreSnapshot,
        broker_connected: Callable[[], bool] | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self._broker_state = False
        self.messages = Counter(
            "bridge_messages", "Messages by direction (in/out), adapter and state reached.",
            ("direction", "adapter", "state"), registry=self.registry,
        )
        self.translation_seconds = Histogram(
            "bridge_translation_seconds", "Time to translate one message.", buckets=TRANSLATION_BUCKETS,
            registry=self.registry,
        )
        self.publish_seconds = Histogram(
            "bridge_publish_seconds", "Time from publish to the broker's confirm.", buckets=PUBLISH_BUCKETS,
            registry=self.registry,
        )
        self.rs_errors = Counter("bridge_rs_error", "RS-ERROR messages received, by Hub error code.", ("code",), registry=self.registry)
        self.rcref_overdue_events = Counter(
            "bridge_rcref_overdue_events", "Messages flagged overdue for their RC-REF (each counted once).",
            registry=self.registry,
        )
        self.inbound_overdue_events = Counter(
            "bridge_inbound_overdue_events", "Hub messages flagged as not handed to the LRM in time (each once).",
            registry=self.registry,
        )
        self.hand_over_failures = Counter(
            "bridge_hand_over_failures", "Hub messages that could not be handed to the LRM and were dead-lettered.",
            registry=self.registry,
        )
        self.refused_inbound = Counter(
            "bridge_inbound_refused", "Hub deliveries refused before the inbox (misaddressed, spoofed, wrong queue).",
            ("reason",), registry=self.registry,
        )
        self.values_altered = Counter(
            "bridge_value_altered", "Values a translation altered (degraded code, fallback, omitted), by table.",
            ("direction", "table"), registry=self.registry,
        )
        self.group_commits = Counter(
            "bridge_store_commits", "Group COMMITs of the store (synchronous=FULL: one fsync each), however many"
            " transitions each made durable.", registry=self.registry,
        )
        self.mapping_tables = Info("bridge_mapping_tables", "Version of the mapping tables in use.", registry=self.registry)
        self._message_children: dict[tuple[str, str, str], Counter] = {}
        self._altered_children: dict[tuple[str, str], Counter] = {}
        self._rs_error_children: dict[str, Counter] = {}
        self.registry.register(_ScrapeTimeGauges(snapshot, broker_connected or (lambda: self._broker_state)))

    def message(self, *, direction: str, adapter: str, state: str, count: int = 1) -> None:
        """Count ``count`` messages reaching ``state``.

        The labelled child is kept: ``labels()`` costs more than ``inc()`` and the
        service counts three to six times per message on its hot path.
        """
        key = (direction, adapter, state)
        child = self._message_children.get(key)
        if child is None:
            child = self._message_children[key] = self.messages.labels(direction=direction, adapter=adapter,
                                                                       state=state)
        child.inc(count)

    def observe_translation(self, seconds: float) -> None:
        self.translation_seconds.observe(seconds)

    def observe_publish(self, seconds: float) -> None:
        self.publish_seconds.observe(seconds)

    def rs_error(self, code: int | str) -> None:
        """Count one RS-ERROR received from the Hub."""
        label = str(int(code)) if not isinstance(code, str) else code
        child = self._rs_error_children.get(label)
        if child is None:
            child = self._rs_error_children[label] = self.rs_errors.labels(code=label)
        child.inc()

    def value_altered(self, *, direction: str, table: str) -> None:
        """Count one value altered on the way (``in``: towards the LRM, ``out``: towards the Hub); several per
        message when a sheet's codes fall back, so the labelled child is kept like :meth:`message`'s."""
        key = (direction, table)
        child = self._altered_children.get(key)
        if child is None:
            child = self._altered_children[key] = self.values_altered.labels(direction=direction, table=table)
        child.inc()

    def rcref_overdue(self, count: int = 1) -> None:
        """Count messages newly flagged as missing their RC-REF."""
        self.rcref_overdue_events.inc(count)

    def inbound_overdue(self, count: int = 1) -> None:
        """Count inbound messages newly flagged as waiting too long for the LRM."""
        self.inbound_overdue_events.inc(count)

    def hand_over_failed(self) -> None:
        """Count one inbound message dead-lettered because the hand-over to the LRM failed."""
        self.hand_over_failures.inc()

    def inbound_refused(self, reason: str) -> None:
        """Count one Hub delivery refused before the inbox, by short reason."""
        self.refused_inbound.labels(reason=reason).inc()

    def group_committed(self) -> None:
        """Count one group COMMIT (its transitions: frames taken in, confirms, RC-REFs, hand-overs...)."""
        self.group_commits.inc()

    def set_broker_connected(self, connected: bool) -> None:
        """Record the broker state (used when no ``broker_connected`` callable was given)."""
        self._broker_state = connected

    def set_mapping_version(self, version: str) -> None:
        self.mapping_tables.info({"version": version})

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type, for ``/metrics``."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

"""One bad inbound message never blocks the LRM inbox; none stays ``received`` without an alarm (issue 12, item 2)."""

from __future__ import annotations

import json

from structlog.testing import capture_logs

from bridge.edges.metrics import BridgeMetrics
from bridge.testing.hostile_cases import hub_create_case, hub_delivery

create_case = hub_create_case
delivery = hub_delivery


def _inbound(rig) -> dict[str, int]:
    return rig.states("in")


class TestPoisonMessageIsIsolated:
    def test_stx_in_a_note_is_dead_lettered_and_the_next_message_is_delivered(self, rig):
        """The STX/ETX link cannot carry STX: that message is parked, answered with RS-ERROR, the next one flows."""
        poison = create_case(1, "avant \x02 milieu \x03 apres")
        with capture_logs() as logs:
            rig.settled(rig.service.on_hub_message(delivery(poison)))  # nothing escapes to the consumer
        [entry] = rig.store.dlq_list()
        assert entry.original == poison
        assert entry.direction.value == "in"
        assert "STX" in entry.error and entry.error_path == "/hand-over"
        assert any(e["event"] == "inbound_hand_over_failed" and e["log_level"] == "error" for e in logs)
        rig.settled(rig.service.on_hub_message(delivery(create_case(2), tag=2)))
        rig.run(1.0)
        assert len(rig.lrm.sent) == 1
        assert _inbound(rig) == {"dead_lettered": 1, "acked": 1}
        [error] = rig.simulator.errors  # the sender learns its message did not reach the LRM
        assert error["errorCode"]["statusCode"] == 700
        assert error["referencedDistributionID"] == json.loads(poison)["distributionID"]

    def test_a_poison_message_waiting_in_the_inbox_does_not_block_the_flush(self, rig):
        """LRM away: both wait; on reconnection the poison one is parked and the good one still handed over."""
        rig.lrm.connected = False
        rig.settled(rig.service.on_hub_message(delivery(create_case(3, "x\x02y"))))
        rig.settled(rig.service.on_hub_message(delivery(create_case(4), tag=2)))
        assert _inbound(rig) == {"received": 2}
        rig.lrm.connected = True
        rig.service.on_lrm_connected()
        rig.run(1.0)
        assert _inbound(rig) == {"dead_lettered": 1, "acked": 1}
        assert len(rig.lrm.sent) == 1

    def test_a_mapping_failure_does_not_stop_the_flush_either(self, rig, monkeypatch):
        """Any exception out of the translation is per message, BridgeError or not."""
        rig.lrm.connected = False
        rig.settled(rig.service.on_hub_message(delivery(create_case(5))))
        rig.settled(rig.service.on_hub_message(delivery(create_case(6), tag=2)))
        real = rig.service.translator.to_legacy

        def flaky(received, *args):
            if received.payload.get("caseId", "").endswith("CASE-5"):
                raise KeyError("bug in a mapping")
            return real(received, *args)

        monkeypatch.setattr(rig.service.translator, "to_legacy", flaky)
        real_result = rig.service.translator.to_legacy_result

        def flaky_result(received, *args):  # the service reads the warnings too (issue 13): same fault there
            if received.payload.get("caseId", "").endswith("CASE-5"):
                raise KeyError("bug in a mapping")
            return real_result(received, *args)

        monkeypatch.setattr(rig.service.translator, "to_legacy_result", flaky_result)
        rig.lrm.connected = True
        rig.service.on_lrm_connected()
        rig.run(1.0)
        assert _inbound(rig) == {"dead_lettered": 1, "acked": 1}
        [entry] = rig.store.dlq_list()
        assert "KeyError" in entry.error


class TestNothingStaysReceivedSilently:
    def test_a_message_waiting_past_the_deadline_raises_an_alarm(self, rig):
        """LRM away for longer than the hand-over deadline: ERROR log, metric, console figure."""
        rig.service.metrics = metrics = BridgeMetrics()
        rig.lrm.connected = False
        rig.settled(rig.service.on_hub_message(delivery(create_case(7))))
        with capture_logs() as logs:
            rig.run(rig.service.settings.handover_deadline.total_seconds() + 2, step=0.5)
        alarms = [e for e in logs if e["event"] == "inbound_not_handed_over"]
        assert len(alarms) == 1 and alarms[0]["log_level"] == "error"
        assert metrics.registry.get_sample_value("bridge_inbound_overdue_events_total") == 1.0
        assert len(rig.store.inbound_waiting_since(rig.now() - rig.service.settings.handover_deadline)) == 1


class TestShutdown:
    def test_no_store_call_after_stop(self, rig):
        """Hand-over marks and RC-REF confirms that land after stop() must not touch a closed store."""
        rig.service.on_hub_message(delivery(create_case(8)))
        assert rig.lrm.sent  # written; its mark is two reactor turns away, the commit one
        rig.service.stop()
        rig.store.close()
        rig.run(1.0)  # task.Clock re-raises what a delayed call raises: ProgrammingError before the fix


def test_the_rs_error_is_sent_again_when_the_hub_was_away(rig):
    """The hand-over failed while the Hub link was reconnecting: the RS-ERROR goes once the link is back."""
    rig.client.state = "connecting"
    real_publish = rig.client.publish

    def refuse(*args, **kwargs):
        if rig.client.state != "connected":
            raise ConnectionError("not connected to the Hub (connecting)")
        return real_publish(*args, **kwargs)

    rig.client.publish = refuse
    rig.settled(rig.service.on_hub_message(delivery(create_case(9, "x\x02y"))))
    rig.run(0.5)
    assert rig.simulator.errors == []
    rig.client.state = "connected"
    rig.run(1.0)
    assert [e["errorCode"]["statusCode"] for e in rig.simulator.errors] == [700]


def test_the_console_and_the_gauge_count_every_waiting_message(rig):
    """The provider's figure is a count, not the length of a capped list."""
    from bridge.edges.http.provider import StoreConsoleProvider

    rig.lrm.connected = False
    for n in range(3):
        rig.settled(rig.service.on_hub_message(delivery(create_case(40 + n), tag=n + 1)))
    provider = StoreConsoleProvider(rig.store, clock=lambda: rig.now() + rig.service.settings.handover_deadline * 2)
    assert provider.summary()["inbound_overdue"] == 3
    assert provider.metrics_snapshot().inbound_overdue == 3

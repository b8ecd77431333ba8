"""The service's rules, driven by a fake clock: store before ack, inbox before RC-REF, nothing twice."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from twisted.internet import task

from bridge.core.envelope import make_error, wrap
from bridge.core.errors import HubErrorCode
from bridge.core.nexsis_rules import PeerRules
from bridge.demo import demo_frame
from bridge.edges.amqp.consumer import Delivery
from bridge.edges.inprocess_hub import InProcessHub
from bridge.edges.store.sqlite import Store
from bridge.hub_bodies import encode_hub_body
from bridge.nexsis_sim import NexsisSimulator
from bridge.profiles import build_context, load_profile
from bridge.service import BridgeService, ServiceSettings
from bridge.translator import PipelineTranslator

SAMU, SDIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"
START = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


class FakeLrm:
    """The legacy side: records what the bridge hands over, can be 'disconnected'."""

    def __init__(self) -> None:
        self.connected = True
        self.sent: list[bytes] = []

    def send(self, payload: bytes) -> None:
        assert self.connected
        self.sent.append(payload)


class Rig:
    def __init__(self, tmp_path, *, max_pending: int = 100, peer_listening: bool = True) -> None:
        self.clock = task.Clock()
        self.now = lambda: START + timedelta(seconds=self.clock.seconds())
        self.store = Store.open(tmp_path / "s.sqlite3", max_pending=max_pending)
        profile = load_profile("lrm-alpha-text")
        translator = PipelineTranslator(profile, build_context(sender_id=SAMU, recipient_id=SDIS), clock=self.now)
        self.service = BridgeService(ServiceSettings(client_id=SAMU, recipient_id=SDIS), reactor=self.clock,
                                     store=self.store, translator=translator, clock=self.now,
                                     new_uuid=lambda: str(uuid.uuid4()))
        self.hub = InProcessHub([SAMU, SDIS], lambda body: [], clock=self.now, reactor=self.clock)
        self.simulator = NexsisSimulator(PeerRules(own_id=SDIS), self.clock, clock=self.now)
        sim_client = self.hub.client(SDIS, on_message=self.simulator.on_message, on_ack=self.simulator.on_ack,
                                     on_info=self.simulator.on_info)
        self.simulator.attach(sim_client)
        self.client = self.hub.client(SAMU, on_message=self.service.on_hub_message,
                                      on_ack=self.service.on_hub_ack, on_info=self.service.on_hub_info)
        self.lrm = FakeLrm()
        self.service.attach(hub=self.client, legacy=self.lrm)
        if peer_listening:
            sim_client.start()
        self.client.start()
        self.service.start()

    def run(self, seconds: float = 2.0, step: float = 0.05) -> None:
        for _ in range(int(seconds / step)):
            self.clock.advance(step)

    def states(self, direction: str = "out") -> dict[str, int]:
        return {state: n for (d, state), n in self.store.counts().items() if d == direction}


def settled(rig, reply):
    """The value a reply Deferred fires with once the commit window has closed."""
    box = []
    reply.addBoth(box.append) if hasattr(reply, "addBoth") else box.append(reply)
    rig.clock.advance(0.01)
    assert box, "the reply did not fire after the commit window"
    return box[0]


@pytest.fixture
def rig(tmp_path):
    rig = Rig(tmp_path)
    yield rig
    rig.service.stop()
    rig.store.close()


class TestLegacyToHub:
    def test_frame_is_stored_before_the_ack_then_delivered_and_answered(self, rig):
        """The ack comes back only once both Hub messages are stored; RC-REF and answer close the loop."""
        reply = rig.service.on_legacy_frame(demo_frame(1))
        fired = []
        reply.addCallback(lambda value: fired.append(value) or value)
        assert fired == []  # not before the group commit
        assert rig.states() == {"translated": 2}
        assert settled(rig, reply) == b"ACK=DEMO-000001"
        rig.run()
        assert rig.states() == {"delivered": 1, "answered": 1}
        assert len(rig.lrm.sent) == 1 and b"REPONSE=ACC" in rig.lrm.sent[0]

    def test_untranslatable_frame_is_dead_lettered_with_its_bytes(self, rig):
        """A frame that cannot be read is parked with its original bytes and the failing line, never lost."""
        bad = demo_frame(2).replace(b"DATE_APPEL=20261125100000", b"DATE_APPEL=hier")
        settled(rig, rig.service.on_legacy_frame(bad))
        [entry] = rig.store.dlq_list()
        assert entry.original == bad
        assert entry.error_path == "line 2"
        assert rig.states() == {}

    def test_full_store_answers_the_profile_nack(self, tmp_path):
        """Back-pressure: past max_pending the LRM gets a NACK, and what was stored stays."""
        rig = Rig(tmp_path, max_pending=2)
        rig.service.hub = None  # the Hub is away: nothing drains the outbox
        try:
            assert settled(rig, rig.service.on_legacy_frame(demo_frame(1))).startswith(b"ACK")
            reply = settled(rig, rig.service.on_legacy_frame(demo_frame(2)))
            assert reply.startswith(b"NACK=DEMO-000002;FULL")
            assert rig.states() == {"translated": 2}
        finally:
            rig.service.stop()
            rig.store.close()


class TestRcRefDeadline:
    def test_message_without_rcref_is_flagged_not_forgotten(self, tmp_path):
        """Past the RC-REF deadline a published message is flagged overdue and stays published."""
        rig = Rig(tmp_path, peer_listening=False)
        try:
            settled(rig, rig.service.on_legacy_frame(demo_frame(6)))
            rig.run(1.0)
            assert rig.states() == {"published": 2}  # confirmed by the Hub, no RC-REF from the silent peer
            assert rig.store.overdue_rcref(rig.now()) == []
            rig.run(61.0, step=0.5)
            overdue = rig.store.overdue_rcref(rig.now())
            assert [m.distribution_id for m in overdue] != []
            assert all(rig.store.get(m.id).rcref_overdue_at is not None for m in overdue)
            assert rig.states() == {"published": 2}
        finally:
            rig.service.stop()
            rig.store.close()


class TestHubToLegacy:
    def _answer_delivery(self, rig) -> Delivery:
        """Run one case through and capture the NexSIS answer as it reached us."""
        captured = []
        original = rig.service.on_hub_message

        def spy(delivery):
            captured.append(delivery)
            return original(delivery)

        rig.client.on_message = spy
        rig.client.start()
        rig.service.on_legacy_frame(demo_frame(3))
        rig.run()
        return captured[0]

    def test_duplicate_delivery_is_not_applied_twice(self, rig):
        """The Hub does not deduplicate: the same distributionID reaches the LRM once."""
        delivery = self._answer_delivery(rig)
        assert len(rig.lrm.sent) == 1
        rig.service.on_hub_message(delivery)
        rig.service.on_hub_message(delivery)
        assert len(rig.lrm.sent) == 1

    def test_message_waits_in_the_inbox_while_the_lrm_is_away(self, rig):
        """With no LRM connected the answer is kept, then handed over (and acknowledged) on reconnection."""
        rig.lrm.connected = False
        rig.service.on_legacy_frame(demo_frame(4))
        rig.run()
        assert rig.lrm.sent == []
        assert rig.states("in") == {"received": 1}
        rig.lrm.connected = True
        rig.service.on_lrm_connected()
        rig.run()
        assert len(rig.lrm.sent) == 1
        assert rig.states("in") == {"acked": 1}

    def test_rs_error_marks_our_message_failed_and_dead_letters_it(self, rig):
        """An RS-ERROR naming one of our distributionIDs fails that message with the Hub's code."""
        rig.service.hub = None  # not published yet: the RS-ERROR overtakes the broker confirm
        settled(rig, rig.service.on_legacy_frame(demo_frame(5)))
        [msg] = [m for m in rig.store.recent(10) if m.direction == "out"][:1]
        error = wrap("error", make_error(HubErrorCode.INVALID_MESSAGE, "schema says no", None, msg.distribution_id),
                     sender_id="fr.health.hub", recipient_id=SAMU, now=rig.now(), message_uuid=str(uuid.uuid4()),
                     kind="Error")
        rig.service.on_hub_info(Delivery(body=encode_hub_body(error), queue=f"{SAMU}.info", routing_key="",
                                         content_type="application/json", delivery_mode=2, redelivered=False,
                                         delivery_tag=1))
        failed = rig.store.get(msg.id)
        assert failed.hub_error_code == 300
        assert "schema says no" in failed.last_error


class TestXmlOnTheWire:
    def test_bridge_publishing_xml_is_understood_both_ways(self, tmp_path):
        """With content_type XML the Hub messages are EDXL-DE XML, and the loop still closes."""
        rig = Rig(tmp_path)
        try:
            rig.service.settings.content_type = "application/xml"
            settled(rig, rig.service.on_legacy_frame(demo_frame(8)))
            sent = [m for m in rig.store.recent(10) if m.direction == "out"]
            assert all(m.translated.startswith(b"<?xml") and m.content_type == "application/xml" for m in sent)
            rig.run()
            assert rig.states() == {"delivered": 1, "answered": 1}
            assert len(rig.lrm.sent) == 1
        finally:
            rig.service.stop()
            rig.store.close()

"""The service's rules, driven by a fake clock: store before ack, inbox before RC-REF, nothing twice."""

from __future__ import annotations

import uuid

from bridge.core.edxl import make_error, wrap
from bridge.core.errors import HubErrorCode
from bridge.edges.amqp.consumer import Delivery
from bridge.refdata.hub_bodies import encode_hub_body
from bridge.runtime.demo import demo_frame
from bridge.testing.rig import SAMU, Rig


def settled(rig, reply):
    """The value a reply Deferred fires with once the commit window has closed."""
    return rig.settled(reply)


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


    def test_a_store_that_cannot_take_the_frame_is_not_called_full(self, rig, monkeypatch):
        """Disk full, locked, a group lost: the LRM hears STORE (retry), and the log says the store failed, not
        that the outbox is full (an operator would chase back-pressure settings for a disk problem)."""
        from structlog.testing import capture_logs

        from bridge.app.records import StoreUnavailable

        def unavailable(*args, **kwargs):
            raise StoreUnavailable("database or disk is full")

        monkeypatch.setattr(rig.store, "accept_legacy_frame", unavailable)
        with capture_logs() as logs:
            reply = settled(rig, rig.service.on_legacy_frame(demo_frame(3)))
        assert reply.startswith(b"NACK=DEMO-000003;STORE")
        events = [entry["event"] for entry in logs]
        assert "store_unavailable_nack" in events and "outbox_full_nack" not in events
        assert rig.states() == {}

    def test_answer_comes_back_with_the_lrm_own_codes(self, rig):
        """The answer frame is the LRM's own case sheet plus the answer, not codes read back from EMSI."""
        rig.settled(rig.service.on_legacy_frame(demo_frame(9)))
        rig.run()
        [answer] = rig.lrm.sent
        assert b"NATURE=CHUT" in answer and b"MOTIF=RELEV" in answer and b"REPONSE=ACC" in answer


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

"""Peers are not trusted blindly: answers correlate with our request's recipient, addressing is checked (issue 12, item 4)."""

from __future__ import annotations

import uuid

import pytest

from bridge.core.edxl import make_reference, unwrap, wrap
from bridge.refdata.hub_bodies import decode_hub_body, encode_hub_body
from bridge.runtime.demo import demo_frame
from bridge.sim.nexsis_rules import PeerRules, replies_for
from bridge.testing.hostile_cases import NOW, hub_create_case, hub_delivery
from bridge.testing.rig import SAMU, SDIS, Rig

STRANGER = "fr.fire.nexsis.sdis29"


@pytest.fixture
def rig(tmp_path):
    rig = Rig(tmp_path, peer_listening=False)  # the real peer stays silent: only our forged messages arrive
    yield rig
    rig.close()


def _our_emsi_request(rig) -> dict:
    rig.settled(rig.service.on_legacy_frame(demo_frame(31)))
    rig.run(0.5)
    [request] = [m for m in rig.store.recent(10) if m.direction.value == "out" and b'"emsi"' in m.translated]
    return decode_hub_body(request.translated, request.content_type)


def _refused(rig, reason: str) -> None:
    [entry] = rig.store.dlq_list()
    assert entry.direction.value == "in" and reason in entry.error and entry.error_path
    assert rig.states("in") == {}
    assert rig.lrm.sent == []


def test_an_emsi_answer_from_a_client_that_was_not_the_recipient_is_refused(rig):
    """Our request went to SDIS 44; an 'answer' from SDIS 29 linking to it is dead-lettered, not applied."""
    request = _our_emsi_request(rig)
    [answer] = [r.message for r in replies_for(unwrap(request), PeerRules(own_id=STRANGER), now=NOW,
                                               new_uuid=lambda: str(uuid.uuid4()))
                if b"REPONSE_DEMANDE_CONCOURS" in encode_hub_body(r.message)]
    rig.settled(rig.service.on_hub_message(hub_delivery(encode_hub_body(answer))))
    _refused(rig, f"comes from '{STRANGER}'")
    assert "answered" not in rig.states("out")


def test_a_message_addressed_to_another_client_is_refused(rig):
    rig.settled(rig.service.on_hub_message(hub_delivery(hub_create_case(32, recipient=STRANGER))))
    _refused(rig, f"addressed to '{STRANGER}'")


def test_a_message_claiming_to_come_from_us_is_refused(rig):
    rig.settled(rig.service.on_hub_message(hub_delivery(hub_create_case(33, sender=SAMU))))
    _refused(rig, "claims to come from us")


def test_header_sender_must_match_the_envelope(rig):
    rig.settled(rig.service.on_hub_message(hub_delivery(hub_create_case(34, envelope_sender=STRANGER))))
    _refused(rig, "differs from the envelope senderID")


def test_a_create_case_on_our_ack_queue_is_dead_lettered_not_dropped(rig):
    body = hub_create_case(35)
    rig.settled(rig.service.on_hub_ack(hub_delivery(body, "ack")))
    _refused(rig, "a createCase message on our .ack queue")
    assert rig.store.dlq_list()[0].original == body


def test_an_rcref_on_our_message_queue_is_dead_lettered(rig):
    ref = wrap("reference", make_reference(f"{SAMU}_{uuid.uuid4()}"), sender_id=SDIS, recipient_id=SAMU, now=NOW,
               message_uuid=uuid.uuid4(), kind="Ack")
    rig.settled(rig.service.on_hub_message(hub_delivery(encode_hub_body(ref))))
    _refused(rig, "a reference message on our .message queue")


def test_an_rcref_from_a_stranger_does_not_mark_our_message_delivered(rig):
    request = _our_emsi_request(rig)
    ref = wrap("reference", make_reference(request["distributionID"]), sender_id=STRANGER, recipient_id=SAMU,
               now=NOW, message_uuid=uuid.uuid4(), kind="Ack")
    rig.settled(rig.service.on_hub_ack(hub_delivery(encode_hub_body(ref), "ack")))
    [entry] = rig.store.dlq_list()
    assert f"comes from '{STRANGER}'" in entry.error
    assert "delivered" not in rig.states("out")


def test_an_rcref_from_the_recipient_marks_delivered_without_re_reading_our_own_message(rig, monkeypatch):
    """The recipient check reads our stored envelope's address; only the RC-REF itself is unwrapped and checked."""
    request = _our_emsi_request(rig)
    ref = wrap("reference", make_reference(request["distributionID"]), sender_id=SDIS, recipient_id=SAMU,
               now=NOW, message_uuid=uuid.uuid4(), kind="Ack")
    reads: list[bytes] = []
    real_read = rig.service._read
    monkeypatch.setattr(rig.service, "_read", lambda body, ct: reads.append(body) or real_read(body, ct))
    rig.settled(rig.service.on_hub_ack(hub_delivery(encode_hub_body(ref), "ack")))
    assert rig.store.find(request["distributionID"]).state.value == "delivered"
    assert reads == [encode_hub_body(ref)]
    assert rig.store.dlq_list() == []


def _rs_error(rig, referenced: str, cause: str) -> bytes:
    from bridge.core.edxl import make_error
    from bridge.core.errors import HubErrorCode

    error = wrap("error", make_error(HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT, cause, None, referenced),
                 sender_id="fr.health.hub", recipient_id=SAMU, now=NOW, message_uuid=uuid.uuid4(), kind="Error")
    return encode_hub_body(error)


def test_an_unreferenced_rs_error_is_matched_on_our_id_quoted_in_its_cause(rig):
    """No referencedDistributionID, but the cause quotes our distributionID: that message fails at once."""
    request = _our_emsi_request(rig)
    body = _rs_error(rig, "", f"could not read body of {request['distributionID']}")
    rig.service.on_hub_info(hub_delivery(body, "info"))
    assert rig.store.find(request["distributionID"]).state.value == "dead_lettered"


def test_an_unreferenced_rs_error_without_evidence_is_dead_lettered_for_the_operator(rig):
    """Nothing to match: the RS-ERROR itself is parked (never dropped) and our messages are not guessed at."""
    _our_emsi_request(rig)
    body = _rs_error(rig, "", "unreadable body")
    rig.service.on_hub_info(hub_delivery(body, "info"))
    [entry] = rig.store.dlq_list()
    assert entry.original == body and "names none of our messages" in entry.error and entry.hub_error_code == 102
    assert rig.states("out") == {"published": 2}

"""The running service with a health-model LRM (profile ``lrm-health-json``): RS-RI and RS-SR frames reach NexSIS
as RC-RI, an RS-SR merged onto the case's resources the store knows (docs/health.md), and NexSIS's RC-RI reaches
the LRM as RS-RI.

On the rig (real service, real SQLite store, in-process Hub, fake clock): a status for a resource the bridge
has told NexSIS about goes out as an RC-RI listing every known resource with its latest status; a status for
a case or resource it does not know is dead-lettered with the reason and NACKed; a repeated status sends
nothing; the merge is in the message's history.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import simplejson

from bridge.core.edxl import unwrap, wrap
from bridge.edges.amqp.consumer import Delivery
from bridge.refdata.hub_bodies import decode_hub_body, encode_hub_body
from bridge.testing.rig import SAMU, SDIS, Rig
from tests.health_corpus import REF, example

pytestmark = pytest.mark.skipif(REF is None, reason="official Hub Santé corpus not found (set $HUB_REFERENCE)")
CASE = "fr.fire.sis044.cga-044.SC-20240526-044-cga-AL8"
VLM4 = "fr.health.samu440.resource.VLM4"


@pytest.fixture
def rig(tmp_path: Path):
    rig = Rig(tmp_path, profile="lrm-health-json")
    yield rig
    rig.close()


def _status(name: str) -> bytes:
    return example("RS-SR", f"RS-SR_FemmeEnceinte_DelphineVIGNEAU.{name}.json")


RS_RI = "RS-RI_FemmeEnceinte_DelphineVigneau.03.json"


def _sent_rc_ri(rig: Rig) -> list[dict]:
    """The RC-RI payloads the bridge stored for NexSIS, in order."""
    found = []
    for msg in rig.store.search(direction="out", limit=None):
        message = unwrap(decode_hub_body(msg.translated, msg.content_type))
        if message.payload_name == "resourcesInfoCisu":
            found.append(message.payload)
    return found


def test_status_is_merged_onto_the_known_resources_and_sent_as_rc_ri(rig: Rig) -> None:
    assert rig.settled(rig.service.on_legacy_frame(example("RS-RI", RS_RI))) == f"ACK;{CASE}".encode()
    reply = rig.settled(rig.service.on_legacy_frame(_status("07")))
    assert reply == f"ACK;{CASE}".encode()
    first, merged = _sent_rc_ri(rig)
    assert first["resource"][0]["state"]["status"] == "DECLENCHE"
    (res,) = merged["resource"]
    assert res["resourceId"] == VLM4 and res["state"] == {"datetime": "2024-05-26T13:32:00+02:00", "status": "ARRIVEE"}
    assert res["vehicleType"] == "SMUR" and res["team"] == first["resource"][0]["team"]  # carried from the RS-RI
    out = rig.store.search(direction="out", limit=None)
    assert [m.case_id for m in out] == [CASE, CASE]
    notes = [e.detail for e in rig.store.history(out[-1].id) if e.event == "mapping_notes"]
    assert notes and "resources-merged" in notes[0] and "DECLENCHE" in notes[0] and "ARRIVEE" in notes[0]
    rig.run(2.0)
    assert rig.states() == {"delivered": 2}  # published in order, acknowledged by NexSIS (RC-REF)


def test_successive_statuses_in_one_turn_are_merged_in_arrival_order(rig: Rig) -> None:
    """RS-RI, then three statuses before any commit: each sees the one before it (same open transaction)."""
    replies = [rig.service.on_legacy_frame(f) for f in (example("RS-RI", RS_RI), _status("04"), _status("07"),
                                                        _status("09"))]
    assert [rig.settled(r) for r in replies] == [f"ACK;{CASE}".encode()] * 4
    statuses = [p["resource"][0]["state"]["status"] for p in _sent_rc_ri(rig)]
    assert statuses == ["DECLENCHE", "DEPART", "ARRIVEE", "RETOUR"]


def test_status_for_an_unknown_case_is_dead_lettered_and_nacked(rig: Rig) -> None:
    reply = rig.settled(rig.service.on_legacy_frame(_status("07")))
    assert reply.startswith(f"NACK;{CASE};702;".encode()) and VLM4.encode() in reply
    [entry] = rig.store.dlq_list()
    assert entry.original == _status("07") and "RS-RI first" in entry.error
    assert _sent_rc_ri(rig) == []


def test_status_for_a_resource_the_case_does_not_have_is_refused(rig: Rig) -> None:
    rig.settled(rig.service.on_legacy_frame(example("RS-RI", RS_RI)))
    document = simplejson.loads(_status("07"), parse_float=Decimal)
    document["resourcesStatus"]["resourceId"] = "fr.health.samu440.resource.VLM9"
    reply = rig.settled(rig.service.on_legacy_frame(json.dumps(document, default=str).encode()))
    assert reply.startswith(b"NACK;") and b"702" in reply and b"VLM9" in reply
    assert len(_sent_rc_ri(rig)) == 1  # nothing invented for VLM9


def test_repeated_status_sends_nothing_and_is_acked(rig: Rig) -> None:
    rig.settled(rig.service.on_legacy_frame(example("RS-RI", RS_RI)))
    rig.settled(rig.service.on_legacy_frame(_status("07")))
    again = _status("07").replace(b"{", b"{ ", 1)  # other bytes (not the intake's duplicate), the same status
    assert rig.settled(rig.service.on_legacy_frame(again)) == f"ACK;{CASE}".encode()
    assert rig.settled(rig.service.on_legacy_frame(_status("07"))) == f"ACK;{CASE}".encode()  # the same bytes
    assert len(_sent_rc_ri(rig)) == 2


def test_replayed_status_is_merged_once_the_case_is_known(rig: Rig) -> None:
    """Dead-lettered before its RS-RI; replayed after: it goes out merged."""
    rig.settled(rig.service.on_legacy_frame(_status("07")))
    rig.settled(rig.service.on_legacy_frame(example("RS-RI", RS_RI)))
    [entry] = rig.store.dlq_list()
    rig.store.requeue_dead_letter(entry.id, at=rig.now())
    rig.run(1.0)
    assert [p["resource"][0]["state"]["status"] for p in _sent_rc_ri(rig)] == ["DECLENCHE", "ARRIVEE"]


def test_nexsis_rc_ri_reaches_the_health_lrm_as_rs_ri(rig: Rig) -> None:
    payload = simplejson.loads(example("RC-RI", "RC-RI_FemmeEnceinte_DelphineVigneau.02.json"),
                               parse_float=Decimal)["resourcesInfoCisu"]
    message = wrap("resourcesInfoCisu", payload, sender_id=SDIS, recipient_id=SAMU, now=rig.now(),
                   message_uuid=str(uuid.uuid4()))
    delivery = Delivery(body=encode_hub_body(message), queue=f"{SAMU}.message", routing_key=SAMU,
                        content_type="application/json", delivery_mode=2, redelivered=False, delivery_tag=1)
    rig.settled(rig.service.on_hub_message(delivery))
    rig.run(0.5)
    (sent,) = rig.lrm.sent
    document = simplejson.loads(sent, parse_float=Decimal)
    assert list(document) == ["resourcesInfo"]
    (res,) = document["resourcesInfo"]["resource"]
    assert res["resourceId"] == payload["resource"][0]["resourceId"] and res["state"][0]["status"] == "DECLENCHE"
    assert rig.states("in") == {"acked": 1}


@pytest.mark.parametrize("frame", [
    b'{"resourcesStatus": {"caseId": "' + b"C" * 200_000 + b'", "resourceId": "R", "state": {"datetime": "x", '
    b'"status": "DEPART"}}}',
    b'{"resourcesStatus": {"caseId": "c", "resourceId": "r", "state": {"datetime": 1e-999999999, "status": NaN}}}',
    b'{"resourcesStatus": [1, 2, 3]}',
    b'{"resourcesInfo": {"caseId": "c", "resource": {"not": "a list"}}}',
    b'{"resourcesStatus": ',
], ids=["200kB-case-id", "hostile-numbers", "wrong-shape", "resources-not-a-list", "truncated"])
def test_hostile_resource_frames_are_refused_and_parked(rig: Rig, frame: bytes) -> None:
    """Whatever a health LRM sends as RS-SR / RS-RI: a NACK, a dead letter with its bytes, nothing sent."""
    reply = rig.settled(rig.service.on_legacy_frame(frame))
    assert reply.startswith(b"NACK;") and len(reply) < 1000
    [entry] = rig.store.dlq_list()
    assert entry.original == frame and entry.error
    assert _sent_rc_ri(rig) == []


def test_resources_nexsis_refused_are_not_known(rig: Rig) -> None:
    """An RC-RI the Hub refused (RS-ERROR) told NexSIS nothing: a status for its resource is refused, not merged."""
    rig.settled(rig.service.on_legacy_frame(example("RS-RI", RS_RI)))
    [sent] = rig.store.search(direction="out", limit=None)
    rig.store.mark_failed(sent.distribution_id, hub_code=300, reason="invalid", at=rig.now())
    reply = rig.settled(rig.service.on_legacy_frame(_status("07")))
    assert reply.startswith(f"NACK;{CASE};702;".encode())


# ---- RS-EDA-MAJ: a health case update merged onto the case as last sent (docs/health.md) -------------------------
GAS = "fr.health.samu440.DRFR154402413800236"
GAS_EDA = ("RS-EDA", "RS-EDA-SMUR_FuiteDeGaz_AliceGregoireNormand.01.json")


def _gas_update(step: str) -> bytes:
    return example("RS-EDA-MAJ", f"RS-EDA-MAJ_FuiteDeGaz_AliceGregoireNormand.{step}.json")


def _sent_cases(rig: Rig) -> list[tuple[str, dict]]:
    """(EDXL kind, createCase payload) of every RC-EDA the bridge stored for NexSIS, in order."""
    found = []
    for msg in rig.store.search(direction="out", limit=None):
        message = unwrap(decode_hub_body(msg.translated, msg.content_type))
        if message.payload_name == "createCase":
            found.append((message.kind, message.payload))
    return found


def _update_with_location(step: str) -> bytes:
    """An official RS-EDA-MAJ that also moves the case (a new address and city): what the fire side must see."""
    document = simplejson.loads(_gas_update(step), parse_float=Decimal)
    document["createCaseHealthUpdate"]["location"] = {
        "detailedAddress": {"complete": "5 Rue des Marins", "wayName": {"complete": "Rue des Marins"}, "number": "5"},
        "city": {"name": "Bouaye", "inseeCode": "44018"}}
    return json.dumps(document, default=str, ensure_ascii=False).encode()


def test_case_update_is_merged_onto_the_case_as_last_sent(rig: Rig) -> None:
    """RS-EDA, then an RS-EDA-MAJ carrying only what changed: NexSIS gets a complete RC-EDA (before: refused)."""
    assert rig.settled(rig.service.on_legacy_frame(example(*GAS_EDA))).startswith(b"ACK;")
    reply = rig.settled(rig.service.on_legacy_frame(_update_with_location("07")))
    assert reply.startswith(b"ACK;"), reply
    (first_kind, first), (kind, merged) = _sent_cases(rig)
    assert (first_kind, kind) == ("Report", "Update")
    assert merged["qualification"] == first["qualification"]  # carried from the case as sent: never in the update
    assert merged["creation"] == first["creation"] and merged["caseId"] == GAS == first["caseId"]
    assert merged["location"]["detailedAddress"]["number"] == "5"  # the update wins
    assert merged["location"]["city"] == first["location"]["city"]
    out = rig.store.search(direction="out", limit=None)
    assert [m.case_id for m in out] == [GAS, GAS]
    notes = [e.detail for e in rig.store.history(out[-1].id) if e.event == "mapping_notes"]
    assert notes and "case-merged" in notes[0] and "location.number" in notes[0]
    assert "qualification.whats_happen" in notes[0]  # listed as kept
    body = out[-1].translated.decode()
    for withheld in ("Pierre Castet", "difficulté respiratoire", "DRFR154402413800236.1", "medicalNote"):
        assert withheld not in body  # confidentiality applies to the merged case
    rig.run(2.0)
    assert rig.states() == {"delivered": 2}


def test_successive_updates_merge_onto_the_one_before(rig: Rig) -> None:
    """Three frames before any commit: the second update merges onto the first's result (same open transaction)."""
    replies = [rig.service.on_legacy_frame(f) for f in (example(*GAS_EDA), _update_with_location("07"),
                                                        _gas_update("10"))]
    assert all(rig.settled(r).startswith(b"ACK;") for r in replies)
    numbers = [p["location"]["detailedAddress"].get("number") for _, p in _sent_cases(rig)]
    assert numbers == ["3", "5", "5"]


def test_update_for_an_unknown_case_is_dead_lettered_naming_what_is_missing(rig: Rig) -> None:
    reply = rig.settled(rig.service.on_legacy_frame(_gas_update("07")))
    assert reply.startswith(f"NACK;{GAS};702;".encode()) and b"whats_happen" in reply, reply
    [entry] = rig.store.dlq_list()
    assert entry.original == _gas_update("07") and "RS-EDA first" in entry.error and "whats_happen" in entry.error
    assert _sent_cases(rig) == []


def test_replayed_update_is_merged_once_the_case_is_known(rig: Rig) -> None:
    rig.settled(rig.service.on_legacy_frame(_update_with_location("07")))
    rig.settled(rig.service.on_legacy_frame(example(*GAS_EDA)))
    [entry] = rig.store.dlq_list()
    rig.store.requeue_dead_letter(entry.id, at=rig.now())
    rig.run(1.0)
    sent = _sent_cases(rig)
    assert [p["location"]["detailedAddress"].get("number") for _, p in sent] == ["3", "5"]
    assert sent[1][1]["qualification"] == sent[0][1]["qualification"]


def test_update_does_not_merge_onto_a_case_the_hub_refused(rig: Rig) -> None:
    """An RC-EDA the Hub refused (RS-ERROR) told NexSIS nothing: no earlier state, the update is refused."""
    rig.settled(rig.service.on_legacy_frame(example(*GAS_EDA)))
    [sent] = rig.store.search(direction="out", limit=None)
    rig.store.mark_failed(sent.distribution_id, hub_code=300, reason="invalid", at=rig.now())
    reply = rig.settled(rig.service.on_legacy_frame(_gas_update("07")))
    assert reply.startswith(f"NACK;{GAS};702;".encode())


def test_hostile_update_for_an_unknown_case_is_refused_with_a_bounded_reason(rig: Rig) -> None:
    """A 200 kB caseId in an RS-EDA-MAJ: NACK and dead letter with its bytes; the reason stays small."""
    frame = b'{"createCaseHealthUpdate": {"caseId": "fr.health.samu440.' + b"C" * 200_000 + b'"}}'
    reply = rig.settled(rig.service.on_legacy_frame(frame))
    assert reply.startswith(b"NACK;") and len(reply) < 1000
    [entry] = rig.store.dlq_list()
    assert entry.original == frame and len(entry.error) < 5_000
    assert _sent_cases(rig) == []

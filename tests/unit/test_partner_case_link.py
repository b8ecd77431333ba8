"""A case the partner created, handed to the LRM, stays the partner's case when the LRM writes about it.

A legacy sheet has no field for a Hub case id: the LRM's later frames carry only the dossier
number the bridge wrote (the partner's senderCaseId). The bridge links that number to the Hub
case when it hands the case over (store table ``case_links``, migration 7), so those frames go out
under the partner's caseId as an Update, not as a new case (docs/fidelity.md).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.app.translator import PipelineTranslator
from bridge.core.edxl import wrap
from bridge.core.pipeline import legacy_to_hub
from bridge.edges.amqp.consumer import Delivery
from bridge.edges.store.sqlite import Store
from bridge.refdata.hub_bodies import encode_hub_body
from bridge.refdata.profiles import build_context, load_profile
from bridge.runtime.demo import demo_frame
from bridge.testing.rig import SAMU, SDIS, START, Rig

PARTNER_CASE = f"{SDIS}.SIS-2026-77"
LEGACY_PROFILES = ["lrm-alpha-text", "lrm-alpha-xml", "lrm-beta-text", "lrm-beta-xml"]


def _partner_create_case(case_id: str = PARTNER_CASE, sender_case_id: str | None = "SIS-2026-77") -> dict:
    """A createCase as NexSIS would send it: its own caseId and case number (built from a demo sheet)."""
    translator = PipelineTranslator(load_profile("lrm-alpha-text"), build_context(sender_id=SAMU, recipient_id=SDIS),
                                    clock=lambda: START)
    payload = dict(translator.to_hub(demo_frame(3))[0].payload)
    payload["caseId"] = case_id
    if sender_case_id is None:
        payload.pop("senderCaseId", None)
    else:
        payload["senderCaseId"] = sender_case_id
    return payload


def _deliver(rig: Rig, payload_name: str, payload: dict) -> None:
    message = wrap(payload_name, payload, sender_id=SDIS, recipient_id=SAMU, now=rig.now(),
                   message_uuid=str(uuid.uuid4()))
    rig.service.on_hub_message(Delivery(body=encode_hub_body(message), queue=f"{SAMU}.message", routing_key=SAMU,
                                        content_type="application/json", delivery_mode=2, redelivered=False,
                                        delivery_tag=1))
    rig.run(1.0)


def _outbound(rig: Rig) -> list[tuple[str, str, str]]:
    """(case id, distributionKind, payload caseId) of every outbound message, oldest first."""
    rows = []
    for msg in sorted((m for m in rig.store.recent(50) if m.direction == "out"), key=lambda m: m.id):
        body = json.loads(msg.translated)
        inner = body["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]
        payload_case = (inner.get("createCase") or {}).get("caseId") or (
            (inner.get("emsi") or {}).get("EVENT", {}).get("MAIN_EVENT_ID"))
        rows.append((msg.case_id, body["distributionKind"], payload_case))
    return rows


def _history(rig: Rig, event: str) -> list[str]:
    return [e.detail or "" for m in rig.store.recent(50) for e in rig.store.history(m.id) if e.event == event]


# ---- the pure part -----------------------------------------------------------------------------

def test_legacy_to_hub_uses_the_linked_case_id_and_says_so():
    """A dossier number with a link: the createCase carries the partner's caseId, with a derived note."""
    profile = load_profile("lrm-alpha-text")
    ctx = build_context(sender_id=SAMU, recipient_id=SDIS)
    ctx = type(ctx)(**{**ctx.__dict__, "now": datetime(2026, 11, 25, 10, tzinfo=UTC)})
    links = {"DEMO-000003": PARTNER_CASE}
    [case, *_] = legacy_to_hub(demo_frame(3), profile, ctx, linked_case=links.get)
    assert case.payload["caseId"] == PARTNER_CASE
    assert any(w.path == "case.case_id" and PARTNER_CASE in w.message for w in case.warnings)
    [plain, *_] = legacy_to_hub(demo_frame(4), profile, ctx, linked_case=links.get)
    assert plain.payload["caseId"] == f"{SAMU}.DEMO-000004"


# ---- the store ---------------------------------------------------------------------------------

def test_store_links_a_number_once_and_refuses_a_second_case(tmp_path: Path):
    with Store.open(tmp_path / "s.sqlite3") as store:
        assert store.link_case("SIS-1", PARTNER_CASE, profile="p", at=START) == "linked"
        assert store.link_case("SIS-1", PARTNER_CASE, profile="p", at=START) == "known"
        assert store.case_link("SIS-1").hub_case_id == PARTNER_CASE
        assert store.link_case("SIS-1", f"{SDIS}.OTHER", profile="p", at=START) == "ambiguous"
        link = store.case_link("SIS-1")
        assert link.ambiguous and link.hub_case_id == PARTNER_CASE
        assert store.case_link("nothing") is None


def test_retention_purges_a_link_once_its_case_has_left_the_store(tmp_path: Path):
    """A link goes with retention when it is older than the cutoff and no message of its Hub case remains;
    a case still in the store, or a link made after the cutoff, keeps it (the LRM may still write about it)."""
    from datetime import timedelta

    later = START + timedelta(days=40)
    with Store.open(tmp_path / "s.sqlite3") as store:
        store.link_case("SIS-GONE", f"{SDIS}.GONE", profile="p", at=START)
        store.link_case("SIS-LIVE", f"{SDIS}.LIVE", profile="p", at=START)
        store.link_case("SIS-NEW", f"{SDIS}.NEW", profile="p", at=later)
        store.record_inbound(b"{}", distribution_id=f"{SDIS}_{uuid.uuid4()}", case_id=f"{SDIS}.LIVE",
                             case_version=None, received_at=START)
        store.purge_delivered(START + timedelta(days=30))
        assert store.case_link("SIS-GONE") is None
        assert store.case_link("SIS-LIVE").hub_case_id == f"{SDIS}.LIVE"
        assert store.case_link("SIS-NEW").hub_case_id == f"{SDIS}.NEW"


# ---- through the service -----------------------------------------------------------------------

@pytest.mark.parametrize("profile", LEGACY_PROFILES)
def test_lrm_frames_about_a_partner_case_go_out_as_updates_of_that_case(tmp_path, profile):
    """NexSIS creates a case; the LRM sends its sheet back (edited): same caseId, distributionKind Update."""
    rig = Rig(tmp_path, profile=profile)
    try:
        _deliver(rig, "createCase", _partner_create_case())
        [sheet] = rig.lrm.sent
        assert [link.reference for link in rig.store.case_links()] == ["SIS-2026-77"]
        assert _history(rig, "case_linked")
        reply = rig.settled(rig.service.on_legacy_frame(sheet))
        assert b"SIS-2026-77" in reply and b"NACK" not in reply.upper()
        rig.run(1.0)
        out = _outbound(rig)
        assert out and all(row == (PARTNER_CASE, "Update", PARTNER_CASE) for row in out), out
        assert rig.store.dlq_list() == []
    finally:
        rig.close()


def test_lrm_own_case_with_the_same_number_is_not_linked_and_is_declared(tmp_path):
    """The LRM already has its own dossier under the partner's number: no link, a visible warning."""
    rig = Rig(tmp_path)
    try:
        rig.settled(rig.service.on_legacy_frame(demo_frame(3)))
        rig.run(1.0)
        _deliver(rig, "createCase", _partner_create_case(sender_case_id="DEMO-000003"))
        assert list(rig.store.case_links()) == []
        [note] = _history(rig, "case_not_linked")
        assert "already one of the LRM's own cases" in note
        rig.settled(rig.service.on_legacy_frame(demo_frame(3).replace(b"OBS=", b"OBS=suite ")))
        rig.run(1.0)
        assert {row[0] for row in _outbound(rig)} == {f"{SAMU}.DEMO-000003"}
    finally:
        rig.close()


def test_one_number_for_two_partner_cases_is_not_guessed(tmp_path):
    """Two partner cases under one number: the link is marked ambiguous, the LRM's frame stays its own case."""
    rig = Rig(tmp_path)
    try:
        _deliver(rig, "createCase", _partner_create_case())
        _deliver(rig, "createCase", _partner_create_case(case_id=f"{SDIS}.OTHER-CASE"))
        assert [link.ambiguous for link in rig.store.case_links()] == [True]
        assert any("another case" in note for note in _history(rig, "case_not_linked"))
        rig.settled(rig.service.on_legacy_frame(rig.lrm.sent[-1]))
        rig.run(1.0)
        assert {row[0] for row in _outbound(rig)} == {f"{SAMU}.SIS-2026-77"}
    finally:
        rig.close()


def test_sheet_without_a_dossier_number_is_declared_not_linked(tmp_path, monkeypatch):
    """A dialect whose sheet carries no number for the case: nothing to link, the gap is declared."""
    rig = Rig(tmp_path)
    try:
        monkeypatch.setattr(rig.service.translator, "case_reference", lambda legacy: (None, None))
        _deliver(rig, "createCase", _partner_create_case())
        assert list(rig.store.case_links()) == []
        [note] = _history(rig, "case_not_linked")
        assert "no dossier number" in note
    finally:
        rig.close()

"""The official EMSI examples translate to RC-EDA and to every legacy dialect and back, losses listed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bridge.core.pipeline import translate
from bridge.refdata.profiles import load_profile

TARGETS = [("rc-eda-json", None), ("legacy-text", "lrm-alpha-text"), ("legacy-text", "lrm-beta-text"),
           ("legacy-xml", "lrm-alpha-xml"), ("legacy-xml", "lrm-beta-xml")]
EXAMPLES = ["EMSI-Complet-DC-RDC-OPG-message.json", "EMSI-OPG-message.json", "EMSI-RDC-message.json"]


def _ctx(fresh_ctx, profile):
    return fresh_ctx.with_profile(load_profile(profile)) if profile else fresh_ctx


def _preserved(case) -> dict:
    """The canonical fields every target of this test can carry."""
    loc = case.location
    return {
        "sender_case_id": case.sender_case_id, "created": case.created,
        "location_kind": case.qualification.location_kind.code if case.qualification.location_kind else None,
        "victims_count": case.qualification.victims_count,
        "address": (loc.number, loc.street, loc.city, loc.lat, loc.lon),
        # degrade notes (official code kept for the LRM operator) are added content, checked elsewhere
        "notes": [n.text for n in case.notes if " code officiel " not in n.text],
    }


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize(("target", "profile"), TARGETS, ids=[p or t for t, p in TARGETS])
def test_emsi_example_round_trip(example, target, profile, hub_reference, fresh_ctx, schema_validator):
    """EMSI -> target -> EMSI keeps every mapped field; each EMSI leaf not carried is listed as dropped."""
    ctx = _ctx(fresh_ctx, profile)
    original = (hub_reference / "examples" / "EMSI" / example).read_bytes()
    there = translate(original, source="emsi-json", target=target, ctx=ctx, validator=schema_validator)
    back = translate(there.data, source=target, target="emsi-json", ctx=ctx, validator=schema_validator)
    assert _preserved(back.case) == _preserved(there.case)
    first, second = there.case.qualification.whats_happen, back.case.qualification.whats_happen
    lossy = any(w.path == "qualification.whats_happen" for w in there.warnings)
    assert second.code == first.code or lossy or second.code[:3] == first.code[:3]
    dropped = {issue.path for issue in there.dropped}
    assert "/emsi/EVENT/SOURCE" in dropped and "/emsi/CONTEXT/ORIGIN/ORG_ID" in dropped
    source = json.loads(original)["emsi"]
    if "RESOURCE" in source:  # carried by the target (same resources back) or declared dropped
        carried = back.case.operations is not None and back.case.operations.resources == \
            there.case.operations.resources
        assert carried or any(path.startswith("operations") for path in dropped)
    if any("DEMANDE_CONCOURS#" in m["NAME"].upper() and "REPONSE" not in m["NAME"].upper()
           for m in source.get("MISSION", [])):
        if target == "rc-eda-json":
            assert "request" in dropped
        else:
            assert back.case.request.mission_type == there.case.request.mission_type
            assert back.case.request.free_text == there.case.request.free_text


@pytest.mark.parametrize("example", ["EMSI-Complet-DC-RDC-OPG-message.json", "EMSI-RDC-message.json"])
def test_emsi_answer_status_reaches_legacy(example, hub_reference, fresh_ctx):
    """An EMSI answer to a request for assistance becomes the dialect's answer code and comes back."""
    ctx = _ctx(fresh_ctx, "lrm-alpha-text")
    original = (hub_reference / "examples" / "EMSI" / example).read_bytes()
    there = translate(original, source="emsi-json", target="legacy-text", ctx=ctx)
    assert there.case.answer is not None
    text = there.data.decode("cp1252")
    assert "REPONSE=" in text
    back = translate(there.data, source="legacy-text", target="emsi-json", ctx=ctx)
    assert back.case.answer.status == there.case.answer.status


def test_emsi_coordinates_stay_exact_decimals(hub_reference, fresh_ctx):
    """Coordinates cross RC-EDA as exact decimals, never through float."""
    original = (hub_reference / "examples" / "EMSI" / EXAMPLES[0]).read_bytes()
    there = translate(original, source="emsi-json", target="rc-eda-json", ctx=fresh_ctx)
    assert there.case.location.lat == Decimal("45.760169")
    assert b"45.760169" in there.data

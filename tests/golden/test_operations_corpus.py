"""Operations (missions, resources) of the official EMSI and RC-RI examples survive every crossing.

Acceptance of the operations issue: each official EMSI example (OPG alone, complete
DC + RDC + OPG, RDC) goes to canonical and back to a schema-valid message with every
MISSION and RESOURCE intact, in JSON and in XML, and the two forms agree.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import simplejson

from bridge.core.errors import BridgeError
from bridge.core.pipeline import merge_onto_sheet, translate
from bridge.refdata.hub_codec import validate as hub_validate
from bridge.refdata.profiles import load_profile

GOLDEN = Path(__file__).resolve().parent
EMSI = ["EMSI-OPG-message", "EMSI-Complet-DC-RDC-OPG-message", "EMSI-RDC-message"]


def _by_id(items: list[dict]) -> dict[str, dict]:
    return {item["ID"]: item for item in items}


def _ops(operations) -> tuple[dict, dict]:
    """Missions and resources by id (EMSI lists have no meaningful order across the request/answer split)."""
    return ({m.mission_id: m for m in operations.missions}, {r.resource_id: r for r in operations.resources})


def _emsi(data: bytes) -> dict:
    return simplejson.loads(data, parse_float=Decimal)["emsi"]


@pytest.mark.parametrize("example", EMSI)
def test_emsi_json_round_trip_keeps_missions_and_resources(example, hub_reference, fresh_ctx, schema_validator):
    """EMSI JSON -> canonical -> EMSI JSON: schema-valid, every MISSION and RESOURCE equal, none dropped."""
    original = (hub_reference / "examples" / "EMSI" / f"{example}.json").read_bytes()
    result = translate(original, source="emsi-json", target="emsi-json", ctx=fresh_ctx, validator=schema_validator)
    source, out = _emsi(original), _emsi(result.data)
    assert _by_id(out.get("MISSION", [])) == _by_id(source.get("MISSION", []))
    assert _by_id(out.get("RESOURCE", [])) == _by_id(source.get("RESOURCE", []))
    assert not [d.path for d in result.dropped if d.path.startswith(("/emsi/MISSION", "/emsi/RESOURCE"))]


@pytest.mark.parametrize("example", EMSI)
def test_emsi_xml_round_trip_is_xsd_valid_and_agrees_with_json(example, hub_reference, fresh_ctx):
    """EMSI XML -> canonical -> EMSI XML is valid against the official XSD; XML and JSON read the same."""
    folder = hub_reference / "examples" / "EMSI"
    from_xml = translate((folder / f"{example}.xml").read_bytes(), source="emsi-xml", target="emsi-xml",
                         ctx=fresh_ctx)
    assert hub_validate(from_xml.data, schemas=hub_reference) == []
    from_json = translate((folder / f"{example}.json").read_bytes(), source="emsi-json", target="emsi-json",
                          ctx=fresh_ctx)
    assert _ops(from_xml.case.operations) == _ops(from_json.case.operations)
    assert from_json.case.operations is not None and from_json.case.operations.missions
    back = translate(from_xml.data, source="emsi-xml", target="emsi-json", ctx=fresh_ctx)
    assert _ops(back.case.operations) == _ops(from_json.case.operations)


def test_opg_resource_fields_reach_the_canonical_model(hub_reference, fresh_ctx):
    """The OPG example's resource is read field by field, not kept as an opaque blob."""
    original = (hub_reference / "examples" / "EMSI" / "EMSI-OPG-message.json").read_bytes()
    case = translate(original, source="emsi-json", target="emsi-json", ctx=fresh_ctx).case
    (resource,) = case.operations.resources
    assert (resource.resource_id, resource.classes, resource.capabilities, resource.status, resource.quantity) == (
        "77_22245#VSAV2", ("MAT/VEH",), ("AER15M",), "IN_USE/MOBILE", Decimal(1))
    names = [m.name for m in case.operations.missions]
    assert names == ["#OPERATION_GLOBALE#", "#MISSION#"]
    assert case.operations.missions[1].resource_ids == ("77_22245#VSAV2",)
    assert case.operations.missions[0].place.coords[0].height == Decimal(168)


def test_rc_eda_target_declares_operations_dropped(hub_reference, fresh_ctx):
    """createCase cannot carry missions: the loss is declared, never silent."""
    original = (hub_reference / "examples" / "EMSI" / "EMSI-OPG-message.json").read_bytes()
    result = translate(original, source="emsi-json", target="rc-eda-json", ctx=fresh_ctx)
    assert any(d.path.startswith("operations") for d in result.dropped)
    assert json.loads(result.data)["createCase"]


LEGACY = [("legacy-text", "lrm-alpha-text"), ("legacy-xml", "lrm-alpha-xml"), ("legacy-xml", "lrm-beta-xml")]


@pytest.mark.parametrize("example", EMSI)
@pytest.mark.parametrize(("target", "profile"), LEGACY, ids=[p for _, p in LEGACY])
def test_emsi_operations_cross_every_carrying_profile(example, target, profile, hub_reference, fresh_ctx,
                                                      schema_validator):
    """EMSI -> legacy -> EMSI: no MISSION/RESOURCE leaf dropped, the same operations back, schema-valid."""
    ctx = fresh_ctx.with_profile(load_profile(profile))
    original = (hub_reference / "examples" / "EMSI" / f"{example}.json").read_bytes()
    there = translate(original, source="emsi-json", target=target, ctx=ctx)
    assert not [d.path for d in there.dropped if d.path.startswith(("/emsi/MISSION", "/emsi/RESOURCE",
                                                                    "operations"))]
    back = translate(there.data, source=target, target="emsi-json", ctx=ctx, validator=schema_validator)
    assert _ops(back.case.operations) == _ops(there.case.operations)
    assert _by_id(_emsi(back.data).get("RESOURCE", [])) == _by_id(_emsi(original).get("RESOURCE", []))


def test_delimited_profile_declares_operations_dropped(hub_reference, fresh_ctx):
    """lrm-beta-text has no place for a variable number of resources: each is a declared drop."""
    ctx = fresh_ctx.with_profile(load_profile("lrm-beta-text"))
    original = (hub_reference / "examples" / "EMSI" / "EMSI-OPG-message.json").read_bytes()
    there = translate(original, source="emsi-json", target="legacy-text", ctx=ctx)
    paths = {d.path for d in there.dropped}
    assert {"operations.resources/0", "operations.missions/0", "operations.missions/1"} <= paths


def _rc_ri_examples(hub_reference) -> list[str]:
    return sorted(p.stem for p in (hub_reference / "examples" / "RC-RI").glob("*.json"))


def _states(case) -> dict:
    """resource id -> (status, instant of the status, availability, engagement instant)."""
    return {r.resource_id: (r.state.status, r.state.time.timestamp(), r.state.available, r.engaged.timestamp())
            for r in case.operations.resources}


def test_every_rc_ri_example_round_trips_schema_valid(hub_reference, fresh_ctx, schema_validator):
    """RC-RI JSON and XML -> canonical -> RC-RI: schema-valid, every leaf back, JSON and XML agree."""
    examples = _rc_ri_examples(hub_reference)
    assert len(examples) >= 8
    for example in examples:
        folder = hub_reference / "examples" / "RC-RI"
        original = (folder / f"{example}.json").read_bytes()
        result = translate(original, source="rc-ri-json", target="rc-ri-json", ctx=fresh_ctx,
                           validator=schema_validator)
        assert result.dropped == [], example
        assert simplejson.loads(result.data, parse_float=Decimal) == simplejson.loads(original, parse_float=Decimal)
        xml = folder / f"{example}.xml"
        if xml.exists():
            from_xml = translate(xml.read_bytes(), source="rc-ri-xml", target="rc-ri-xml", ctx=fresh_ctx)
            assert hub_validate(from_xml.data, schemas=hub_reference) == [], example
            assert from_xml.case.operations == result.case.operations, example


@pytest.mark.parametrize(("target", "profile"), LEGACY, ids=[p for _, p in LEGACY])
def test_rc_ri_through_legacy_and_back(target, profile, hub_reference, fresh_ctx, schema_validator):
    """RC-RI -> legacy -> rc-ri-json keeps resource ids, statuses, times, teams and positions."""
    ctx = fresh_ctx.with_profile(load_profile(profile))
    sheet = (GOLDEN / profile / ("normal.txt" if target == "legacy-text" else "normal.xml")).read_bytes()
    for example in _rc_ri_examples(hub_reference):
        original = (hub_reference / "examples" / "RC-RI" / f"{example}.json").read_bytes()
        there = merge_onto_sheet([("resourcesInfoCisu", json.loads(original)["resourcesInfoCisu"])], sheet,
                                 load_profile(profile), ctx)
        assert not [d for d in there.dropped if d.path.startswith(("/resourcesInfoCisu", "operations"))], example
        back = translate(there.data, source=target, target="rc-ri-json", ctx=ctx, validator=schema_validator)
        assert _states(back.case) == _states(there.case), example
        first, second = there.case.operations.resources, back.case.operations.resources
        assert [(r.team_name, r.medical_level, r.vehicle_type, r.fix and (r.fix.lat, r.fix.lon)) for r in second] \
            == [(r.team_name, r.medical_level, r.vehicle_type, r.fix and (r.fix.lat, r.fix.lon)) for r in first]


def test_legacy_status_codes_go_through_the_profile_table(hub_reference, fresh_ctx):
    """The alpha LRM sees its own status mnemonic (SLL for ARRIVEE), and it maps back."""
    ctx = fresh_ctx.with_profile(load_profile("lrm-alpha-text"))
    original = (hub_reference / "examples" / "RC-RI" / "RC-RI_Incendie_RaymondeLECCIA.07.json").read_bytes()
    sheet = (GOLDEN / "lrm-alpha-text" / "normal.txt").read_bytes()
    text = merge_onto_sheet([("resourcesInfoCisu", json.loads(original)["resourcesInfoCisu"])], sheet,
                            load_profile("lrm-alpha-text"), ctx).data.decode("cp1252")
    assert "MOYEN_1_ETAT=SLL" in text and "MOYEN_3_ETAT=ALER" in text
    back = translate(text.encode("cp1252"), source="legacy-text", target="rc-ri-json", ctx=ctx)
    assert [r.state.status for r in back.case.operations.resources] == ["ARRIVEE", "ARRIVEE", "DECLENCHE"]


def test_unknown_legacy_status_passes_through_with_a_warning(fresh_ctx):
    """A status code the table lacks is never a reason to lose the resource: kept as is, warned."""
    ctx = fresh_ctx.with_profile(load_profile("lrm-alpha-text"))
    frame = ("NUM_DOSSIER=D1\r\nDATE_APPEL=20240518183000\r\nNATURE=INC\r\nCOMMUNE=Nantes\r\n"
             "MOYEN_1_ID=fr.fire.sis44.resource.VSAV1\r\nMOYEN_1_ENGAGE=20240518183500\r\n"
             "MOYEN_1_TYPE_VECTEUR=SIS\r\nMOYEN_1_ETAT=ZZZ\r\nMOYEN_1_HEURE_ETAT=20240518183600\r\n").encode("cp1252")
    result = translate(frame, source="legacy-text", target="rc-ri-json", ctx=ctx)
    assert json.loads(result.data)["resourcesInfoCisu"]["resource"][0]["state"]["status"] == "ZZZ"
    assert any("ZZZ" in w.message for w in result.warnings)


def test_emsi_resource_to_rc_ri_is_a_declared_drop(hub_reference, fresh_ctx):
    """An EMSI resource lacks RC-RI's required engagement time and status: named, not invented.

    No EMSI resource of the example has them, so no RC-RI is written at all (an RC-RI without a
    resource is invalid): the refusal names each resource and what it lacks.
    """
    original = (hub_reference / "examples" / "EMSI" / "EMSI-OPG-message.json").read_bytes()
    with pytest.raises(BridgeError) as caught:
        translate(original, source="emsi-json", target="rc-ri-json", ctx=fresh_ctx)
    named = {issue.path: issue.message for issue in caught.value.issues}
    assert "operations.resources/0" in named and "engagement time" in named["operations.resources/0"]
    assert all(issue.code == "missing-field" for issue in caught.value.issues)


@pytest.mark.parametrize("profile", ["lrm-alpha-text", "lrm-alpha-xml", "lrm-beta-xml"])
def test_rc_ri_case_id_the_sheet_cannot_hold_is_declared(profile, hub_reference, fresh_ctx):
    """An RC-RI merged onto a sheet: its Hub caseId, which no legacy profile has a field for, is a declared drop.

    Read back, the sheet gives ``{sender}.{case number}``; for a case the partner created that is another
    id, so its loss must be in the report (it was silently replaced before).
    """
    legacy = load_profile(profile)
    ctx = fresh_ctx.with_profile(legacy)
    sheet = (GOLDEN / profile / ("normal.txt" if legacy.adapter == "legacy-text" else "normal.xml")).read_bytes()
    original = next(p for p in (hub_reference / "examples" / "RC-RI").glob("*.json") if "Incendie" in p.name)
    payload = json.loads(original.read_bytes())["resourcesInfoCisu"]
    there = merge_onto_sheet([("resourcesInfoCisu", payload)], sheet, legacy, ctx)
    assert there.case.case_id == payload["caseId"]
    assert any(d.path == "case.case_id" for d in there.dropped), [d.path for d in there.dropped]

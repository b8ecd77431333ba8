"""Towards the LRM a code is never a reason to drop a message: it degrades, visibly, and the original travels.

For every official code of every list a profile's reverse tables read (EMSI MISSION.TYPE, caller kinds,
victim kinds, CISU qualification, answer statuses...), the message reaches every shipped profile and
the LRM gets either the code's own row or a degraded code *plus* the original code in its notes field,
with a ``value-altered`` warning.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.core.adapters.base import AdapterContext
from bridge.core.canonical import AssistanceAnswer, AssistanceRequest, Caller, Case, Coded, Location, Qualification
from bridge.core.mapping.mapping_set import prefix_parents
from bridge.core.nomenclature import parse_code_list
from bridge.core.pipeline import hub_to_legacy_result, translate
from bridge.refdata.profiles import load_profile

PROFILES = ["lrm-alpha-text", "lrm-beta-text", "lrm-alpha-xml", "lrm-beta-xml"]
PROJECT_LISTS = Path(__file__).resolve().parents[2] / "nomenclatures"


def _official(ctx: AdapterContext, name: str) -> list[str]:
    code_list = ctx.nomenclatures.get(name)
    if code_list is None:  # a project list (answers in the canonical EMSI spelling)
        path = PROJECT_LISTS / f"{name}.csv"
        code_list = parse_code_list(name, path.read_text(encoding="utf-8"), str(path))[0]
    return list(code_list.codes)


def _request_emsi(hub_reference: Path, mission_type: str) -> dict:
    emsi = json.loads((hub_reference / "examples" / "EMSI" / "EMSI-RDC-message.json").read_text(),
                      parse_float=Decimal)["emsi"]
    mission = copy.deepcopy(emsi["MISSION"][0])
    mission.update({"TYPE": mission_type, "NAME": "#DEMANDE_CONCOURS#SAP#", "ID": "REQ-1"})
    mission.pop("MAIN_MISSION_ID", None)
    emsi["MISSION"] = [mission]
    return emsi


def _mission_codes(hub_reference: Path) -> list[str]:
    text = (hub_reference / "nomenclatures" / "EMSI-MISSION.TYPE.csv").read_text(encoding="utf-8")
    return list(parse_code_list("EMSI-MISSION.TYPE", text, "EMSI-MISSION.TYPE.csv")[0].codes)


@pytest.mark.parametrize("profile_name", PROFILES)
def test_every_official_mission_type_reaches_the_lrm_with_its_code(profile_name, hub_reference, fresh_ctx):
    """All 22 EMSI MISSION.TYPE codes: delivered, and the LRM sees the official code (row or note)."""
    profile = load_profile(profile_name)
    codes = _mission_codes(hub_reference)
    assert "SAV/AR/FR_PPL/GRP" in codes and len(codes) >= 20
    for code in codes:
        result = hub_to_legacy_result("emsi", _request_emsi(hub_reference, code), profile, fresh_ctx)
        back = translate(result.data, source=profile.adapter, target="emsi-json", ctx=fresh_ctx.with_profile(profile))
        text = result.data.decode(profile.encoding)
        assert back.case.request is not None, code
        if back.case.request.mission_type != code:  # degraded: the original code travels, and it is said
            assert code in text, (profile_name, code, text)
            assert any(w.code == "value-altered" and code in w.message for w in result.warnings), code


def test_many_victims_degrades_to_its_parent_and_says_so(hub_reference, fresh_ctx):
    """SAV/AR/FR_PPL/GRP (many victims): the nearest ancestor with a row, the official label in the notes."""
    profile = load_profile("lrm-alpha-text")
    result = hub_to_legacy_result("emsi", _request_emsi(hub_reference, "SAV/AR/FR_PPL/GRP"), profile, fresh_ctx)
    text = result.data.decode("cp1252")
    assert "TYPE_CONCOURS=AUT" in text  # SAV's row (the official list's parent of SAV/AR/FR_PPL/GRP)
    assert "code officiel SAV/AR/FR_PPL/GRP" in text and "code parent" in text
    warning = next(w for w in result.warnings if w.code == "value-altered" and "SAV/AR/FR_PPL/GRP" in w.message)
    assert "'SAV'" in warning.message


def test_without_an_installed_list_the_parent_comes_from_the_prefix(hub_reference, fresh_ctx):
    """No official list: parent by prefix (SAV/AR/FR_PARAMD/X -> SAV/AR/FR_PARAMD), and the warning says so."""
    from bridge.core.nomenclature import Nomenclatures
    from bridge.refdata.mapping_loader import load_mappings
    from bridge.refdata.resources import project_dir

    bare = load_mappings(project_dir("mappings"), Nomenclatures())
    ctx = AdapterContext(**{**fresh_ctx.__dict__, "mappings": bare, "nomenclatures": Nomenclatures(), "labels": {}})
    profile = load_profile("lrm-alpha-text")
    result = hub_to_legacy_result("emsi", _request_emsi(hub_reference, "SAV/AR/FR_PARAMD/NEW"), profile, ctx)
    text = result.data.decode("cp1252")
    assert "TYPE_CONCOURS=PARA" in text and "code officiel SAV/AR/FR_PARAMD/NEW" in text
    assert any("no official list installed" in w.message for w in result.warnings)
    # and a code with no ancestor row at all takes the profile's declared default
    result = hub_to_legacy_result("emsi", _request_emsi(hub_reference, "ZZZ/NEW"), profile, ctx)
    assert "TYPE_CONCOURS=AUT" in result.data.decode("cp1252")
    assert any("fallback 'AUT'" in w.message for w in result.warnings)


def test_prefix_parents_walk_slashes_and_dots():
    assert prefix_parents("SAV/AR/FR_PPL/GRP") == ["SAV/AR/FR_PPL", "SAV/AR", "SAV"]
    assert prefix_parents("AMBULANC.AASC") == ["AMBULANC"]
    assert prefix_parents("SAV") == []


def _case_with(target: str, code: str) -> Case:
    base = dict(sender_case_id="A1", created=None, location=Location(city="Nantes"),
                qualification=Qualification(whats_happen=Coded(code="C04.00.00")))
    from datetime import datetime

    base["created"] = datetime(2024, 5, 18, 18, 15, tzinfo=UTC)
    section, _, name = target.partition(".")
    if section == "qualification":
        value = [Coded(code=code)] if name == "risk_threats" else Coded(code=code) if name in (
            "whats_happen", "location_kind", "health_motive") else code
        base["qualification"] = base["qualification"].model_copy(update={name: value})
    elif section == "caller":
        base["caller"] = Caller(**{name: code})
    elif section == "request":
        base["request"] = AssistanceRequest(**{name: code})
    elif section == "answer":
        base["answer"] = AssistanceAnswer(status=code)
    return Case(**base)


@pytest.mark.parametrize("profile_name", PROFILES)
def test_every_reverse_table_delivers_every_official_code(profile_name, hub_ctx, fresh_ctx):
    """For each coded field of the profile and each code of its official list: encoded, never refused."""
    profile = load_profile(profile_name)
    ctx = fresh_ctx.with_profile(profile)
    from bridge.core.adapters.registry import get_adapter

    adapter = get_adapter(profile.adapter, ctx.adapters)
    mappings = hub_ctx.mappings
    checked = 0
    for spec in profile.fields:
        if not spec.table:
            continue
        target_list = mappings.tables[spec.table].spec.target
        for code in _official(hub_ctx, target_list):
            case = _case_with(spec.target, code)
            encoded = adapter.encode(case, ctx)
            back = adapter.decode(encoded.data, ctx).case
            checked += 1
            text = encoded.data.decode(profile.encoding)
            if mappings.reverse(spec.table, code).how == "row":
                continue  # the table's own row (a reviewed, commented choice): checked by mappings lint
            if code not in json.dumps(back.model_dump(mode="json"), ensure_ascii=False):
                assert code in text, (profile_name, spec.key, code)
                assert any(w.code == "value-altered" for w in encoded.warnings), (spec.key, code)
    assert checked > 100

"""Operations model and legacy carriage: merge rules and hostile input, each refusal naming its line."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bridge.core.errors import BridgeError, InboundError
from bridge.core.operations import Operations, Resource, State, merge_operations
from bridge.core.pipeline import translate
from bridge.refdata.profiles import build_context

T0 = datetime(2026, 3, 13, 10, 0, tzinfo=UTC)
HEAD = "NUM_DOSSIER=D1\r\nDATE_APPEL=20240518183000\r\nNATURE=INC\r\nCOMMUNE=Nantes\r\n"


def _ctx():
    return build_context(profile="lrm-alpha-text")


def _decode(lines: str):
    return translate((HEAD + lines).encode("cp1252"), source="legacy-text", target="legacy-text", ctx=_ctx())


def test_merge_updates_by_id_keeps_unset_fields_and_appends_new_ones():
    """A later status wins for the same id; a field the update leaves unset keeps its value; new ids append."""
    first = Operations(resources=(Resource(resource_id="a", name="VSAV 1", classes=("MAT/VEH",),
                                           state=State(status="DECLENCHE", time=T0)),))
    update = Operations(resources=(Resource(resource_id="a", state=State(status="ARRIVEE", time=T0)),
                                   Resource(resource_id="b", name="FPT")))
    merged = merge_operations(first, update)
    assert [(r.resource_id, r.name, r.classes, r.state and r.state.status) for r in merged.resources] == [
        ("a", "VSAV 1", ("MAT/VEH",), "ARRIVEE"), ("b", "FPT", (), None)]
    assert merge_operations(None, update) is update and merge_operations(first, None) is first


def test_operations_round_trip_through_alpha_text():
    """MOYEN_n_* lines come back identical after decode and encode (list parts repeat their line)."""
    lines = ("MOYEN_1_ID=r1\r\nMOYEN_1_CLASSE=MAT/VEH\r\nMOYEN_1_CLASSE=PER\r\nMOYEN_1_QUANTITY=2.5\r\n"
             "MISSION_1_ID=m1\r\nMISSION_1_TYPE=SAV/ASC\r\nMISSION_1_NAME=#MISSION#\r\nMISSION_1_STATUS=IPR\r\n"
             "MISSION_1_RESOURCE=r1\r\n")
    result = _decode(lines)
    (resource,) = result.case.operations.resources
    assert resource.classes == ("MAT/VEH", "PER") and resource.quantity == Decimal("2.5")
    out = result.data.decode("cp1252")
    assert all(line in out for line in lines.split("\r\n") if line)


@pytest.mark.parametrize(("lines", "where", "code"), [
    ("MOYEN_1_ID=r1\r\nMOYEN_1_QUANTITY=NaN\r\n", "line 6", "bad-number"),
    ("MOYEN_1_ID=r1\r\nMOYEN_1_QUANTITY=1e999999999\r\n", "line 6", "bad-number"),
    ("MOYEN_1_ID=r1\r\nMOYEN_1_ENGAGE=hier\r\n", "line 6", "bad-date"),
    ("MOYEN_1_ID=r1\r\nMOYEN_1_LAT=95\r\n", "line 6", "bad-number"),  # not a latitude
    ("MOYEN_1_ID=r1\r\nMOYEN_1_DISPO=peut-etre\r\n", "line 6", "bad-value"),
    ("MOYEN_1_NOM=sans identifiant\r\n", "line 5", "invalid"),
    ("MOYEN_1_ID=r1\r\nMOYEN_1_ETAT=SLL\r\n", "line 5", "invalid"),  # a status needs its time
    ("MISSION_1_ID=m1\r\nMISSION_1_LAT=45.1\r\nMISSION_1_TYPE=SAV\r\nMISSION_1_NAME=x\r\nMISSION_1_STATUS=IPR\r\n",
     "line 5", "invalid"),  # a latitude without its longitude
])
def test_bad_operations_lines_are_refused_naming_the_line(lines, where, code):
    """Every refusal names the line and a code; none is a Python traceback."""
    with pytest.raises(InboundError) as caught:
        _decode(lines)
    assert (caught.value.issues[0].path, caught.value.issues[0].code) == (where, code), caught.value.issues


def test_unknown_part_is_a_declared_drop_not_a_refusal():
    """MOYEN_1_COULEUR is not a part: the resource still arrives, the line is listed as dropped."""
    result = _decode("MOYEN_1_ID=r1\r\nMOYEN_1_COULEUR=rouge\r\n")
    assert [r.resource_id for r in result.case.operations.resources] == ["r1"]
    assert any(d.path == "line 6" for d in result.dropped)


def test_hostile_hub_shapes_are_refused_cleanly():
    """RESOURCE as a string, RC-RI resource not a list: INVALID_MESSAGE naming the payload, no crash."""
    ctx = build_context()
    for data, source in ((b'{"emsi": {"CONTEXT": {}, "EVENT": {}, "RESOURCE": [{"ID": 1, "RTYPE": "x"}]}}',
                          "emsi-json"),
                         (b'{"resourcesInfoCisu": {"caseId": "a.b.c.d", "resource": "VSAV"}}', "rc-ri-json")):
        with pytest.raises(BridgeError) as caught:
            translate(data, source=source, target="emsi-json", ctx=ctx)
        assert caught.value.issues and caught.value.issues[0].code in ("invalid", "wrong-kind", "missing-field")


def test_huge_exponent_coordinate_is_refused_not_a_crash():
    """LAT=1e999999999 was a decimal.Overflow traceback (abs() rounds in the context): now a bad-number refusal."""
    frame = (HEAD + "LAT=1e999999999\r\n").encode("cp1252")
    with pytest.raises(InboundError) as caught:
        translate(frame, source="legacy-text", target="rc-eda-json", ctx=_ctx())
    assert (caught.value.issues[0].path, caught.value.issues[0].code) == ("line 5", "bad-number")

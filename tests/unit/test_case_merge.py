"""An RS-EDA-MAJ (health case update) merged onto the case as last sent (:mod:`bridge.core.case_merge`).

The core part is pure: the earlier canonical case + the update -> the merged case and which fields the update
changed / which were kept; nothing absent from both appears, a field the update carries wins. The pipeline part
(:func:`bridge.core.pipeline.health_to_hub` with ``known_case``) turns the merged case into a complete RC-EDA,
confidentiality applied; the service part is in ``tests/unit/test_service_health.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.core.adapters.rc_eda import decode_create_case
from bridge.core.canonical import Caller, Case, Coded, Location, Note, Patient, Qualification
from bridge.core.case_merge import merge_case
from bridge.core.errors import BridgeError, HubErrorCode
from bridge.core.pipeline import health_to_hub, is_case_update
from bridge.refdata.profiles import load_profile
from tests.health_corpus import REF, corpus_ctx, corpus_validator, example

NO_CORPUS = pytest.mark.skipif(REF is None, reason="official Hub Santé corpus not found (set $HUB_REFERENCE)")
TZ = timezone(timedelta(hours=2))
SAMU, NEXSIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"
GAS = "fr.health.samu440.DRFR154402413800236"


def _earlier() -> Case:
    return Case(case_id=GAS, sender_case_id="DRFR154402413800236", created=datetime(2024, 5, 18, 18, 1, tzinfo=TZ),
                qualification=Qualification(whats_happen=Coded(code="C09.03.00", label="Fuite de gaz"),
                                            risk_threats=(Coded(code="R13"),)),
                location=Location(number="3", street="Rue des Marins", city="Bouaye", insee="44018"),
                caller=Caller(name="Alice", phone="+33612345678"),
                notes=(Note(text="odeur de gaz", created=datetime(2024, 5, 18, 18, 2, tzinfo=TZ)),),
                extras={"rc-eda./a": "s:1"})


# ---- core: merge_case ----------------------------------------------------------------------------------------

def test_a_field_the_update_carries_wins_and_the_others_are_kept() -> None:
    update = Case(case_id=GAS, location=Location(number="5"), extras={"health./qualification/details/status": "s:ACTIF"})
    merge = merge_case(_earlier(), update)
    case = merge.case
    assert case.location.number == "5" and case.location.street == "Rue des Marins" and case.location.city == "Bouaye"
    assert case.qualification == _earlier().qualification and case.caller == _earlier().caller
    assert case.created == _earlier().created and case.sender_case_id == "DRFR154402413800236"
    assert case.extras == {"rc-eda./a": "s:1", "health./qualification/details/status": "s:ACTIF"}
    assert "location.number" in merge.changed and "extras" in merge.changed
    assert "qualification.whats_happen" in merge.kept and "location.street" in merge.kept
    assert "location.street" not in merge.changed


def test_nothing_absent_from_both_appears() -> None:
    merge = merge_case(_earlier(), Case(case_id=GAS))
    case = merge.case
    assert case.patients == () and case.qualification.health_motive is None and case.location.lat is None
    assert case.request is None and case.operations is None
    assert merge.changed == ()
    assert case.model_dump(exclude={"dropped"}) == _earlier().model_dump(exclude={"dropped"})


def test_notes_are_added_lists_are_replaced() -> None:
    note = Note(text="gaz coupé", created=datetime(2024, 5, 18, 18, 30, tzinfo=TZ))
    update = Case(case_id=GAS, notes=(_earlier().notes[0], note),
                  qualification=Qualification(risk_threats=(Coded(code="R04"),)),
                  patients=(Patient(last_name="Normand"),))
    merge = merge_case(_earlier(), update)
    assert merge.case.notes == (_earlier().notes[0], note)  # the known note is not repeated
    assert merge.case.qualification.risk_threats == (Coded(code="R04"),)
    assert merge.case.qualification.whats_happen == _earlier().qualification.whats_happen
    assert merge.case.patients == (Patient(last_name="Normand"),)
    assert {"notes", "qualification.risk_threats", "patients"} <= set(merge.changed)


_text = st.one_of(st.none(), st.text(max_size=5))


@given(st.builds(Location, number=_text, street=_text, city=_text), st.builds(Location, number=_text, street=_text,
                                                                                  city=_text))
def test_location_merge_is_field_by_field(before: Location, after: Location) -> None:
    merged = merge_case(Case(location=before), Case(location=after)).case.location
    for name in ("number", "street", "city"):
        carried = getattr(after, name)
        expected = carried if carried not in (None, "") else getattr(before, name)
        assert getattr(merged, name) == expected


# ---- pipeline: health_to_hub with the case's earlier state ----------------------------------------------------

def test_update_root_is_recognised() -> None:
    profile = load_profile("lrm-health-json")
    assert is_case_update(b' {"createCaseHealthUpdate": {}}', profile)
    assert not is_case_update(b'{"createCaseHealth": {}}', profile)
    assert not is_case_update(b'{"x": {"createCaseHealthUpdate": 1}}', profile)
    xml = load_profile("lrm-health-json").model_copy(update={"adapter": "rs-eda-xml"})
    assert is_case_update(b'<?xml version="1.0"?>\n<createCaseHealthUpdate xmlns="urn:x">', xml)
    assert not is_case_update(b'<createCaseHealth xmlns="urn:x">', xml)


@NO_CORPUS
@pytest.mark.parametrize("step", ["07", "10", "16"])
def test_official_update_merged_gives_a_valid_complete_rc_eda_without_health_content(step: str) -> None:
    profile, ctx, validator = load_profile("lrm-health-json"), corpus_ctx(SAMU, NEXSIS, "lrm-health-json"), corpus_validator()
    (first, *_) = health_to_hub(example("RS-EDA", "RS-EDA-SMUR_FuiteDeGaz_AliceGregoireNormand.01.json"), profile,
                                ctx, validator)
    known = decode_create_case(first.payload, ctx).case
    update = example("RS-EDA-MAJ", f"RS-EDA-MAJ_FuiteDeGaz_AliceGregoireNormand.{step}.json")
    asked: list[str] = []
    (item, *_) = health_to_hub(update, profile, ctx, validator, known_case=lambda cid: asked.append(cid) or known)
    assert asked == [GAS]
    assert item.name == "createCase" and item.payload["qualification"] == first.payload["qualification"]
    assert item.payload["location"] == first.payload["location"]
    assert any(w.code == "case-merged" for w in item.warnings)
    text = str(item.payload)
    for withheld in ("Pierre Castet", "patient.DRFR", "ACTIF", "CLOTURE", "P1"):
        assert withheld not in text
    assert item.dropped  # what was withheld is declared


@NO_CORPUS
def test_update_without_earlier_state_is_refused_naming_what_is_missing() -> None:
    update = example("RS-EDA-MAJ", "RS-EDA-MAJ_FuiteDeGaz_AliceGregoireNormand.07.json")
    with pytest.raises(BridgeError) as caught:
        health_to_hub(update, load_profile("lrm-health-json"), corpus_ctx(SAMU, NEXSIS, "lrm-health-json"), known_case=lambda cid: None)
    assert caught.value.hub_code == HubErrorCode.WRONG_MESSAGE_SEQUENCE
    assert [i.path for i in caught.value.issues] == ["qualification.whats_happen"]
    assert "RS-EDA first" in caught.value.message and GAS in caught.value.message

"""Medical confidentiality towards the fire side: the table, its enforcement in the core, the opt-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import simplejson

from bridge.core import confidentiality
from bridge.core.canonical import Case, Coded, Location, Note, Patient, Qualification
from bridge.core.errors import BridgeError
from bridge.core.pipeline import legacy_to_hub
from bridge.refdata.confidentiality_store import load_policy, table_path
from bridge.refdata.profiles import build_context, load_profile

PROJECT = Path(__file__).resolve().parents[2]
GOLDEN = PROJECT / "tests" / "golden"
FIRE, HEALTH = "fr.fire.nexsis.sdis44", "fr.health.samu440"
VICTIMS = ("Martin", "Jean", "Lucie", "Inconnu")


def _paths(model: type, prefix: str = "") -> list[str]:
    """Every field path of the canonical case down to its sub-models' fields (the table's two levels)."""
    paths = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        inner = info.annotation
        args = getattr(inner, "__args__", ())
        sub = next((a for a in (inner, *args) if isinstance(a, type) and hasattr(a, "model_fields")), None)
        paths += _paths(sub, path + ".") if sub is not None and not prefix and name != "dropped" else [path]
    return paths


def test_every_canonical_field_has_a_row() -> None:
    """The table decides for every field of the canonical case (fail closed covers the rest, but none is left to it)."""
    policy = load_policy()
    missing = [path for path in _paths(Case) if policy.rule_for(path) is None
               and policy.rule_for(path.split(".", 1)[0]) is None and policy.rule_for(f"{path}.ANY_KEY") is None]
    assert missing == []


def test_patients_are_withheld_by_default_and_reported() -> None:
    """Names, sex, age and notes about patients do not reach a fire-side recipient; each value is a declared drop."""
    case = Case(qualification=Qualification(whats_happen=Coded(code="C02.05.00")), location=Location(city="Nantes"),
                patients=(Patient(last_name="Durand", first_name="Léa", sex="F", age=31, free_text="asthme"),),
                notes=(Note(text="VL contre arbre"),), extras={"health.mainDiagnosis": "J45", "ETAGE": "2"})
    kept, withheld = confidentiality.apply(case, load_policy(), FIRE)
    assert kept.patients == () and kept.extras == {"ETAGE": "2"} and kept.notes == case.notes
    assert sorted(issue.path for issue in withheld) == [
        "extras.health.mainDiagnosis", "patients[0].age", "patients[0].first_name", "patients[0].free_text",
        "patients[0].last_name", "patients[0].sex"]
    assert all(issue.code == "dropped" and FIRE in issue.message for issue in withheld)
    assert confidentiality.apply(case, load_policy(), HEALTH) == (case, [])


def test_opt_in_needs_an_opt_in_row_and_a_basis() -> None:
    """Only `opt-in` rows can be allowed, and never without the basis the deployment relies on."""
    with pytest.raises(BridgeError) as no_basis:
        load_policy(allow=("patients.age",))
    assert no_basis.value.issues[0].code == "missing-basis"
    with pytest.raises(BridgeError) as never:
        load_policy(allow=("patients.free_text",), basis="convention SAMU-SDIS 44")
    assert never.value.issues[0].code == "bad-opt-in"
    policy = load_policy(allow=("patients.sex", "patients.age"), basis="convention SAMU-SDIS 44")
    kept, withheld = confidentiality.apply(Case(patients=(Patient(last_name="X", sex="M", age=3),)), policy, FIRE)
    assert kept.patients == (Patient(sex="M", age=3),) and [i.path for i in withheld] == ["patients[0].last_name"]


def test_a_bad_row_is_refused_with_its_line(tmp_path: Path) -> None:
    """A decision outside cross/opt-in/withhold or a row without basis names file:line."""
    text = "field,fire_side,basis\nlocation.*,cross,where\npatients.*,maybe,?\nnotes,cross,\n"
    with pytest.raises(BridgeError) as caught:
        confidentiality.parse_table(text, "t.csv")
    assert [issue.path for issue in caught.value.issues] == ["t.csv:3", "t.csv:4"]
    assert table_path().is_file()


@pytest.mark.parametrize("profile_name,message", [("lrm-alpha-text", "multi-victim.txt"),
                                                  ("lrm-alpha-xml", "multi-victim.xml"),
                                                  ("lrm-beta-text", "multi-victim.txt")])
def test_legacy_victims_do_not_reach_nexsis_by_default(profile_name: str, message: str, hub_reference: Path) -> None:
    """The legacy path's customMap carriage of victims is off by default: no name in any payload, drops declared."""
    ctx = build_context(nomenclature_dir=hub_reference / "nomenclatures", sender_id=HEALTH, recipient_id=FIRE)
    payloads = legacy_to_hub((GOLDEN / profile_name / message).read_bytes(), load_profile(profile_name), ctx)
    text = simplejson.dumps([p.payload for p in payloads], use_decimal=True, ensure_ascii=False)
    assert not [name for name in VICTIMS if name in text]
    assert "hub-bridge.patients" not in text
    assert any(d.path.startswith("patients[0].") and "withheld" in d.message for d in payloads[0].dropped)
    opted = build_context(nomenclature_dir=hub_reference / "nomenclatures", sender_id=HEALTH, recipient_id=FIRE,
                          allow_to_fire=("patients.last_name",), basis="convention")
    carried = json.dumps([p.payload for p in legacy_to_hub((GOLDEN / profile_name / message).read_bytes(),
                                                           load_profile(profile_name), opted)], ensure_ascii=False,
                         default=str)
    assert "Martin" in carried


def test_configuration_refuses_opt_in_without_basis() -> None:
    """`[confidentiality] allow_to_fire` without `basis` is a configuration error."""
    from bridge.runtime.config import BridgeConfig

    with pytest.raises(ValueError):
        BridgeConfig.model_validate({"confidentiality": {"allow_to_fire": ["patients.age"]}})
    assert BridgeConfig.model_validate({}).confidentiality.allow_to_fire == []

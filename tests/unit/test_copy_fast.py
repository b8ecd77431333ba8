"""Copies made directly on the conversion path give what the general ways gave (issue 18, fifth pass).

``confidentiality.copy_with`` replaces ``model_copy(update=...)`` for the canonical models (same fields,
same fields set); ``rc_eda._tree_copy`` copies the initialAlert's location and qualification with the
leaves kept in its loops (same tree, no container shared).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from bridge.core import confidentiality
from bridge.core.adapters import rc_eda
from bridge.core.canonical import Caller, Case, Location, Note, Patient
from bridge.testing.messages import json_containers

patients = st.builds(Patient, last_name=st.none() | st.text(max_size=5), first_name=st.none() | st.text(max_size=5),
                     sex=st.none() | st.sampled_from(["M", "F"]), age=st.none() | st.integers(0, 120),
                     free_text=st.none() | st.text(max_size=5))
cases = st.builds(Case, case_id=st.none() | st.text(max_size=5), caller=st.none() | st.builds(Caller, name=st.text()),
                  notes=st.lists(st.builds(Note, text=st.text(max_size=5)), max_size=2).map(tuple),
                  patients=st.lists(patients, max_size=3).map(tuple),
                  extras=st.dictionaries(st.sampled_from(["health./a", "rs-eda./b", "x"]), st.text(max_size=3)),
                  location=st.builds(Location, city=st.none() | st.text(max_size=4),
                                     lat=st.none() | st.just(Decimal("47.1"))))


def _state(model: BaseModel) -> tuple[Any, ...]:
    return (type(model), model.__dict__, model.__pydantic_fields_set__, model.__pydantic_extra__,
            model.__pydantic_private__)


@settings(max_examples=200, deadline=None)
@given(case=cases, names=st.sets(st.sampled_from(sorted(Case.model_fields)), max_size=4), data=st.data())
def test_copy_with_is_model_copy(case: Case, names: set[str], data: st.DataObject) -> None:
    updates = {name: data.draw(st.sampled_from([None, (), {}, "x", getattr(case, name)])) for name in names}
    copied, expected = confidentiality.copy_with(case, updates), case.model_copy(update=updates)
    assert _state(copied) == _state(expected)
    assert copied.__dict__ is not case.__dict__ and copied.__pydantic_fields_set__ is not case.__pydantic_fields_set__
    for patient in case.patients:
        assert _state(confidentiality.copy_with(patient, {"last_name": None})) == _state(
            patient.model_copy(update={"last_name": None}))


def test_a_model_with_extras_or_private_state_takes_model_copy() -> None:
    class Open(BaseModel):
        model_config = {"extra": "allow"}
        a: int = 1

    model = Open(a=2, b=3)  # type: ignore[call-arg]
    copied = confidentiality.copy_with(model, {"a": 5})
    assert _state(copied) == _state(model.model_copy(update={"a": 5}))


def test_withholding_copies_without_model_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fire-side filter copies the case and its patients directly (a spy on model_copy sees no call)."""
    calls: list[type] = []
    original = BaseModel.model_copy

    def spy(self: BaseModel, *args: Any, **kwargs: Any) -> Any:
        calls.append(type(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(BaseModel, "model_copy", spy)
    case = Case(patients=(Patient(last_name="Dubois", age=54),), extras={"health./patient/0/x": "s:y", "z": "s:k"},
                created=datetime(2024, 1, 1, tzinfo=UTC))
    kept, withheld = confidentiality.apply(case, None, "fr.fire.nexsis.sdis44")
    assert withheld and kept.patients == () and kept.extras == {"z": "s:k"}
    assert calls == []


tree = st.recursive(st.none() | st.text(max_size=3) | st.decimals(allow_nan=False, allow_infinity=False, places=2)
                    | st.booleans() | st.integers(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=12)


@given(tree)
def test_tree_copy_copies_every_container(value: Any) -> None:
    copied = rc_eda._tree_copy(value)
    assert copied == value
    assert not set(json_containers(copied)) & set(json_containers(value))


def test_tree_copy_of_what_the_encoder_builds() -> None:
    qualification = {"whatsHappen": {"code": "C09", "label": "x"}, "riskThreat": [{"code": "R13"}],
                     "victims": {"count": "1"}}
    copied = rc_eda._tree_copy(qualification)
    assert copied == qualification and copied["riskThreat"][0] is not qualification["riskThreat"][0]

"""The fire-side filter answers "nothing to withhold" per field from a memo (issue 18, fourth pass).

``confidentiality.apply`` skips a field whose value cannot lose anything under the policy (a row lets it
cross whole, or every field of its sub-model crosses), decided once per (field, value type); a dict field's
kept keys and drops are decided once per key set. Checked against the filter as it was (frozen below) for
many policies and any generated case: the same case (the same object when nothing is withheld) and the
same declared drops, in the same order.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from bridge.core import confidentiality
from bridge.core.canonical import Case, Coded, Patient, Qualification
from bridge.core.confidentiality import FLOOR, Policy, parse_table
from bridge.core.errors import Issue
from bridge.refdata.confidentiality_store import load_policy
from tests.unit.test_encode_direct import _cases

FIRE = "fr.fire.nexsis.sdis44"


# ---- the filter as it was (main 3fa022f), the reference -------------------------------------------------

def _old_apply(case: Case, policy: Policy | None, recipient_id: str | None) -> tuple[Case, list[Issue]]:
    if not confidentiality.is_fire_side(recipient_id):
        return case, []
    policy = policy or FLOOR
    withheld: list[Issue] = []
    updates: dict[str, Any] = {}
    for name, value in case.__dict__.items():
        if value is None or (type(value) in (tuple, dict) and not value) or name == "dropped":
            continue
        kept = _old_filter(name, value, policy, withheld, recipient_id or "")
        if kept is not value:
            updates[name] = kept
    if not updates:
        return case, []
    return case.model_copy(update=updates), withheld


def _old_filter(path: str, value: Any, policy: Policy, withheld: list[Issue], recipient: str) -> Any:
    if policy.decides_whole(path):
        ok, rule = policy.crosses(path)
        if ok:
            return value
        withheld.append(policy.drop(path, rule, recipient))
        return {"notes": (), "patients": ()}.get(path)
    if isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
        items = [_old_filter_model(path, f"{path}[{index}]", item, policy, withheld, recipient)
                 for index, item in enumerate(value)]
        kept_items = tuple(item for item in items if item is not None)
        unchanged = all(a is b for a, b in zip(items, value, strict=True)) and len(kept_items) == len(value)
        return value if unchanged else kept_items
    if isinstance(value, dict):
        kept: dict[str, Any] = {}
        for key, item in value.items():
            name = f"{path}.{key}"
            ok, rule = policy.crosses(name)
            if ok:
                kept[key] = item
            else:
                withheld.append(policy.drop(name, rule, recipient))
        return value if len(kept) == len(value) else kept
    if isinstance(value, BaseModel):
        return _old_filter_model(path, path, value, policy, withheld, recipient)
    ok, rule = policy.crosses(path)
    if ok:
        return value
    withheld.append(policy.drop(path, rule, recipient))
    return {"notes": (), "patients": ()}.get(path)


def _old_filter_model(rule_path: str, report_path: str, model: Any, policy: Policy, withheld: list[Issue],
                      recipient: str) -> Any:
    updates: dict[str, Any] = {}
    kept_any = False
    for name, item in model.__dict__.items():
        if item is None or (type(item) is tuple and not item):
            continue
        ok, rule = policy.crosses(f"{rule_path}.{name}")
        if ok:
            kept_any = True
        else:
            updates[name] = type(model).model_fields[name].default
            withheld.append(policy.drop(f"{report_path}.{name}", rule, recipient))
    if not updates:
        return model
    return model.model_copy(update=updates) if kept_any else None


# ---- policies -------------------------------------------------------------------------------------------

def _table(*rows: str) -> Policy:
    return parse_table("field,fire_side,basis\n" + "\n".join(f"{row},why" for row in rows))


def _policies() -> list[Policy | None]:
    shipped = load_policy()
    return [
        None, FLOOR, shipped,
        shipped.with_opt_ins({"patients.last_name", "patients.age"}, "a documented basis"),
        _table("location.city,withhold", "qualification,withhold", "caller,cross", "*,cross"),
        _table("caller.phone,withhold", "caller.*,cross", "notes,opt-in", "extras.k,withhold", "*,cross"),
        _table("case_id,cross", "location.*,cross", "qualification.whats_happen,cross"),  # fail closed elsewhere
        _table("extras,withhold", "patients,cross", "version,withhold", "*,cross"),
    ]


POLICIES = _policies()


def _fresh(policy: Policy | None) -> Policy | None:
    """The same table with empty memos (both filters start from nothing, so neither reads the other's answers)."""
    return None if policy is None else Policy(policy.rules, policy.allow, policy.allow_basis)


def _same(case: Case, policy: Policy | None, recipient: str | None) -> None:
    new_case, new_drops = confidentiality.apply(case, _fresh(policy), recipient)
    old_case, old_drops = _old_apply(case, _fresh(policy), recipient)
    assert new_case == old_case and new_drops == old_drops
    assert (new_case is case) == (old_case is case)
    memo = _fresh(policy)  # and with its memos warm: the second answer is the first one
    first = confidentiality.apply(case, memo, recipient)
    assert confidentiality.apply(case, memo, recipient) == first == (new_case, new_drops)


@settings(max_examples=300, deadline=None)
@given(_cases(), st.sampled_from(range(len(POLICIES))), st.sampled_from([FIRE, "fr.health.samu440", None]))
def test_any_case_is_filtered_as_before(case, policy_index, recipient):
    _same(case, POLICIES[policy_index], recipient)


@pytest.mark.parametrize("policy_index", range(len(POLICIES)))
def test_golden_cases_are_filtered_as_before(policy_index):
    from tests.unit.test_translate_once import _golden_cases

    for _ctx, case in _golden_cases():
        _same(case, POLICIES[policy_index], FIRE)


def test_a_field_that_always_crosses_is_decided_once(monkeypatch):
    """A field that crosses whole, or whose sub-model's fields all cross, is answered from the memo: the rows are
    not asked again for the next case (a spy counts the rule lookups)."""
    policy = _fresh(load_policy())
    case = Case(case_id="c", qualification=Qualification(whats_happen=Coded(code="C04.00.00")), extras={"k": "v"})
    asked: list[str] = []
    real = Policy.crosses

    def counting(self, name):
        asked.append(name)
        return real(self, name)

    monkeypatch.setattr(Policy, "crosses", counting)
    assert confidentiality.apply(case, policy, FIRE) == (case, [])
    assert asked  # the first case works the answers out
    asked.clear()
    other = case.model_copy(update={"case_id": "d", "extras": {"k": "w"}})
    assert confidentiality.apply(other, policy, FIRE) == (other, [])
    assert asked == []


def test_the_dropped_keys_of_a_dict_are_worked_out_once_per_key_set(monkeypatch):
    policy = _fresh(load_policy())
    case = Case(patients=(Patient(last_name="X"),), extras={"health.a": "1", "ETAGE": "2", "rs-eda.b": "3"})
    kept, drops = confidentiality.apply(case, policy, FIRE)
    assert kept.extras == {"ETAGE": "2"} and [d.path for d in drops] == ["patients[0].last_name", "extras.health.a",
                                                                          "extras.rs-eda.b"]
    asked: list[str] = []
    real = Policy.crosses
    monkeypatch.setattr(Policy, "crosses", lambda self, name: asked.append(name) or real(self, name))
    again = case.model_copy(update={"patients": (), "extras": {"health.a": "9", "ETAGE": "8", "rs-eda.b": "7"}})
    kept, drops = confidentiality.apply(again, policy, FIRE)
    assert kept.extras == {"ETAGE": "8"} and [d.path for d in drops] == ["extras.health.a", "extras.rs-eda.b"]
    assert not [name for name in asked if name.startswith("extras")]  # the same keys: the rows are not asked again


def test_a_huge_key_set_is_filtered_but_not_remembered():
    """A hostile message with thousands of extras keys is filtered as before, and its key set is not kept."""
    policy = _fresh(load_policy())
    extras = {f"health.k{n}" if n % 2 else f"K{n}": "v" for n in range(confidentiality._KEYED_MAX_KEYS + 1)}
    case = Case(extras=extras)
    assert confidentiality.apply(case, policy, FIRE) == _old_apply(case, _fresh(load_policy()), FIRE)
    assert policy._keyed == {}
    small = Case(extras=dict(list(extras.items())[:10]))
    assert confidentiality.apply(small, policy, FIRE) == _old_apply(small, _fresh(load_policy()), FIRE)
    assert len(policy._keyed) == 1

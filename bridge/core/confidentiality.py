"""Medical confidentiality towards the fire side: what of a canonical case may reach a ``fr.fire.`` recipient.

The rules are a table (``mappings/confidentiality/fire-side.csv``, read by
:mod:`bridge.refdata.confidentiality_store` and documented in ``docs/confidentiality.md``):
one row per canonical :class:`~bridge.core.canonical.Case` field (``patients.last_name``) or
pattern (``location.*``, ``extras.health.*``; the first matching row wins) with a decision:

* ``cross``    -- the field may be sent to the fire side;
* ``opt-in``   -- withheld unless the deployment lists it in ``[confidentiality] allow_to_fire``
  together with the basis it relies on (victims' names, sex and age: no CISU field carries them);
* ``withhold`` -- never sent to the fire side, whatever the configuration.

A field no row matches is withheld (fail closed). :func:`apply` is pure: it returns the case
without the withheld values and one declared drop (``Issue.code == "dropped"``) per value
removed, so every path to a fire-side recipient (health -> CISU, legacy -> RC-EDA/EMSI) reports
what was kept back instead of losing it silently. Other recipients get the case unchanged.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel

from bridge.core.canonical import Case
from bridge.core.errors import BridgeError, Issue

Decision = Literal["cross", "opt-in", "withhold"]
DECISIONS: tuple[Decision, ...] = ("cross", "opt-in", "withhold")
_DECISION_OF: dict[str, Decision] = {decision: decision for decision in DECISIONS}
FIRE_PREFIX = "fr.fire."
TABLE_NAME = "confidentiality/fire-side.csv"
HEALTH_EXTRAS_PREFIX = "health."
"""Extras keys under this prefix hold health-only content (health adapters put it there)."""


_MEMO_LIMIT = 20_000
_KEYED_MAX_KEYS = 256  # a dict field's key set is remembered up to this size (an RS-EDA case has ~40 extras)


@dataclass(frozen=True, slots=True)
class Rule:
    """One row: a field pattern, what happens to it on the way to the fire side, and why."""

    pattern: str
    decision: Decision
    basis: str
    line: int


@dataclass(frozen=True)
class Policy:
    """The table's rules plus the deployment's opt-ins (``allow``) and the basis it documented for them."""

    rules: tuple[Rule, ...]
    allow: frozenset[str] = frozenset()
    allow_basis: str = ""
    _memo: dict[str, tuple[bool, Rule | None]] = field(default_factory=dict, compare=False, repr=False)
    """Decisions per field name; bounded in practice by the case's field names (extras keys are pointers)."""
    _drops: dict[tuple[str, str], Issue] = field(default_factory=dict, compare=False, repr=False)
    """The declared drop of a withheld field, per (path, recipient): an Issue is immutable, so one serves every
    message (a health case withholds ~40 fields; building each report anew was a third of the filtering)."""
    _safe: dict[tuple[str, type], bool] = field(default_factory=dict, compare=False, repr=False)
    """Per (case field, type of its value): whether no value of that type can lose anything there (see ``safe``)."""
    _keyed: dict[tuple[str, tuple[str, ...], str], tuple[tuple[str, ...] | None, tuple[Issue, ...]]] = field(
        default_factory=dict, compare=False, repr=False)
    """Per (dict field, its keys in order, recipient): the keys kept (``None``: all) and the drops of the others."""

    def safe(self, name: str, kind: type) -> bool:
        """Whether a value of type ``kind`` in case field ``name`` always crosses whole (``_filter`` keeps it as is).

        True when a row decides for the whole field and lets it cross, or, for a sub-model type, when every one
        of its fields crosses; a tuple or a dict (decided item by item, key by key) is never safe here.
        """
        key = (name, kind)
        known = self._safe.get(key)
        if known is None:
            if self.decides_whole(name):
                known = self.crosses(name)[0]
            elif issubclass(kind, (tuple, dict, list)):
                known = False
            elif issubclass(kind, BaseModel):
                known = all(self.crosses(f"{name}.{part}")[0] for part in kind.model_fields)
            else:
                known = self.crosses(name)[0]
            if len(self._safe) > _MEMO_LIMIT:
                self._safe.clear()
            self._safe[key] = known
        return known

    def keyed(self, path: str, keys: tuple[str, ...], recipient: str) -> tuple[tuple[str, ...] | None, tuple[Issue, ...]]:
        """What of a dict field with ``keys`` crosses (``None``: every key) and the drops of the rest, memoised:
        a health case's ~40 extras keys recur, in the same order, in every message of the same shape."""
        memo_key = (path, keys, recipient)
        known = self._keyed.get(memo_key)
        if known is None:
            kept: list[str] = []
            drops: list[Issue] = []
            for key in keys:
                name = f"{path}.{key}"
                ok, rule = self.crosses(name)
                if ok:
                    kept.append(key)
                else:
                    drops.append(self.drop(name, rule, recipient))
            known = (None if len(kept) == len(keys) else tuple(kept), tuple(drops))
            if len(keys) <= _KEYED_MAX_KEYS:  # a hostile message's thousands of keys are not kept
                if len(self._keyed) > _MEMO_LIMIT // 20:  # the keys of many shapes: stay bounded
                    self._keyed.clear()
                self._keyed[memo_key] = known
        return known

    def drop(self, path: str, rule: Rule | None, recipient: str) -> Issue:
        """The declared drop of withheld field ``path`` (memoised, bounded like the decisions)."""
        key = (path, recipient)
        issue = self._drops.get(key)
        if issue is None:
            if len(self._drops) > _MEMO_LIMIT:
                self._drops.clear()
            issue = self._drops[key] = Issue(path, _drop_message(rule, recipient), "dropped")
        return issue

    def with_opt_ins(self, allow: frozenset[str] | set[str] | tuple[str, ...], basis: str) -> Policy:
        """The same table with the deployment's opt-in fields; refuses a field the table does not mark ``opt-in``."""
        allow = frozenset(allow)
        problems: list[Issue] = []
        for name in sorted(allow):
            rule = self.rule_for(name)
            if rule is None or rule.decision != "opt-in":
                problems.append(Issue(f"confidentiality.allow_to_fire/{name}", "the table does not mark this field "
                                      f"opt-in ({rule.decision if rule else 'no row'})", "bad-opt-in"))
        if allow and not basis.strip():
            problems.append(Issue("confidentiality.basis", "opting fields in needs the documented basis it relies on",
                                  "missing-basis"))
        if problems:
            raise BridgeError("invalid confidentiality opt-in", problems)
        return Policy(self.rules, allow, basis.strip())

    def rule_for(self, name: str) -> Rule | None:
        """The first rule whose pattern matches ``name`` (memoised: the same names recur in every message)."""
        key = "rule:" + name
        if key not in self._memo:
            if len(self._memo) > _MEMO_LIMIT:  # hostile input with endless distinct keys: stay bounded
                self._memo.clear()
            rule = next((rule for rule in self.rules if fnmatchcase(name, rule.pattern)), None)
            self._memo[key] = (rule is not None, rule)
        return self._memo[key][1]

    def has_rows_under(self, name: str) -> bool:
        """Whether some row names a part of field ``name`` (``name.x``)."""
        key = "under:" + name
        if key not in self._memo:
            if len(self._memo) > _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = (any(rule.pattern.startswith(name + ".") for rule in self.rules), None)
        return self._memo[key][0]

    def decides_whole(self, name: str) -> bool:
        """Whether a row matches ``name`` itself and none names a part of it: the row decides for the whole value."""
        key = "whole:" + name
        known = self._memo.get(key)
        if known is None:
            whole = self.rule_for(name) is not None and not self.has_rows_under(name)
            if len(self._memo) > _MEMO_LIMIT:
                self._memo.clear()
            known = self._memo[key] = (whole, None)
        return known[0]

    def crosses(self, name: str) -> tuple[bool, Rule | None]:
        """Whether field ``name`` may go to the fire side, and the rule that decided."""
        known = self._memo.get(name)
        if known is None:
            if len(self._memo) > _MEMO_LIMIT:
                self._memo.clear()
            rule = self.rule_for(name)
            ok = rule is not None and (rule.decision == "cross" or (rule.decision == "opt-in" and name in self.allow))
            known = self._memo[name] = (ok, rule)
        return known


def parse_table(text: str, source: str = TABLE_NAME) -> Policy:
    """The policy of a CSV ``field,fire_side,basis`` table; every bad row is reported as ``file:line``."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or [name.strip() for name in reader.fieldnames[:3]] != ["field", "fire_side", "basis"]:
        raise BridgeError(f"{source}: header must be field,fire_side,basis",
                          [Issue(f"{source}:1", "header must be field,fire_side,basis", "bad-header")])
    rules: list[Rule] = []
    problems: list[Issue] = []
    for number, row in enumerate(reader, 2):
        pattern, decision, basis = ((row.get(key) or "").strip() for key in ("field", "fire_side", "basis"))
        if not pattern:
            continue
        if row.get(None):
            problems.append(Issue(f"{source}:{number}", "more than three columns (quote a basis holding commas)",
                                  "bad-row"))
        elif decision not in DECISIONS:
            problems.append(Issue(f"{source}:{number}", f"fire_side {decision!r} is not one of {', '.join(DECISIONS)}",
                                  "bad-decision"))
        elif not basis:
            problems.append(Issue(f"{source}:{number}", f"row {pattern!r} has no basis", "missing-basis"))
        else:
            rules.append(Rule(pattern, _DECISION_OF[decision], basis, number))
    if problems:
        raise BridgeError(f"{source}: {len(problems)} invalid row(s)", problems)
    return Policy(tuple(rules))


FLOOR = Policy((
    Rule("patients.*", "withhold", "no confidentiality table loaded: patients never cross", 0),
    Rule("extras.health.*", "withhold", "no confidentiality table loaded: health content never crosses", 0),
    Rule("*", "cross", "no confidentiality table loaded: everything else as before", 0),
))
"""What applies when a context carries no table (sans-IO callers, tests): patients and health extras withheld."""


def is_fire_side(recipient_id: str | None) -> bool:
    """A ``fr.fire.`` recipient (NexSIS, an SDIS) gets only what the table lets cross."""
    return recipient_id is not None and recipient_id.startswith(FIRE_PREFIX)


def apply(case: Case, policy: Policy | None, recipient_id: str | None) -> tuple[Case, list[Issue]]:
    """``case`` without what may not reach ``recipient_id``, and one declared drop per withheld value."""
    if not is_fire_side(recipient_id):
        return case, []
    policy = policy or FLOOR
    withheld: list[Issue] = []
    updates: dict[str, Any] = {}
    safe = policy.safe
    for name, value in case.__dict__.items():  # the fields, as iterating the model gives them (extra="forbid")
        if value is None or (type(value) in _EMPTIABLE and not value) or name == "dropped" or safe(name, type(value)):
            continue  # nothing there, or nothing of it may be withheld (one memoised answer per field and type)
        kept = _filter(name, value, policy, withheld, recipient_id or "")
        if kept is not value:
            updates[name] = kept
    if not updates:
        return case, []
    return copy_with(case, updates), withheld


def _filter(path: str, value: Any, policy: Policy, withheld: list[Issue], recipient: str) -> Any:
    """``value`` at ``path`` with withheld parts removed (the same object when nothing is).

    A row matching ``path`` itself decides for the whole value unless the table has finer rows
    under it (``extras.health.*`` under ``*``); otherwise its parts are decided one by one.
    """
    if policy.decides_whole(path):
        ok, rule = policy.crosses(path)
        if ok:
            return value
        withheld.append(policy.drop(path, rule, recipient))
        return _EMPTY.get(path)
    if isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
        items = [_filter_model(path, f"{path}[{index}]", item, policy, withheld, recipient)
                 for index, item in enumerate(value)]
        kept_items = tuple(item for item in items if item is not None)
        unchanged = all(a is b for a, b in zip(items, value, strict=True)) and len(kept_items) == len(value)
        return value if unchanged else kept_items
    if isinstance(value, dict):
        keys, drops = policy.keyed(path, tuple(value), recipient)
        if keys is None:
            return value
        withheld.extend(drops)
        return {key: value[key] for key in keys}
    if isinstance(value, BaseModel):
        return _filter_model(path, path, value, policy, withheld, recipient)
    ok, rule = policy.crosses(path)
    if ok:
        return value
    withheld.append(policy.drop(path, rule, recipient))
    return _EMPTY.get(path)


def _filter_model(rule_path: str, report_path: str, model: Any, policy: Policy, withheld: list[Issue],
                  recipient: str) -> Any:
    """A sub-model (caller, a patient...) without withheld fields; ``None`` when nothing of it may cross."""
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
    return copy_with(model, updates) if kept_any else None


_set_attribute = object.__setattr__


def copy_with(model: Any, updates: dict[str, Any]) -> Any:
    """``model.model_copy(update=updates)``: the same new model (fields, fields set), made directly.

    For a model with no extra fields and no private attributes (the canonical models: frozen,
    ``extra="forbid"``), pydantic's copy is a generic ``__copy__`` (four ``copy()`` calls) then the
    update; here the field dict is copied once (as ``pipeline.copy_with`` does for one field). Any
    other model takes ``model_copy`` itself.
    """
    if model.__pydantic_extra__ is not None or model.__pydantic_private__ is not None:
        return model.model_copy(update=updates)
    cls = model.__class__
    copied = cls.__new__(cls)
    fields = dict(model.__dict__)
    fields.update(updates)
    _set_attribute(copied, "__dict__", fields)
    _set_attribute(copied, "__pydantic_extra__", None)
    _set_attribute(copied, "__pydantic_fields_set__", model.__pydantic_fields_set__ | updates.keys())
    _set_attribute(copied, "__pydantic_private__", None)
    return copied


_EMPTY: dict[str, Any] = {"notes": (), "patients": ()}
_EMPTIABLE = (tuple, dict)  # a field value of these types is skipped when empty (a model is never compared to them)


@lru_cache(maxsize=256)
def _drop_message(rule: Rule | None, recipient: str) -> str:
    why = f"{rule.decision} ({TABLE_NAME}:{rule.line}: {rule.basis})" if rule and rule.line else (
        rule.basis if rule else f"no row of {TABLE_NAME} matches it (fail closed)")
    return f"withheld from fire-side recipient {recipient}: medical confidentiality, {why}"


__all__ = ["FLOOR", "Policy", "Rule", "apply", "is_fire_side", "parse_table"]

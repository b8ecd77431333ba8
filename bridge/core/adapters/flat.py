"""A Case seen as flat ``target -> value`` pairs, the vocabulary legacy profiles map to.

Legacy formats are flat records; the canonical case is nested. :func:`flatten`
(case -> targets) and :func:`placement` / :func:`place` / :func:`finish` (targets
-> the nested dict :class:`Case` validates, once) are the one bridge between the
two, so both legacy adapters share the same target names
(``qualification.whats_happen``, ``location.city``...) and the same list of what a
profile did not map, which becomes the dropped-field report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridge.core.canonical import Case

CODED = ("qualification.whats_happen", "qualification.location_kind", "qualification.health_motive")
SECTIONS = ("qualification", "location", "caller", "request", "answer")


def flatten(case: Case) -> dict[str, Any]:
    """Every set canonical field as ``target -> value`` (lists for repeated targets)."""
    flat: dict[str, Any] = {
        "case.case_id": case.case_id, "case.sender_case_id": case.sender_case_id, "case.created": case.created,
        "case.version": case.version if case.version != 1 else None,
    }
    for section in SECTIONS:
        model = getattr(case, section)
        if model is None:
            continue
        for name, value in model:
            flat[f"{section}.{name}"] = value
    for target in CODED:
        coded = flat.get(target)
        flat[target] = coded.code if coded else None
    flat["qualification.risk_threats"] = [r.code for r in case.qualification.risk_threats]
    flat["notes"] = [n.text for n in case.notes]
    if case.request is not None:
        flat["request.wanted"] = True
        flat["request.resources"] = list(case.request.resources)
        if flat.get("request.kind") == "AUTRE":
            flat["request.kind"] = None
    if flat.get("location.country") == "FR":
        flat["location.country"] = None
    flat.update({f"extras.{k}": v for k, v in case.extras.items()})
    return {k: v for k, v in flat.items() if v not in (None, "", [], ())}


# Where a target's value goes in the nested dict :class:`Case` validates (worked out once per target name).
TOP, EXTRA, NOTES, CODE, CODES, SECTION = range(6)
_PLACES: dict[str, tuple[int, str, str]] = {}
_MAX_PLACES = 1024  # extras.NAME targets come from profiles: bounded like any cache


def placement(target: str) -> tuple[int, str, str]:
    """``(how, section, name)``: how a value of ``target`` is put into the nested dict (see :func:`place`)."""
    known = _PLACES.get(target)
    if known is not None:
        return known
    section, _, name = target.partition(".")
    if section == "extras":
        how = EXTRA
    elif section == "case":
        how = TOP
    elif section == "notes":
        how = NOTES
    elif target in CODED:
        how = CODE
    elif target == "qualification.risk_threats":
        how = CODES
    else:
        how = SECTION
    if len(_PLACES) >= _MAX_PLACES:
        _PLACES.clear()
    _PLACES[target] = known = (how, section, name)
    return known


def new_nested() -> dict[str, Any]:
    """The nested dict :func:`place` fills (qualification and location are always there)."""
    return {"qualification": {}, "location": {}}


def place(nested: dict[str, Any], extras: dict[str, Any], where: tuple[int, str, str], value: Any,
          labels: Mapping[str, str]) -> None:
    """Put one target's value (never None) where :class:`Case` reads it; codes get their labels when known."""
    how, section, name = where
    if how == SECTION:
        sub = nested.get(section)
        if sub is None:
            sub = nested[section] = {}
        sub[name] = value
    elif how == CODE:
        nested["qualification"][name] = {"code": value, "label": labels.get(value)}
    elif how == TOP:
        nested[name] = value
    elif how == NOTES:
        nested["notes"] = [{"text": t} for t in value]
    elif how == CODES:
        nested["qualification"][name] = [{"code": c, "label": labels.get(c)} for c in value]
    else:
        extras[name] = value


def finish(nested: dict[str, Any], extras: dict[str, Any], patients: Any) -> dict[str, Any]:
    """The placed values made into what :class:`Case` validates: the request's flag, the answer's default status."""
    request = nested.get("request")
    if request is not None:
        wanted = request.pop("wanted", True)
        if not wanted and not request:
            nested.pop("request")
        else:
            request["resources"] = tuple(request.get("resources", ()))
    answer = nested.get("answer")
    if answer is not None and "status" not in answer:
        answer["status"] = "INCONNU"
    nested["patients"] = tuple(patients)
    nested["extras"] = extras
    return nested

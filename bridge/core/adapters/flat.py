"""A Case seen as flat ``target -> value`` pairs, the vocabulary legacy profiles map to.

Legacy formats are flat records; the canonical case is nested. :func:`flatten`
and :func:`unflatten` are the one bridge between the two, so both legacy
adapters share the same target names (``qualification.whats_happen``,
``location.city``...) and the same list of what a profile did not map, which
becomes the dropped-field report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridge.core.canonical import Case, Coded, Note, Patient

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


def unflatten(flat: dict[str, Any], patients: list[dict[str, Any]], labels: Mapping[str, str]) -> Case:
    """Build a Case from ``target -> value`` pairs; codes get their labels when known."""
    nested: dict[str, Any] = {"qualification": {}, "location": {}}
    extras: dict[str, str] = {}
    for target, value in flat.items():
        section, _, name = target.partition(".")
        if section == "extras":
            extras[name] = value
        elif section == "case":
            nested[name] = value
        elif section == "notes":
            nested["notes"] = tuple(Note(text=t) for t in value)
        else:
            nested.setdefault(section, {})[name] = value
    quali = nested["qualification"]
    for target in CODED:
        name = target.split(".")[1]
        if name in quali:
            quali[name] = Coded(code=quali[name], label=labels.get(quali[name]))
    if "risk_threats" in quali:
        quali["risk_threats"] = tuple(Coded(code=c, label=labels.get(c)) for c in quali["risk_threats"])
    request = nested.get("request")
    if request is not None:
        wanted = request.pop("wanted", True)
        if not wanted and not request:
            nested.pop("request")
        else:
            request["resources"] = tuple(request.get("resources", ()))
    if "answer" in nested and "status" not in nested["answer"]:
        nested["answer"]["status"] = "INCONNU"
    nested["patients"] = tuple(Patient(**p) for p in patients)
    nested["extras"] = extras
    return Case.model_validate(nested)

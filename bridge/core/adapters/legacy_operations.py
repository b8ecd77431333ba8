"""Missions and resources on a legacy case sheet, driven by the profile's ``[operations]`` section.

Each resource (and each mission) is a group of *parts*, every part one canonical
field of :mod:`bridge.core.operations`. Two layouts:

- ``indexed`` (``legacy-text`` key/value): ``MOYEN_{n}_{part}`` and ``MISSION_{n}_{part}``
  lines, ``n`` from 1; a list part (classes, linked resources, address lines...)
  repeats its line.
- ``elements`` (``legacy-xml``): one element per group (``MOYENS/MOYEN``,
  ``MISSIONS/MISSION``) holding one child element per part, repeated for list parts.

Part names are the canonical names below, upper-cased, unless the profile renames
them (``resource_parts`` / ``mission_parts``: legacy name -> canonical name). The RC-RI
vehicle status goes through the profile's ``state_table`` (legacy code <->
``HubSante.statutVecteur``); a code with no row passes through with a warning, never
dropped. EMSI codes (resource class, capability, EMSI status, mission type and status)
are official lists the LRM shows as they are. Dates use the profile's date format;
booleans are ``O``/``N``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from bridge.core.adapters.base import AdapterContext, dropped
from bridge.core.adapters.codes import map_code
from bridge.core.errors import InboundError, Issue
from bridge.core.numbers import coordinate_problem, number_problem, number_text_problem
from bridge.core.operations import Contact, Coord, Fix, Mission, Operations, Place, Resource, State

# canonical part -> (kind, is list); kinds: text, date, decimal, bool, state
RESOURCE_PARTS: dict[str, tuple[str, bool]] = {
    "id": ("text", False), "name": ("text", False), "org": ("text", False), "text": ("text", True),
    "contact_type": ("text", True), "contact_detail": ("text", True), "class": ("text", True),
    "capability": ("text", True), "characteristic": ("text", True), "quantity": ("decimal", False),
    "unit": ("text", False), "status": ("text", False), "nationality": ("text", False),
    "engaged": ("date", False), "vehicle_type": ("text", False), "team": ("text", False),
    "medical_level": ("text", False), "state": ("state", False), "state_time": ("date", False),
    "available": ("bool", False), "lat": ("decimal", False), "lon": ("decimal", False),
    "speed": ("decimal", False), "fix_time": ("date", False), "request": ("text", False),
    "mission": ("text", False), "operation": ("text", False), "center_name": ("text", False),
    "center_city": ("text", False),
}
MISSION_PARTS: dict[str, tuple[str, bool]] = {
    "id": ("text", False), "type": ("text", False), "name": ("text", False), "status": ("text", False),
    "org": ("text", False), "text": ("text", False), "start": ("date", False), "end": ("date", False),
    "priority": ("text", False), "resource": ("text", True), "parent": ("text", True), "child": ("text", True),
    "main": ("text", False), "loc_id": ("text", False), "place_name": ("text", False),
    "place_type": ("text", False), "height_role": ("text", False), "coordsys": ("text", False),
    "lat": ("decimal", True), "lon": ("decimal", True), "height": ("decimal", True), "address": ("text", True),
}
TRUE, FALSE = "O", "N"
AXES = {"lat": "lat", "lon": "lon"}  # parts checked as WGS84 degrees

Parts = dict[str, list[Any]]  # canonical part -> values (one unless a list part)
DateCodec = tuple[Callable[[str, str], datetime], Callable[[datetime], str]]


# ---- canonical <-> parts ----------------------------------------------------------------------

def resource_parts(r: Resource) -> Parts:
    """A resource as canonical parts (only the set ones)."""
    parts: dict[str, Any] = {
        "id": r.resource_id, "name": r.name, "org": r.org_id, "text": list(r.free_text),
        "contact_type": [c.type for c in r.contacts], "contact_detail": [c.detail for c in r.contacts],
        "class": list(r.classes), "capability": list(r.capabilities), "characteristic": list(r.characteristics),
        "quantity": r.quantity, "unit": r.unit, "status": r.status, "nationality": r.nationality,
        "engaged": r.engaged, "vehicle_type": r.vehicle_type, "team": r.team_name, "medical_level": r.medical_level,
        "request": r.request_id, "mission": r.mission_id, "operation": r.operation_id,
        "center_name": r.center_name, "center_city": r.center_city,
    }
    if r.state is not None:
        parts.update(state=r.state.status, state_time=r.state.time, available=r.state.available)
    if r.fix is not None:
        parts.update(lat=r.fix.lat, lon=r.fix.lon, speed=r.fix.speed, fix_time=r.fix.time)
    return _listed(parts)


def mission_parts(m: Mission) -> Parts:
    """A mission as canonical parts (only the set ones)."""
    parts: dict[str, Any] = {
        "id": m.mission_id, "type": m.type, "name": m.name, "status": m.status, "org": m.org_id,
        "text": m.free_text, "start": m.start, "end": m.end, "priority": m.priority,
        "resource": list(m.resource_ids), "parent": list(m.parent_ids), "child": list(m.child_ids),
        "main": m.main_id,
    }
    if m.place is not None:
        p = m.place
        parts.update(loc_id=p.loc_id, place_name=p.name, place_type=p.type, height_role=p.height_role,
                     coordsys=p.coordsys, address=list(p.address), lat=[c.lat for c in p.coords],
                     lon=[c.lon for c in p.coords], height=[c.height for c in p.coords])
    return _listed(parts)


def _listed(parts: dict[str, Any]) -> Parts:
    out: Parts = {}
    for name, value in parts.items():
        values = value if isinstance(value, list) else [value]
        if any(v is not None and v != "" for v in values):
            out[name] = values
    return out


def resource_from_parts(p: dict[str, list[Any]]) -> Resource:
    """The resource the parts describe (values already typed)."""
    one = _one(p)
    state = State(status=one("state"), time=one("state_time"), available=one("available")) if one("state") else None
    fix = (Fix(time=one("fix_time"), lat=one("lat"), lon=one("lon"), speed=one("speed"))
           if one("lat") is not None else None)
    return Resource(
        resource_id=one("id"), name=one("name"), org_id=one("org"), free_text=tuple(p.get("text", ())),
        contacts=tuple(Contact(type=t, detail=d) for t, d in zip(p.get("contact_type", ()),
                                                                   p.get("contact_detail", ()), strict=True)),
        classes=tuple(p.get("class", ())), capabilities=tuple(p.get("capability", ())),
        characteristics=tuple(p.get("characteristic", ())), quantity=one("quantity"), unit=one("unit"),
        status=one("status"), nationality=one("nationality"), engaged=one("engaged"),
        vehicle_type=one("vehicle_type"), team_name=one("team"), medical_level=one("medical_level"), state=state,
        fix=fix, request_id=one("request"), mission_id=one("mission"), operation_id=one("operation"),
        center_name=one("center_name"), center_city=one("center_city"),
    )


def mission_from_parts(p: dict[str, list[Any]]) -> Mission:
    """The mission the parts describe (values already typed)."""
    one = _one(p)
    place_keys = ("loc_id", "place_name", "place_type", "height_role", "coordsys", "lat", "address")
    place = None
    if any(k in p for k in place_keys):
        heights = list(p.get("height", ()))
        coords = tuple(Coord(lat=lat, lon=lon, height=heights[i] if i < len(heights) else None)
                       for i, (lat, lon) in enumerate(zip(p.get("lat", ()), p.get("lon", ()), strict=True)))
        place = Place(loc_id=one("loc_id"), name=one("place_name"), type=one("place_type"),
                      height_role=one("height_role"), coordsys=one("coordsys"), coords=coords,
                      address=tuple(p.get("address", ())))
    return Mission(
        mission_id=one("id"), type=one("type"), name=one("name"), status=one("status"), org_id=one("org"),
        free_text=one("text"), start=one("start"), end=one("end"), priority=one("priority"),
        resource_ids=tuple(p.get("resource", ())), parent_ids=tuple(p.get("parent", ())),
        child_ids=tuple(p.get("child", ())), main_id=one("main"), place=place,
    )


def _one(p: dict[str, list[Any]]) -> Callable[[str], Any]:
    def get(name: str) -> Any:
        values = p.get(name)
        return values[0] if values else None
    return get


# ---- legacy groups <-> operations --------------------------------------------------------------

Group = list[tuple[str, str, str]]  # (legacy part name, text, where)


def legacy_names(renames: dict[str, str], vocabulary: dict[str, tuple[str, bool]]) -> dict[str, str]:
    """Canonical part -> legacy part name: the profile's renames, else the canonical name upper-cased."""
    names = {canonical: canonical.upper() for canonical in vocabulary}
    names.update({canonical: legacy for legacy, canonical in renames.items()})
    return names


def decode_groups(resources: list[Group], missions: list[Group], spec: Any, ctx: AdapterContext,
                  dates: DateCodec) -> tuple[Operations | None, list[Issue], list[Issue]]:
    """Typed operations from legacy groups; unknown parts are dropped (named), codes mapped, warnings kept."""
    warnings: list[Issue] = []
    drops: list[Issue] = []
    out_resources = []
    for group in resources:
        parts = _typed(group, spec.resource_parts, RESOURCE_PARTS, spec, ctx, dates, warnings, drops)
        out_resources.append(_build(resource_from_parts, parts, group, "resource"))
    out_missions = []
    for group in missions:
        parts = _typed(group, spec.mission_parts, MISSION_PARTS, spec, ctx, dates, warnings, drops)
        out_missions.append(_build(mission_from_parts, parts, group, "mission"))
    operations = Operations(missions=tuple(out_missions), resources=tuple(out_resources))
    return (operations or None), drops, warnings


def _build(make: Callable[[dict[str, list[Any]]], Any], parts: dict[str, list[Any]], group: Group, what: str) -> Any:
    try:
        return make(parts)
    except ValueError as exc:  # pydantic: a required part missing, or list parts that do not pair up
        where = group[0][2] if group else what
        first = str(exc).splitlines()
        reason = " ".join(first[1:3]).strip() if len(first) > 2 else str(exc)
        raise InboundError(f"{what} at {where} is incomplete: {reason}",
                           [Issue(where, f"{what}: {reason}", "invalid")]) from None


def _typed(group: Group, renames: dict[str, str], vocabulary: dict[str, tuple[str, bool]], spec: Any,
           ctx: AdapterContext, dates: DateCodec, warnings: list[Issue], drops: list[Issue]) -> dict[str, list[Any]]:
    by_legacy = {legacy: canonical for canonical, legacy in legacy_names(renames, vocabulary).items()}
    parts: dict[str, list[Any]] = {}
    for legacy, text, where in group:
        canonical = by_legacy.get(legacy)
        if canonical is None:
            drops.append(dropped(where, f"{legacy}={text!r} is not an operations part of this profile"))
            continue
        kind, is_list = vocabulary[canonical]
        if text.strip() == "":
            continue
        if parts.get(canonical) and not is_list:
            warnings.append(Issue(where, f"{legacy} given twice in one group; the first value is used",
                                  "repeated-field"))
            continue
        parts.setdefault(canonical, []).append(_decode(kind, text.strip(), where, legacy, spec, ctx, dates, warnings,
                                                       canonical))
    return parts


def _decode(kind: str, text: str, where: str, legacy: str, spec: Any, ctx: AdapterContext, dates: DateCodec,
            warnings: list[Issue], canonical: str = "") -> Any:
    if kind == "date":
        return dates[0](text, where)
    if kind == "decimal":
        problem = number_text_problem(text)
        try:
            value = None if problem else Decimal(text.replace(",", "."))
        except ArithmeticError:
            value = None
        reason = (problem[1] if problem else None) if value is None else (
            coordinate_problem(value, legacy_axis) if (legacy_axis := AXES.get(canonical)) else
            (number_problem(value) or (None, None))[1])
        if value is None or reason:
            raise InboundError(f"{legacy}: {text[:40]!r} is not a number",
                               [Issue(where, f"{legacy}={text[:40]!r}: {reason or 'not a decimal number'}",
                                      "bad-number")])
        return value
    if kind == "bool":
        if text.upper() not in (TRUE, FALSE):
            raise InboundError(f"{legacy}: {text!r} is not {TRUE} or {FALSE}",
                               [Issue(where, f"{legacy}={text!r}: expected {TRUE} or {FALSE}", "bad-value")])
        return text.upper() == TRUE
    if kind == "state":
        code, issues = map_code(ctx, spec.state_table, text, where, "forward")
        warnings.extend(issues)
        return code
    return text


def encode_groups(operations: Operations | None, spec: Any, ctx: AdapterContext, fmt_date: Callable[[datetime], str]
                  ) -> tuple[list[list[tuple[str, str]]], list[list[tuple[str, str]]], list[Issue]]:
    """Resource groups and mission groups as (legacy part name, text) lists, plus mapping warnings."""
    if not operations:
        return [], [], []
    warnings: list[Issue] = []
    res_names = legacy_names(spec.resource_parts, RESOURCE_PARTS)
    mis_names = legacy_names(spec.mission_parts, MISSION_PARTS)
    resources = [_encode_group(resource_parts(r), res_names, RESOURCE_PARTS, spec, ctx, fmt_date, warnings,
                               f"operations.resources/{i}") for i, r in enumerate(operations.resources)]
    missions = [_encode_group(mission_parts(m), mis_names, MISSION_PARTS, spec, ctx, fmt_date, warnings,
                              f"operations.missions/{i}") for i, m in enumerate(operations.missions)]
    return resources, missions, warnings


def _encode_group(parts: Parts, names: dict[str, str], vocabulary: dict[str, tuple[str, bool]], spec: Any,
                  ctx: AdapterContext, fmt_date: Callable[[datetime], str], warnings: list[Issue],
                  path: str) -> list[tuple[str, str]]:
    out = []
    for canonical in vocabulary:  # a stable order: the vocabulary's
        for value in parts.get(canonical, ()):
            if value is None:
                continue
            kind = vocabulary[canonical][0]
            if kind == "date":
                text = fmt_date(value)
            elif kind == "bool":
                text = TRUE if value else FALSE
            elif kind == "state":
                code, issues = map_code(ctx, spec.state_table, value, f"{path}/state", "reverse")
                warnings.extend(issues)
                text = code or value
            else:
                text = str(value)
            out.append((names[canonical], text))
    return out


def indexed_key(template: str, n: int, part: str) -> str:
    """``MOYEN_{n}_{part}`` filled in."""
    return template.replace("{n}", str(n)).replace("{part}", part)


@lru_cache(maxsize=64)
def indexed_pattern(template: str) -> re.Pattern[str]:
    """The regex that reads ``n`` and ``part`` back from an indexed key (built once per template)."""
    return re.compile(re.escape(template).replace(r"\{n\}", r"(?P<n>[1-9]\d{0,3})")
                      .replace(r"\{part\}", r"(?P<part>[A-Za-z0-9_]+?)") + "$")


def not_carried(case_operations: Operations | None, profile_name: str) -> list[Issue]:
    """The declared drops of a profile with no ``[operations]`` section."""
    if not case_operations:
        return []
    return ([dropped(f"operations.missions/{i}", f"{profile_name} has no place for missions ({m.mission_id})")
             for i, m in enumerate(case_operations.missions)]
            + [dropped(f"operations.resources/{i}", f"{profile_name} has no place for resources ({r.resource_id})")
               for i, r in enumerate(case_operations.resources)])

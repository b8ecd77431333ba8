"""EMSI operations: ``MISSION`` and ``RESOURCE`` lists <-> :class:`bridge.core.operations.Operations`.

The EMSI adapter reads the request and answer missions itself (``#DEMANDE_CONCOURS#``,
``#REPONSE_DEMANDE_CONCOURS#``); every other mission (``#OPERATION_GLOBALE#``,
``#MISSION#``, whatever the partner names it) and every resource is read here, field by
field, through the adapter's :class:`Reader`, so a leaf this module does not know is still
reported as dropped. Going out, a resource that EMSI cannot describe (no ``RTYPE.RCLASS``
or no EMSI ``STATUS``: an RC-RI vehicle, say) is a declared drop, never a made-up class.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from bridge.core.adapters.base import dropped
from bridge.core.adapters.hubjson import hub_datetime, parse_datetime
from bridge.core.adapters.tracking import Reader
from bridge.core.errors import Issue
from bridge.core.operations import Contact, Coord, Mission, Operations, Place, Resource

ASSISTANCE = re.compile(r"^#(REPONSE_)?DEMANDE_CONCOURS#", re.IGNORECASE)
BEYOND_ASSISTANCE = ("ORG_ID", "POSITION", "PRIORITY", "END_TIME", "PARENT_MISSION_ID", "CHILD_MISSION_ID")
DEFAULTED = ("START_TIME", "STATUS")
RC_RI_ONLY = ("engaged", "vehicle_type", "team_name", "medical_level", "state", "fix", "request_id", "mission_id",
              "operation_id", "center_name", "center_city")


# ---- EMSI -> operations ---------------------------------------------------------------------------

def read_operations(r: Reader) -> Operations | None:
    """Every mission and resource of an EMSI payload read through ``r``.

    A request or answer mission that says more than the adapter's AssistanceRequest/
    Answer holds (an ORG_ID, a POSITION, a PRIORITY...) is kept whole here too, so
    :func:`complete_assistance` can give it back; one that does not (what the bridge
    itself builds for an LRM's request) is not repeated as an operation.
    """
    missions = [_mission(r, i) for i, m in enumerate(_list(r.data.get("MISSION")))
                if isinstance(m, dict) and (not ASSISTANCE.match(str(m.get("NAME", "")))
                                            or any(key in m for key in BEYOND_ASSISTANCE))]
    resources = [_resource(r, i) for i, _ in enumerate(_list(r.data.get("RESOURCE")))]
    operations = Operations(missions=tuple(missions), resources=tuple(resources))
    return operations or None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(r: Reader, *path: str | int) -> tuple[str, ...]:
    value = r.get(*path)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TypeError(f"{r.pointer(*path)} is not a list")
    return tuple(str(v) for v in value)


def _mission(r: Reader, i: int) -> Mission:
    m = ("MISSION", i)
    return Mission(
        mission_id=r.get(*m, "ID"), type=r.get(*m, "TYPE"), name=r.get(*m, "NAME"), status=r.get(*m, "STATUS"),
        org_id=r.get(*m, "ORG_ID"), free_text=r.get(*m, "FREETEXT"),
        start=parse_datetime(r.get(*m, "START_TIME"), r.pointer(*m, "START_TIME")),
        end=parse_datetime(r.get(*m, "END_TIME"), r.pointer(*m, "END_TIME")),
        priority=r.get(*m, "PRIORITY"), resource_ids=_strings(r, *m, "RESOURCE_ID"),
        parent_ids=_strings(r, *m, "PARENT_MISSION_ID"), child_ids=_strings(r, *m, "CHILD_MISSION_ID"),
        main_id=r.get(*m, "MAIN_MISSION_ID"), place=_place(r, *m, "POSITION"),
    )


def _place(r: Reader, *path: str | int) -> Place | None:
    node = r.data
    for step in path:
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            node = None
    if not isinstance(node, dict):
        return None
    coords = tuple(Coord(lat=r.get(*path, "COORD", j, "LAT"), lon=r.get(*path, "COORD", j, "LONG"),
                         height=r.get(*path, "COORD", j, "HEIGHT"))
                   for j, _ in enumerate(_list(node.get("COORD"))))
    return Place(loc_id=r.get(*path, "LOC_ID"), name=r.get(*path, "NAME"), type=r.get(*path, "TYPE"),
                 height_role=r.get(*path, "HEIGHT_ROLE"), coordsys=r.get(*path, "COORDSYS"), coords=coords,
                 address=_strings(r, *path, "ADDRESS"))


def _resource(r: Reader, i: int) -> Resource:
    res = ("RESOURCE", i)
    contacts = tuple(Contact(type=r.get(*res, "CONTACTS", j, "TYPE"), detail=r.get(*res, "CONTACTS", j, "DETAIL"))
                     for j, _ in enumerate(_list((r.data["RESOURCE"][i] or {}).get("CONTACTS"))))
    free_text = r.get(*res, "FREETEXT")
    quantity = r.get(*res, "QUANTITY")
    return Resource(
        resource_id=r.get(*res, "ID"), name=r.get(*res, "NAME"), org_id=r.get(*res, "ORG_ID"),
        free_text=(free_text,) if free_text else (), contacts=contacts,
        classes=_strings(r, *res, "RTYPE", "RCLASS"), capabilities=_strings(r, *res, "RTYPE", "CAPABILITY"),
        characteristics=_strings(r, *res, "RTYPE", "CHARACTERISTICS"),
        quantity=Decimal(str(quantity)) if quantity is not None else None, unit=r.get(*res, "UM"),
        status=r.get(*res, "STATUS"), nationality=r.get(*res, "NATIONALITY"),
    )


# ---- operations -> EMSI ---------------------------------------------------------------------------

def write_operations(operations: Operations | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Issue]]:
    """EMSI ``MISSION`` items, ``RESOURCE`` items, and what EMSI cannot carry (declared drops)."""
    if not operations:
        return [], [], []
    drops: list[Issue] = []
    missions = [_mission_out(m) for m in operations.missions if not ASSISTANCE.match(m.name)]
    resources = []
    for index, resource in enumerate(operations.resources):
        where = f"operations.resources/{index}"
        if not resource.classes or not resource.status or not resource.name:
            drops.append(dropped(where, f"resource {resource.resource_id}: EMSI RESOURCE needs NAME, RTYPE.RCLASS "
                                        "and STATUS, which this resource does not all have (an RC-RI vehicle?)"))
            continue
        if len(resource.free_text) > 1:
            drops += [dropped(f"{where}/free_text/{j}", "EMSI RESOURCE has one FREETEXT")
                      for j in range(1, len(resource.free_text))]
        drops += [dropped(f"{where}/{name}", "RC-RI field with no EMSI RESOURCE counterpart")
                  for name in RC_RI_ONLY if getattr(resource, name) is not None]
        resources.append(_resource_out(resource))
    return missions, resources, drops


def complete_assistance(generated: list[dict[str, Any]], operations: Operations | None) -> list[dict[str, Any]]:
    """Request/answer missions built from the case, completed with what the received ones also said.

    The case's request and answer (possibly changed by the LRM) win for every field
    they set; the received mission of the same request id (or the received answer)
    gives back the rest (ORG_ID, STATUS, times, POSITION, PRIORITY, its own ID). STATUS
    and START_TIME are defaults when the adapter builds a request, so the received ones win.
    """
    if not operations:
        return generated
    received = [m for m in operations.missions if ASSISTANCE.match(m.name)]
    result = []
    for mission in generated:
        answer = str(mission.get("NAME", "")).upper().startswith("#REPONSE_")
        same = next((m for m in received if m.name.upper().startswith("#REPONSE_") == answer
                     and (answer or m.mission_id == mission.get("ID"))), None)
        if same is None:
            result.append(mission)
            continue
        full = _mission_out(same)
        if answer:  # the generated answer has a fresh ID; the received one keeps its own
            mission = {**mission, "ID": same.mission_id}
        merged = {**full, **{k: v for k, v in mission.items() if v not in (None, "", [])}}
        for key in DEFAULTED:  # the adapter's defaults, not the case's: the received value wins
            merged[key] = full.get(key) or merged.get(key)
        if str(merged["NAME"]).upper() == same.name.upper():  # same name, the sender's spelling
            merged["NAME"] = same.name
        result.append(merged)
    return result


def _mission_out(m: Mission) -> dict[str, Any]:
    return {
        "TYPE": m.type, "FREETEXT": m.free_text, "ID": m.mission_id, "ORG_ID": m.org_id, "NAME": m.name,
        "STATUS": m.status, "START_TIME": hub_datetime(m.start) if m.start else None,
        "END_TIME": hub_datetime(m.end) if m.end else None, "RESOURCE_ID": list(m.resource_ids),
        "PARENT_MISSION_ID": list(m.parent_ids), "CHILD_MISSION_ID": list(m.child_ids),
        "MAIN_MISSION_ID": m.main_id, "POSITION": _place_out(m.place), "PRIORITY": m.priority,
    }


def _place_out(place: Place | None) -> dict[str, Any] | None:
    if place is None:
        return None
    return {"LOC_ID": place.loc_id, "NAME": place.name, "TYPE": place.type, "HEIGHT_ROLE": place.height_role,
            "COORDSYS": place.coordsys,
            "COORD": [{"LAT": c.lat, "LONG": c.lon, "HEIGHT": c.height} for c in place.coords],
            "ADDRESS": list(place.address)}


def _resource_out(res: Resource) -> dict[str, Any]:
    return {
        "RTYPE": {"RCLASS": list(res.classes), "CAPABILITY": list(res.capabilities),
                  "CHARACTERISTICS": list(res.characteristics)},
        "ID": res.resource_id, "ORG_ID": res.org_id, "NAME": res.name,
        "FREETEXT": res.free_text[0] if res.free_text else None, "QUANTITY": res.quantity, "UM": res.unit,
        "STATUS": res.status, "NATIONALITY": res.nationality,
        "CONTACTS": [{"TYPE": c.type, "DETAIL": c.detail} for c in res.contacts],
    }

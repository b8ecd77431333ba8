"""``rc-ri-json`` / ``rc-ri-xml``: CISU RC-RI (``resourcesInfoCisu``) <-> the case's resources.

An RC-RI message says, for one shared case (``caseId``), which resources a partner
engaged and where each one stands: vehicle type, team and medical level, status
(``HubSante.statutVecteur``: ``DECLENCHE``, ``DEPART``, ``ARRIVEE``... ``REN-BASE``)
with its time and availability, last position, request/mission/operation ids. It is
read into :attr:`Case.operations` (``Resource`` fields ``engaged``, ``vehicle_type``,
``team_name``, ``medical_level``, ``state``, ``fix``...). The message carries nothing
else, so going out every other case field is a declared drop, and so is a resource
lacking what RC-RI requires (engagement time, vehicle type, status) — an EMSI resource,
typically — rather than a made-up value.

The two adapters are the ``RC_RI`` kind of the generic Hub payload adapter
(:mod:`bridge.core.adapters.hub_payload`): strict input, EDXL-DE unwrapping, the
schema's required fields, and the unread case fields reported as dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bridge.core.adapters.base import AdapterContext, Decoded, dropped
from bridge.core.adapters.codes import map_code
from bridge.core.adapters.consumed import unwrap_tracked
from bridge.core.adapters.hub_payload import PayloadKind, adapter_class, decode_payload, encode_payload
from bridge.core.adapters.hubjson import hub_datetime, parse_datetime, prune
from bridge.core.adapters.rc_eda import case_id_for
from bridge.core.adapters.tracking import Reader
from bridge.core.canonical import Case
from bridge.core.errors import InboundError, Issue, OutboundError
from bridge.core.operations import Contact, Fix, Operations, Resource, State

PAYLOAD = "resourcesInfoCisu"
VEHICLE_TABLE = "hubsante-vecteur-cisu"
"""HubSante.typeVecteur (RS-RI: ``SMUR.VLM``...) -> the RC-RI list (``SMUR``, ``SIS``); mappings/tables.toml."""
EMSI_ONLY = ("classes", "capabilities", "characteristics", "quantity", "unit", "status", "nationality")


def decode_rc_ri(payload: dict[str, Any], ctx: AdapterContext) -> Decoded:
    """resourcesInfoCisu dict -> a case holding only its id and resources; unread leaves dropped."""
    return decode_payload(payload, RC_RI, ctx)


def _decode(payload: dict[str, Any], ctx: AdapterContext) -> Decoded:
    r = Reader(payload, f"/{PAYLOAD}")
    items = payload.get("resource")
    if not isinstance(items, list):
        raise TypeError("resource is not a list")
    resources = tuple(_resource(r, i) for i, _ in enumerate(items))
    case = Case(case_id=r.get("caseId"), operations=Operations(resources=resources) or None)
    return Decoded(case=case, dropped=r.leftover())


def resource_fields(r: Reader, i: int) -> dict[str, Any]:
    """The fields RC-RI and the health RS-RI share for resource ``i``, as ``Resource`` keyword arguments."""
    res = ("resource", i)
    item = r.data["resource"][i]
    if not isinstance(item, dict):
        raise TypeError(f"{r.pointer(*res)} is not an object")
    contact = item.get("contact")
    free = r.get(*res, "freetext") or []
    if not isinstance(free, list):
        raise TypeError(f"{r.pointer(*res, 'freetext')} is not a list")
    return {
        "resource_id": r.get(*res, "resourceId"), "name": r.get(*res, "name"), "org_id": r.get(*res, "orgId"),
        "free_text": tuple(str(t) for t in free),
        "contacts": (Contact(type=r.get(*res, "contact", "type"), detail=r.get(*res, "contact", "details")),)
        if isinstance(contact, dict) and contact.get("type") and contact.get("details") else (),
        "engaged": parse_datetime(r.get(*res, "datetime"), r.pointer(*res, "datetime")),
        "vehicle_type": r.get(*res, "vehicleType"), "team_name": r.get(*res, "team", "name"),
        "medical_level": r.get(*res, "team", "medicalLevel"),
        "request_id": r.get(*res, "requestId"), "mission_id": r.get(*res, "missionId"),
        "center_name": r.get(*res, "centerName"), "center_city": r.get(*res, "centerCity"),
    }


def _resource(r: Reader, i: int) -> Resource:
    res = ("resource", i)
    common = resource_fields(r, i)
    item = r.data["resource"][i]
    state = item.get("state")
    fix = item.get("position")
    return Resource(
        **common,
        state=State(status=r.get(*res, "state", "status"), time=_when(r, *res, "state", "datetime"),
                    available=r.get(*res, "state", "availability")) if isinstance(state, dict) else None,
        fix=Fix(time=_when(r, *res, "position", "datetime"),
                lat=r.get(*res, "position", "coord", "lat"), lon=r.get(*res, "position", "coord", "lon"),
                speed=r.get(*res, "position", "speed")) if isinstance(fix, dict) else None,
        operation_id=r.get(*res, "operationId"),
    )


def _when(r: Reader, *path: str | int) -> datetime:
    """A date the schema requires: missing is the sender's fault, named by its pointer."""
    value = parse_datetime(r.get(*path), r.pointer(*path))
    if value is None:
        raise InboundError(f"{r.pointer(*path)} is missing", [Issue(r.pointer(*path), "required date missing",
                                                                     "missing-field")])
    return value


def encode_rc_ri(case: Case, ctx: AdapterContext) -> tuple[dict[str, Any], list[Issue], list[Issue]]:
    """Case -> resourcesInfoCisu dict, the case fields RC-RI cannot carry, and warnings (vehicle types altered)."""
    return encode_payload(case, RC_RI, ctx)


def _encode(case: Any, ctx: AdapterContext) -> tuple[dict[str, Any], list[Issue]]:
    """(tracked case) -> payload, and warnings with the operations' own drops; every other unread case field is
    reported by the generic adapter (``RC_RI.drop_reason``)."""
    warnings: list[Issue] = []
    operations = unwrap_tracked(case.operations) or Operations()  # read whole: its drops are listed here
    drops: list[Issue] = [dropped(f"operations.missions/{i}", "RC-RI has no missions (EMSI carries them)")
              for i, _ in enumerate(operations.missions)]
    items: list[dict[str, Any]] = []
    for index, res in enumerate(operations.resources):
        where = f"operations.resources/{index}"
        if res.engaged is None or res.vehicle_type is None or res.state is None:
            missing = ", ".join(name for name, value in (("engagement time", res.engaged),
                                                         ("vehicle type", res.vehicle_type), ("status", res.state))
                                if value is None)
            drops.append(dropped(where, f"resource {res.resource_id}: RC-RI requires {missing}, which the input "
                                        "did not carry (an EMSI resource, or an RS-SR status alone?)"))
            continue
        try:
            vehicle, vehicle_warnings = map_code(ctx, VEHICLE_TABLE, res.vehicle_type, f"{where}/vehicle_type")
        except InboundError as exc:  # the table's reject policy: not SMUR or SIS, no RC-RI value
            drops.append(dropped(where, f"resource {res.resource_id}: vehicle type {res.vehicle_type!r} has no "
                                        f"RC-RI value ({exc.message})"))
            continue
        warnings += vehicle_warnings
        if vehicle != res.vehicle_type:
            warnings.append(Issue(f"{where}/vehicle_type", f"vehicle type {res.vehicle_type!r} sent as {vehicle!r}: "
                                  "RC-RI lists SMUR and SIS only", "value-altered"))
            res = res.model_copy(update={"vehicle_type": vehicle})
        latest = res.latest
        if latest is not res.state:  # RS-RI lists statuses in no set order: RC-RI carries the latest by time
            res = res.model_copy(update={"state": latest, "history": tuple(
                s for s in (*res.history, res.state) if s is not latest and s is not None)})
        drops += [dropped(f"{where}/history/{j}", f"RC-RI carries the current status only: earlier status "
                                                  f"{s.status} ({hub_datetime(s.time)}) not sent")
                  for j, s in enumerate(res.history)]
        drops += [dropped(f"{where}/{name}", "EMSI field with no RC-RI counterpart")
                  for name in EMSI_ONLY if getattr(res, name) not in (None, ())]
        drops += [dropped(f"{where}/contacts/{j}", "RC-RI has one contact") for j in range(1, len(res.contacts))]
        items.append(_resource_out(res))
    if not items:
        raise OutboundError("RC-RI needs at least one resource with an engagement time, a vehicle type (SMUR or SIS) "
                            "and a status; none of this case's resources has them all",
                            [Issue(d.path, d.message, "missing-field") for d in drops
                             if d.path.startswith("operations.resources/")]
                            or [Issue("operations.resources", "no resource", "missing-field")])
    payload = {"caseId": case_id_for(case, ctx), "resource": items}
    return prune(payload), warnings + drops


def _resource_out(res: Resource) -> dict[str, Any]:
    state = res.state
    fix = res.fix
    contact = res.contacts[0] if res.contacts else None
    return {
        "datetime": hub_datetime(res.engaged) if res.engaged else None, "resourceId": res.resource_id,
        "requestId": res.request_id, "missionId": res.mission_id, "operationId": res.operation_id,
        "orgId": res.org_id, "centerName": res.center_name, "vehicleType": res.vehicle_type, "name": res.name,
        "centerCity": res.center_city,
        "team": {"medicalLevel": res.medical_level, "name": res.team_name},
        "state": {"datetime": hub_datetime(state.time), "status": state.status,
                  "availability": state.available} if state else None,
        "position": {"datetime": hub_datetime(fix.time), "speed": fix.speed,
                     "coord": {"lat": fix.lat, "lon": fix.lon}} if fix else None,
        "contact": {"type": contact.type, "details": contact.detail} if contact else None,
        "freetext": list(res.free_text),
    }


RC_RI = PayloadKind(
    payload=PAYLOAD, title="RC-RI resourcesInfoCisu", required=("caseId", "resource"), decode=_decode,
    encode=_encode, drop_reason="RC-RI carries the engaged resources only",
)
RcRiJsonAdapter = adapter_class("rc-ri-json", RC_RI, "json")
RcRiXmlAdapter = adapter_class("rc-ri-xml", RC_RI, "xml")

"""``rs-ri-*`` (health resources info) and ``rs-sr-*`` (resource status) <-> the case's operations.

RS-RI (``resourcesInfo``) is the 15-15 twin of CISU RC-RI: for one shared case, the
resources a SAMU engaged, each with its vehicle type (the full ``HubSante.typeVecteur``
list, ``SMUR.VLM``...), team, contact and the *list* of its statuses
(``HubSante.statutVecteur``). It is read into :attr:`Case.operations`: the last status is
:attr:`Resource.state` (what RC-RI carries), the earlier ones :attr:`Resource.history`.
A resource's ``patientId`` is health-only content: it travels as the extra
``health./resource/{i}/patientId`` (withheld from fire-side recipients by the
confidentiality table, given back to an RS-RI target).

RS-SR (``resourcesStatus``) carries one status of one resource: it becomes a case whose
operations hold that resource with only its id and state. Encoding RS-SR needs exactly one
resource with a status; anything else is refused, never guessed.

Both are :class:`~bridge.core.adapters.hub_payload.PayloadKind` s on the generic adapter:
encoders read the case through a tracked view, so every held field they do not write
(RC-RI's position and operation id, the case's qualification...) is a declared drop.
Codes are the official lists on both sides (RS-RI and RS-SR use ``HubSante.typeVecteur``
and ``HubSante.statutVecteur`` as is), so nothing is translated here; the narrower RC-RI
vehicle-type list is handled by the ``hubsante-vecteur-cisu`` table in ``rc_ri``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bridge.core.adapters.base import AdapterContext, Decoded, dropped
from bridge.core.adapters.hub_payload import PayloadKind, adapter_class
from bridge.core.adapters.hubjson import hub_datetime, parse_datetime, prune
from bridge.core.adapters.rc_eda import case_id_for
from bridge.core.adapters.rc_ri import resource_fields
from bridge.core.adapters.tracking import Reader
from bridge.core.canonical import Case
from bridge.core.errors import HubErrorCode, InboundError, Issue, OutboundError
from bridge.core.operations import Operations, Resource, State

RS_RI_PAYLOAD = "resourcesInfo"
RS_SR_PAYLOAD = "resourcesStatus"
PATIENT_EXTRA = "health./resource/{index}/patientId"
"""Where a resource's ``patientId`` travels in :attr:`Case.extras` (health-only: never to the fire side)."""
_MAX_STATES = 1_000


def _when(r: Reader, *path: str | int) -> datetime:
    value = parse_datetime(r.get(*path), r.pointer(*path))
    if value is None:
        raise InboundError(f"{r.pointer(*path)} is missing", [Issue(r.pointer(*path), "required date missing",
                                                                     "missing-field")],
                           HubErrorCode.INVALID_MESSAGE)
    return value


def _state(r: Reader, *path: str | int) -> State:
    return State(status=r.get(*path, "status"), time=_when(r, *path, "datetime"),
                 available=r.get(*path, "availability"))


# ---- RS-RI -------------------------------------------------------------------------------

def _decode_rs_ri(payload: dict[str, Any], ctx: AdapterContext) -> Decoded:
    r = Reader(payload, f"/{RS_RI_PAYLOAD}")
    items = payload.get("resource")
    if not isinstance(items, list):
        raise TypeError("resource is not a list")
    extras: dict[str, str] = {}
    resources = tuple(_resource_in(r, i, extras) for i, _ in enumerate(items))
    case = Case(case_id=r.get("caseId"), operations=Operations(resources=resources) or None, extras=extras)
    return Decoded(case=case, dropped=r.leftover())


def _resource_in(r: Reader, i: int, extras: dict[str, str]) -> Resource:
    res = ("resource", i)
    common = resource_fields(r, i)  # checks that the item is an object
    states = r.data["resource"][i].get("state") or []
    if not isinstance(states, list) or len(states) > _MAX_STATES:
        raise TypeError(f"{r.pointer(*res, 'state')} is not a list of at most {_MAX_STATES} statuses")
    read = tuple(_state(r, *res, "state", j) for j, _ in enumerate(states))
    patient = r.get(*res, "patientId")
    if patient is not None:
        extras[PATIENT_EXTRA.format(index=i)] = str(patient)
    return Resource(**common, state=read[-1] if read else None, history=read[:-1])


def _state_out(state: Any) -> dict[str, Any]:
    return {"datetime": hub_datetime(state.time), "status": state.status, "availability": state.available}


def _encode_rs_ri(case: Any, ctx: AdapterContext) -> tuple[dict[str, Any], list[Issue]]:
    """Tracked case -> resourcesInfo; a resource lacking what RS-RI requires is a declared drop."""
    operations = case.operations
    resources = operations.resources if operations is not None else ()
    items: list[dict[str, Any]] = []
    warnings: list[Issue] = []
    for index, res in enumerate(resources):
        where = f"operations.resources/{index}"
        if res.engaged is None or res.vehicle_type is None:
            warnings.append(dropped(where, f"resource {res.resource_id}: RS-RI needs an engagement time and a "
                                           "vehicle type, which this resource does not both have (an EMSI one?)"))
            continue
        contact = res.contacts[0] if res.contacts else None
        patient = case.extras.get(PATIENT_EXTRA.format(index=index)) if case.extras else None
        items.append({
            "datetime": hub_datetime(res.engaged), "resourceId": res.resource_id, "requestId": res.request_id,
            "missionId": res.mission_id, "orgId": res.org_id, "patientId": patient,
            "centerName": res.center_name, "vehicleType": res.vehicle_type, "name": res.name,
            "centerCity": res.center_city,
            "team": {"medicalLevel": res.medical_level, "name": res.team_name},
            "state": [_state_out(s) for s in (*res.history, *((res.state,) if res.state is not None else ()))],
            "contact": {"type": contact.type, "details": contact.detail} if contact else None,
            "freetext": list(res.free_text),
        })
    if not items:
        raise OutboundError("RS-RI needs at least one resource with an engagement time and a vehicle type; "
                            "this case has none",
                            [Issue("operations.resources", "no resource RS-RI can carry", "missing-field")])
    return prune({"caseId": case_id_for(case, ctx), "resource": items}), warnings


RS_RI = PayloadKind(
    payload=RS_RI_PAYLOAD, title="RS-RI resourcesInfo", required=("caseId", "resource"),
    decode=_decode_rs_ri, encode=_encode_rs_ri,
    drop_reason="RS-RI has no field for it (it carries the engaged resources, without position or operation id)",
    model_side="health",
)
RsRiJsonAdapter = adapter_class("rs-ri-json", RS_RI, "json")
RsRiXmlAdapter = adapter_class("rs-ri-xml", RS_RI, "xml")


# ---- RS-SR -------------------------------------------------------------------------------

def _decode_rs_sr(payload: dict[str, Any], ctx: AdapterContext) -> Decoded:
    r = Reader(payload, f"/{RS_SR_PAYLOAD}")
    if not isinstance(payload.get("state"), dict):
        raise TypeError("state is not an object")
    resource = Resource(resource_id=r.get("resourceId"), state=_state(r, "state"))
    case = Case(case_id=r.get("caseId"), operations=Operations(resources=(resource,)))
    return Decoded(case=case, dropped=r.leftover())


def _encode_rs_sr(case: Any, ctx: AdapterContext) -> tuple[dict[str, Any], list[Issue]]:
    """Tracked case -> resourcesStatus: exactly one resource with a status, else refused."""
    operations = case.operations
    resources = operations.resources if operations is not None else ()
    with_state = [res for res in resources if res.state is not None]
    if len(with_state) != 1:
        raise OutboundError(f"RS-SR carries the status of exactly one resource; this case has {len(with_state)} "
                            "resource(s) with a status (send RS-RI for several)",
                            [Issue("operations.resources", f"{len(with_state)} resource(s) with a status",
                                   "missing-field" if not with_state else "ambiguous")])
    res = with_state[0]
    payload = {"caseId": case_id_for(case, ctx), "resourceId": res.resource_id, "state": _state_out(res.state)}
    return prune(payload), []


RS_SR = PayloadKind(
    payload=RS_SR_PAYLOAD, title="RS-SR resourcesStatus", required=("caseId", "resourceId", "state"),
    decode=_decode_rs_sr, encode=_encode_rs_sr,
    drop_reason="RS-SR carries one resource's status only",
    model_side="health",
)
RsSrJsonAdapter = adapter_class("rs-sr-json", RS_SR, "json")
RsSrXmlAdapter = adapter_class("rs-sr-xml", RS_SR, "xml")

__all__ = ["PATIENT_EXTRA", "RS_RI", "RS_SR", "RsRiJsonAdapter", "RsRiXmlAdapter", "RsSrJsonAdapter",
           "RsSrXmlAdapter"]

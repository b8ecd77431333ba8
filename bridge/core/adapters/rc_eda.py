"""``rc-eda-json`` / ``rc-eda-xml``: the Hub's RC-EDA ``createCase`` <-> canonical case.

Works on the JSON dict form (``json.loads(..., parse_float=Decimal)``); the XML
variant goes through the injected Hub codec. Victims (names, sex, age) have no
RC-EDA field: they travel in ``additionalInformation.customMap`` as one entry
(``hub-bridge.patients``, a JSON list, with a readable ``freetext``), and canonical
``extras`` as another (``hub-bridge.extras``), so a legacy -> Hub -> legacy round
trip keeps them within the schema's three customMap entries. A request for assistance has no
RC-EDA field either: the pipeline sends it as an EMSI message, and this adapter
lists it as dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from bridge.core.adapters.base import Adapter, AdapterContext, Decoded, Encoded, HubXmlCodec, dropped
from bridge.core.adapters.codes import label_of
from bridge.core.adapters.hubjson import dumps, hub_datetime, loads, parse_datetime, prune
from bridge.core.adapters.tracking import Reader
from bridge.core.canonical import Caller, Case, Coded, Location, Note, Patient, Qualification
from bridge.core.errors import BridgeError, HubErrorCode, InboundError, Issue, OutboundError
from bridge.core.jsonstrict import loads_strict
from bridge.core.numbers import check_coordinate

PAYLOAD = "createCase"
PATIENTS_KEY = "hub-bridge.patients"
EXTRAS_KEY = "hub-bridge.extras"


class RcEdaJsonAdapter(Adapter):
    """RC-EDA createCase as JSON."""

    name = "rc-eda-json"
    version = "1.0"
    direction = "both"
    media_type = "application/json"

    def decode(self, data: bytes, ctx: AdapterContext) -> Decoded:
        return decode_create_case(loads(data, PAYLOAD), ctx)

    def encode(self, case: Case, ctx: AdapterContext) -> Encoded:
        payload, drops = encode_create_case(case, ctx)
        return Encoded(dumps(PAYLOAD, payload), drops)


class RcEdaXmlAdapter(Adapter):
    """RC-EDA createCase as XML, through the Hub codec in the context."""

    name = "rc-eda-xml"
    version = "1.0"
    direction = "both"
    media_type = "application/xml"

    def decode(self, data: bytes, ctx: AdapterContext) -> Decoded:
        document = require_codec(ctx, self.name).to_dict(bytes(data))
        return decode_create_case(document.get(PAYLOAD, document), ctx)

    def encode(self, case: Case, ctx: AdapterContext) -> Encoded:
        payload, drops = encode_create_case(case, ctx)
        return Encoded(require_codec(ctx, self.name).to_xml({PAYLOAD: payload}), drops)


def require_codec(ctx: AdapterContext, adapter: str) -> HubXmlCodec:
    """The Hub XML codec of the context, or a clear error saying it is missing."""
    if ctx.codec is None:
        raise BridgeError(f"adapter {adapter} needs the Hub XML codec in its context",
                          [Issue("codec", "no codec configured (official schemas not installed?)", "no-codec")])
    return ctx.codec


# ---- decode -------------------------------------------------------------------------------------

def decode_create_case(payload: dict[str, Any], ctx: AdapterContext) -> Decoded:
    """createCase dict -> Case, with every unread leaf listed as dropped."""
    return shape_guard(PAYLOAD, _decode_create_case, payload, ctx)


def shape_guard(name: str, decode: Callable[[dict[str, Any], AdapterContext], Decoded], payload: object,
                ctx: AdapterContext) -> Decoded:
    """Run a Hub decoder; a payload of the wrong shape is refused (INVALID_MESSAGE), never a crash.

    Payloads are normally schema-validated before they get here; this is the net under that.
    """
    if not isinstance(payload, dict):
        raise InboundError(f"{name} payload is not an object", [Issue(f"/{name}", "not an object", "invalid")],
                           HubErrorCode.INVALID_MESSAGE)
    try:
        return decode(payload, ctx)
    except (TypeError, AttributeError, ValueError, KeyError, ArithmeticError) as exc:
        if isinstance(exc, BridgeError):
            raise
        raise InboundError(f"{name} payload has an unexpected shape (validate it against the official schema)",
                           [Issue(f"/{name}", str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                                  "invalid")], HubErrorCode.INVALID_MESSAGE) from None


def _decode_create_case(payload: dict[str, Any], ctx: AdapterContext) -> Decoded:
    r = Reader(payload, f"/{PAYLOAD}")
    r.mark("referenceVersion")
    alert = r.data.get("initialAlert") or {}
    for duplicate in ("location", "qualification"):
        if alert.get(duplicate) == payload.get(duplicate):
            r.mark("initialAlert", duplicate)
    patients, extras = _custom_map(r)
    case = Case(
        case_id=r.get("caseId"), sender_case_id=r.get("senderCaseId"),
        created=parse_datetime(r.get("creation"), r.pointer("creation")),
        qualification=_qualification(r), location=_location(r), caller=_caller(r),
        notes=tuple(_notes(r)), patients=tuple(patients), extras=extras,
    )
    return Decoded(case=case, dropped=r.leftover())


def _coded(r: Reader, *path: str | int) -> Coded | None:
    code = r.get(*path, "code")
    return Coded(code=code, label=r.get(*path, "label")) if code else None


def _qualification(r: Reader) -> Qualification:
    risks = r.data.get("qualification", {}).get("riskThreat", [])
    return Qualification(
        whats_happen=_coded(r, "qualification", "whatsHappen"),
        location_kind=_coded(r, "qualification", "locationKind"),
        health_motive=_coded(r, "qualification", "healthMotive"),
        risk_threats=tuple(c for i in range(len(risks)) if (c := _coded(r, "qualification", "riskThreat", i))),
        victims_count=r.get("qualification", "victims", "count"),
        main_victim=r.get("qualification", "victims", "mainVictim"),
        victims_text=r.get("qualification", "victims", "freetext"),
    )


def _location(r: Reader) -> Location:
    street = r.get("location", "detailedAddress", "wayName", "complete")
    number = r.get("location", "detailedAddress", "number")
    complete = r.data.get("location", {}).get("detailedAddress", {}).get("complete")
    if complete in (street, _address(number, street)):
        r.mark("location", "detailedAddress", "complete")
    coord = ("location", "geometry", "point", "coord")
    for axis in ("lat", "lon"):  # WGS84 degrees in range, named by pointer (the Location model checks too)
        check_coordinate(r.get(*coord, axis), axis, r.pointer(*coord, axis))
    return Location(
        loc_id=r.get("location", "locID"), number=number, street=street or complete,
        city=r.get("location", "city", "name"), insee=r.get("location", "city", "inseeCode"),
        country=r.get("location", "country") or "FR", lat=r.get(*coord, "lat"), lon=r.get(*coord, "lon"),
        precision=r.get(*coord, "precision"), free_text=r.get("location", "freetext"),
    )


def _caller(r: Reader) -> Caller | None:
    base = ("initialAlert", "caller")
    phone = None
    if r.data.get("initialAlert", {}).get("caller", {}).get("callerContact", {}).get("type") == "TEL":
        phone = r.get(*base, "callerContact", "detail")
        r.mark(*base, "callerContact", "type")
        r.mark(*base, "callerContact", "channel")
    caller = Caller(name=r.get(*base, "detailedName", "complete"), phone=phone,
                    type=r.get(*base, "type"), free_text=r.get(*base, "freetext"))
    return caller if any(v is not None for _, v in caller) else None


def _notes(r: Reader) -> list[Note]:
    notes = []
    for index, _ in enumerate(r.data.get("initialAlert", {}).get("notes", [])):
        text = r.get("initialAlert", "notes", index, "freetext")
        created = parse_datetime(r.get("initialAlert", "notes", index, "creation"),
                                 r.pointer("initialAlert", "notes", index, "creation"))
        if text:
            notes.append(Note(text=text, created=created))
    notes += [Note(text=r.get("freetext", i)) for i, _ in enumerate(r.data.get("freetext", []))]
    return notes


def _custom_map(r: Reader) -> tuple[list[Patient], dict[str, str]]:
    patients: list[Patient] = []
    extras: dict[str, str] = {}
    for index, item in enumerate(r.data.get("additionalInformation", {}).get("customMap", [])):
        key = item.get("key")
        if key not in (PATIENTS_KEY, EXTRAS_KEY):
            continue
        pointer = r.pointer("additionalInformation", "customMap", index, "value")
        try:
            value = loads_strict(r.get("additionalInformation", "customMap", index, "value"), "customMap value")
            if key == PATIENTS_KEY:
                patients = [Patient.model_validate(p) for p in value]
            else:
                extras = {str(k): str(v) for k, v in value.items()}
        except (ValueError, TypeError, AttributeError, InboundError) as exc:
            raise InboundError(f"customMap {key!r} is not what the bridge writes there",
                               [Issue(pointer, str(exc).splitlines()[0], "invalid")]) from None
        r.mark("additionalInformation", "customMap", index)
    return patients, extras


# ---- encode -------------------------------------------------------------------------------------

def case_id_for(case: Case, ctx: AdapterContext) -> str:
    """The Hub case id: the case's own, else ``{sender}.{sender case id}``, else a new one."""
    if case.case_id:
        return case.case_id
    local = local_case_id(case.sender_case_id or "") or local_case_id(ctx.new_id())
    return f"{ctx.sender_id}.{local}"


def local_case_id(sender_case_id: str) -> str:
    """The last part of a Hub case id made from the sender's own case number (``DEMO-000001``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "", sender_case_id)


def encode_create_case(case: Case, ctx: AdapterContext) -> tuple[dict[str, Any], list[Issue]]:
    """Case -> createCase dict (pruned of empties) and the canonical fields it cannot carry."""
    if case.qualification.whats_happen is None:
        raise OutboundError("createCase needs whatsHappen", [Issue("qualification.whats_happen",
                            "no CISU whatsHappen code", "missing-field")], HubErrorCode.INSUFFICIENT_DATA)
    created = hub_datetime(case.created or ctx.now)
    qualification = _qualification_dict(case, ctx)
    location = _location_dict(case, ctx, created)
    payload: dict[str, Any] = {
        "caseId": case_id_for(case, ctx), "senderCaseId": case.sender_case_id, "creation": created,
        "referenceVersion": ctx.reference_version, "qualification": qualification, "location": location,
    }
    notes = [{"freetext": n.text, "creation": hub_datetime(n.created) if n.created else None} for n in case.notes]
    caller = case.caller
    if caller is not None and caller.phone:
        payload["initialAlert"] = {
            "id": f"{ctx.sender_id}.alert.{re.sub(r'[^A-Za-z0-9_-]', '', ctx.new_id())}", "reception": created,
            "reporting": "STANDARD", "notes": notes,
            "caller": {"callerContact": {"channel": "PERSONNE", "type": "TEL", "detail": caller.phone},
                       "type": caller.type, "freetext": caller.free_text,
                       "detailedName": {"complete": caller.name} if caller.name else None},
            "location": location, "qualification": qualification,
            "callTaker": {"organization": ctx.sender_id, "controlRoom": ctx.sender_id.rsplit(".", 1)[-1].upper()},
        }
    else:
        payload["freetext"] = [n.text for n in case.notes]
    payload["additionalInformation"] = {"customMap": _custom_map_items(case)}
    return prune(payload), _encode_drops(case)


def _qualification_dict(case: Case, ctx: AdapterContext) -> dict[str, Any]:
    q = case.qualification

    def coded(c: Coded | None) -> dict[str, Any] | None:
        return {"code": c.code, "label": c.label or label_of(ctx, c.code) or c.code} if c else None

    return {"whatsHappen": coded(q.whats_happen), "locationKind": coded(q.location_kind),
            "healthMotive": coded(q.health_motive), "riskThreat": [coded(c) for c in q.risk_threats],
            "victims": {"count": q.victims_count, "mainVictim": q.main_victim, "freetext": q.victims_text}}


def _address(number: str | None, street: str | None) -> str | None:
    return " ".join(p for p in (number, street) if p) or None


def _location_dict(case: Case, ctx: AdapterContext, created: str) -> dict[str, Any]:
    loc = case.location
    point = None
    if loc.lat is not None and loc.lon is not None:
        point = {"coord": {"lat": loc.lat, "lon": loc.lon, "precision": loc.precision or "ADRESSE"}}
    complete = _address(loc.number, loc.street)
    return {
        "locID": loc.loc_id or ctx.new_id(),
        "detailedAddress": {"complete": complete, "number": loc.number,
                            "wayName": {"complete": loc.street} if loc.street else None} if complete else None,
        "city": {"name": loc.city, "inseeCode": loc.insee}, "country": loc.country,
        "freetext": loc.free_text, "geometry": {"datetime": created, "point": point} if point else None,
    }


def _custom_map_items(case: Case) -> list[dict[str, Any]]:
    # The schema allows 3 customMap entries: victims and extras each travel as one JSON value.
    items = []
    if case.patients:
        value = [p.model_dump(exclude_none=True) for p in case.patients]
        items.append({"key": PATIENTS_KEY, "label": "Victimes (hub-bridge)",
                      "value": json.dumps(value, ensure_ascii=False, separators=(",", ":")),
                      "freetext": "; ".join(_patient_text(p) for p in case.patients)})
    if case.extras:
        items.append({"key": EXTRAS_KEY, "label": "Champs complémentaires (hub-bridge)",
                      "value": json.dumps(case.extras, ensure_ascii=False, separators=(",", ":"))})
    return items


def _patient_text(patient: Patient) -> str:
    name = " ".join(p for p in (patient.first_name, patient.last_name) if p) or "inconnu"
    details = ", ".join(p for p in (patient.sex, f"{patient.age} ans" if patient.age is not None else None) if p)
    return f"{name} ({details})" if details else name


def _encode_drops(case: Case) -> list[Issue]:
    drops = []
    if case.request is not None:
        drops.append(dropped("request", "createCase has no request for assistance (sent as EMSI)"))
    if case.answer is not None:
        drops.append(dropped("answer", "createCase has no answer to a request for assistance (sent as EMSI)"))
    if case.operations:
        drops.append(dropped("operations", "createCase has no missions or resources (they travel as EMSI or RC-RI)"))
    if case.caller is not None and not case.caller.phone:
        drops += [dropped(f"caller.{k}", "createCase needs a caller phone to carry the caller")
                  for k, v in case.caller if v is not None]
    return drops

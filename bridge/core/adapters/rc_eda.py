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
from typing import Any

from bridge.core.adapters.base import AdapterContext, Decoded
from bridge.core.adapters.codes import label_of
from bridge.core.adapters.consumed import unwrap_tracked
from bridge.core.adapters.hub_payload import (
    PayloadKind,
    adapter_class,
    decode_payload,
    encode_payload,
    require_codec,
)
from bridge.core.adapters.hubjson import hub_datetime, parse_datetime, prune
from bridge.core.adapters.tracking import Reader
from bridge.core.canonical import Caller, Case, Coded, Location, Note, Patient, Qualification
from bridge.core.errors import HubErrorCode, InboundError, Issue, OutboundError
from bridge.core.jsonstrict import loads_strict
from bridge.core.numbers import check_coordinate

PAYLOAD = "createCase"
DERIVED = "value-derived"  # a value the source lacks, written by a documented rule (docs/fidelity.md)
_NOT_ID_CHAR = re.compile(r"[^A-Za-z0-9_-]")  # what a Hub id part may not hold (compiled once)
PATIENTS_KEY = "hub-bridge.patients"
EXTRAS_KEY = "hub-bridge.extras"


# ---- decode -------------------------------------------------------------------------------------

def decode_create_case(payload: dict[str, Any], ctx: AdapterContext) -> Decoded:
    """createCase dict -> Case, with every unread leaf listed as dropped (shape and required fields checked)."""
    return decode_payload(payload, RC_EDA, ctx)


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
    return Decoded(case=case, dropped=r.leftover(), warnings=list(r.warnings))


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
    if complete is not None and complete == _address(number, street or complete):
        r.mark("location", "detailedAddress", "complete")  # what the encoder writes back (number + street)
    coord = ("location", "geometry", "point", "coord")
    for axis in ("lat", "lon"):  # WGS84 degrees in range, named by pointer (the Location model checks too)
        check_coordinate(r.get(*coord, axis), axis, r.pointer(*coord, axis))
    if street is None and complete:
        r.warnings.append(Issue(r.pointer("location", "detailedAddress", "complete"),
                                f"no wayName: the address line {complete!r} is the street (written back as "
                                "wayName.complete and detailedAddress.complete)", DERIVED))
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
    return _NOT_ID_CHAR.sub("", sender_case_id)


def encode_create_case(case: Case, ctx: AdapterContext) -> tuple[dict[str, Any], list[Issue], list[Issue]]:
    """Case -> createCase dict (pruned of empties), the canonical fields it did not carry, and warnings."""
    return encode_payload(case, RC_EDA, ctx)


# The notes of the documented rules the build applies (Issue is immutable: one each, not one per sheet).
_NO_CREATION = Issue("case.created", "the source gives no creation time: the time of the translation is used for "
                                     "createCase.creation", DERIVED)
_POSITION_TIME = Issue("location.geometry", "the source gives no time for the position: the case creation time is "
                                            "used for location.geometry.datetime", DERIVED)
_CALLER_ALERT = Issue("/createCase/initialAlert", "the caller travels in an initialAlert the bridge writes: new id, "
                      "reception = case creation, reporting STANDARD, call taker = this bridge, and the case's "
                      "location and qualification", DERIVED)


def _encode_create_case(case: Any, ctx: AdapterContext) -> tuple[dict[str, Any], list[Issue]]:
    warnings: list[Issue] = []
    if case.qualification.whats_happen is None:
        raise OutboundError("createCase needs whatsHappen", [Issue("qualification.whats_happen",
                            "no CISU whatsHappen code", "missing-field")], HubErrorCode.INSUFFICIENT_DATA)
    created_at = case.created
    if created_at is None:
        warnings.append(_NO_CREATION)
    created = hub_datetime(created_at or ctx.now)
    qualification = _qualification_dict(case, ctx)
    location = _location_dict(case, ctx, created)
    if "geometry" in (location or {}) and location["geometry"]:
        warnings.append(_POSITION_TIME)
    payload: dict[str, Any] = {
        "caseId": case_id_for(case, ctx), "senderCaseId": case.sender_case_id, "creation": created,
        "referenceVersion": ctx.reference_version, "qualification": qualification, "location": location,
    }
    notes = [{"creation": hub_datetime(n.created) if n.created else None, "freetext": n.text} for n in case.notes]
    caller = case.caller
    phone = caller.phone if caller is not None else None
    if phone:
        warnings.append(_CALLER_ALERT)
        payload["initialAlert"] = {
            "id": f"{ctx.sender_id}.alert.{_NOT_ID_CHAR.sub('', ctx.new_id())}", "reception": created,
            "reporting": "STANDARD", "notes": notes,
            "caller": {"callerContact": {"channel": "PERSONNE", "type": "TEL", "detail": phone},
                       "type": caller.type, "freetext": caller.free_text,
                       "detailedName": {"complete": name} if (name := caller.name) else None},
            "location": location, "qualification": qualification,
            "callTaker": {"organization": ctx.sender_id, "controlRoom": ctx.sender_id.rsplit(".", 1)[-1].upper()},
        }
    else:
        payload["freetext"] = [n.text for n in case.notes]
    payload["additionalInformation"] = {"customMap": _custom_map_items(case)}
    return prune(payload), warnings


def _qualification_dict(case: Case, ctx: AdapterContext) -> dict[str, Any]:
    q = case.qualification

    def coded(c: Coded | None) -> dict[str, Any] | None:
        if not c:
            return None
        code, label = c.code, c.label  # each read once (a tracked read is marked, not free)
        return {"code": code, "label": label or label_of(ctx, code) or code}

    # keys in the model's (XSD sequence) order, as everywhere in this encoder: the service sends the dict as
    # built (tests/unit/test_wrap_as_built.py checks it is what the model would write)
    return {"riskThreat": [coded(c) for c in q.risk_threats], "whatsHappen": coded(q.whats_happen),
            "locationKind": coded(q.location_kind), "healthMotive": coded(q.health_motive),
            "victims": {"count": q.victims_count, "mainVictim": q.main_victim, "freetext": q.victims_text}}


def _address(number: str | None, street: str | None) -> str | None:
    return " ".join(p for p in (number, street) if p) or None


def _location_dict(case: Case, ctx: AdapterContext, created: str) -> dict[str, Any]:
    loc = case.location
    point = None
    lat, lon, number, street = loc.lat, loc.lon, loc.number, loc.street
    if lat is not None and lon is not None:
        # the schema requires a precision: INCONNUE (official code) when the source does not say
        point = {"coord": {"lat": lat, "lon": lon, "precision": loc.precision or "INCONNUE"}}
    complete = _address(number, street)
    return {
        "locID": loc.loc_id or ctx.new_id(),
        "detailedAddress": {"complete": complete, "number": number,
                            "wayName": {"complete": street} if street else None} if complete else None,
        "city": {"name": loc.city, "inseeCode": loc.insee},
        "geometry": {"datetime": created, "point": point} if point else None, "country": loc.country,
        "freetext": loc.free_text,
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
                      "value": json.dumps(unwrap_tracked(case.extras), ensure_ascii=False, separators=(",", ":"))})
    return items


def _patient_text(patient: Patient) -> str:
    name = " ".join(p for p in (patient.first_name, patient.last_name) if p) or "inconnu"
    details = ", ".join(p for p in (patient.sex, f"{patient.age} ans" if patient.age is not None else None) if p)
    return f"{name} ({details})" if details else name


RC_EDA = PayloadKind(
    payload=PAYLOAD, title="RC-EDA createCase",
    required=("caseId", "creation", "referenceVersion", "qualification", "location"),
    decode=_decode_create_case, encode=_encode_create_case,
    drop_reason="createCase has no field for it (a request or answer travels as EMSI; "
                "a caller travels only with a phone number)",
)
RcEdaJsonAdapter = adapter_class("rc-eda-json", RC_EDA, "json")
RcEdaXmlAdapter = adapter_class("rc-eda-xml", RC_EDA, "xml")
__all__ = ["RC_EDA", "RcEdaJsonAdapter", "RcEdaXmlAdapter", "case_id_for", "decode_create_case", "encode_create_case",
           "require_codec"]

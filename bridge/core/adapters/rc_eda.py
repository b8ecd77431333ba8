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
from bridge.core.adapters.hubjson import hub_datetime, parse_datetime
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
    """createCase dict -> Decoded: the planned reads of the usual shape, else (and for every refusal) the general way.

    :func:`_decode_usual` takes a payload whose containers are where the schema puts them (objects and
    arrays, no ``null`` in their place) and reads it with constant pointers and one ``Case`` validation.
    Anything it does not take, or any error on the way, sends the payload to :func:`_decode_general`
    (the decoder as it always was, through :class:`Reader`), whose result or refusal is the answer, word
    for word: the planned path never refuses by itself. tests/unit/test_decode_fast.py checks both give
    the same case, drops and warnings on the official examples, the golden payloads and mutated ones.
    """
    try:
        return _decode_usual(payload)
    except Exception:  # noqa: BLE001 - not the usual shape, or a refusal: the general way decides and says why
        return _decode_general(payload, ctx)


class _Unusual(Exception):
    """A payload shape the planned reads leave to the general way (a ``null`` or a scalar where an object goes)."""


_P = f"/{PAYLOAD}"
_Q, _L, _A = f"{_P}/qualification", f"{_P}/location", f"{_P}/initialAlert"
_COORD = f"{_L}/geometry/point/coord"
_CALLER = f"{_A}/caller"
_COMPLETE = f"{_L}/detailedAddress/complete"


def _object(node: dict[str, Any], key: str) -> dict[str, Any] | None:
    """``node[key]`` when it is an object, None when absent; anything else is :class:`_Unusual`."""
    value = node.get(key)
    if type(value) is dict:
        return value
    if value is None and key not in node:
        return None
    raise _Unusual(key)


def _leaf(node: dict[str, Any] | None, key: str, pointer: str, used: set[str]) -> Any:
    """``node[key]``, marked read at ``pointer`` when present (as ``Reader.get`` marks it), else None."""
    if node is not None and key in node:
        used.add(pointer)
        return node[key]
    return None


def _coded_usual(node: dict[str, Any] | None, pointer: str, used: set[str]) -> dict[str, Any] | None:
    """What ``_coded`` builds, as the dict the one ``Case`` validation reads (the label read only with a code)."""
    if node is None:
        return None
    code = _leaf(node, "code", f"{pointer}/code", used)
    return {"code": code, "label": _leaf(node, "label", f"{pointer}/label", used)} if code else None


def _decode_usual(payload: dict[str, Any]) -> Decoded:
    """:func:`_decode_general`'s reads, marks, checks and warnings, in constant pointers; one ``Case`` validation."""
    r = Reader(payload, _P)
    used = r._used
    used.add(f"{_P}/referenceVersion")
    alert = _object(payload, "initialAlert")
    for duplicate in ("location", "qualification"):
        if (alert or {}).get(duplicate) == payload.get(duplicate):
            used.add(f"{_A}/{duplicate}")
    patients, extras = _custom_map(r)
    case_id = _leaf(payload, "caseId", f"{_P}/caseId", used)
    sender_case_id = _leaf(payload, "senderCaseId", f"{_P}/senderCaseId", used)
    created = parse_datetime(_leaf(payload, "creation", f"{_P}/creation", used), f"{_P}/creation")
    # qualification
    q = _object(payload, "qualification")
    risks = q.get("riskThreat", []) if q is not None else []
    if type(risks) is not list:
        raise _Unusual("riskThreat")
    risk_threats = []
    for index, item in enumerate(risks):
        if type(item) is not dict:
            raise _Unusual("riskThreat item")
        if coded := _coded_usual(item, f"{_Q}/riskThreat/{index}", used):
            risk_threats.append(coded)
    victims = _object(q, "victims") if q is not None else None
    qualification = {
        "whats_happen": _coded_usual(_object(q, "whatsHappen") if q is not None else None, f"{_Q}/whatsHappen", used),
        "location_kind": _coded_usual(_object(q, "locationKind") if q is not None else None, f"{_Q}/locationKind",
                                      used),
        "health_motive": _coded_usual(_object(q, "healthMotive") if q is not None else None, f"{_Q}/healthMotive",
                                      used),
        "risk_threats": tuple(risk_threats),
        "victims_count": _leaf(victims, "count", f"{_Q}/victims/count", used),
        "main_victim": _leaf(victims, "mainVictim", f"{_Q}/victims/mainVictim", used),
        "victims_text": _leaf(victims, "freetext", f"{_Q}/victims/freetext", used),
    }
    # location
    loc = _object(payload, "location")
    address = _object(loc, "detailedAddress") if loc is not None else None
    way = _object(address, "wayName") if address is not None else None
    street = _leaf(way, "complete", f"{_L}/detailedAddress/wayName/complete", used)
    number = _leaf(address, "number", f"{_L}/detailedAddress/number", used)
    complete = address.get("complete") if address is not None else None
    if complete is not None and complete == _address(number, street or complete):
        used.add(_COMPLETE)
    geometry = _object(loc, "geometry") if loc is not None else None
    point = _object(geometry, "point") if geometry is not None else None
    coord = _object(point, "coord") if point is not None else None
    lat = _leaf(coord, "lat", f"{_COORD}/lat", used)
    lon = _leaf(coord, "lon", f"{_COORD}/lon", used)
    check_coordinate(lat, "lat", f"{_COORD}/lat")
    check_coordinate(lon, "lon", f"{_COORD}/lon")
    if street is None and complete:
        r.warnings.append(Issue(_COMPLETE, f"no wayName: the address line {complete!r} is the street (written back "
                                "as wayName.complete and detailedAddress.complete)", DERIVED))
    city = _object(loc, "city") if loc is not None else None
    location = {
        "loc_id": _leaf(loc, "locID", f"{_L}/locID", used), "number": number, "street": street or complete,
        "city": _leaf(city, "name", f"{_L}/city/name", used), "insee": _leaf(city, "inseeCode", f"{_L}/city/inseeCode",
                                                                              used),
        "country": _leaf(loc, "country", f"{_L}/country", used) or "FR", "lat": lat, "lon": lon,
        "precision": _leaf(coord, "precision", f"{_COORD}/precision", used),
        "free_text": _leaf(loc, "freetext", f"{_L}/freetext", used),
    }
    # caller
    caller_node = _object(alert, "caller") if alert is not None else None
    contact = _object(caller_node, "callerContact") if caller_node is not None else None
    phone = None
    if contact is not None and contact.get("type") == "TEL":
        phone = _leaf(contact, "detail", f"{_CALLER}/callerContact/detail", used)
        used.add(f"{_CALLER}/callerContact/type")
        used.add(f"{_CALLER}/callerContact/channel")
    name_node = _object(caller_node, "detailedName") if caller_node is not None else None
    caller = {"name": _leaf(name_node, "complete", f"{_CALLER}/detailedName/complete", used), "phone": phone,
              "type": _leaf(caller_node, "type", f"{_CALLER}/type", used),
              "free_text": _leaf(caller_node, "freetext", f"{_CALLER}/freetext", used)}
    # notes: the alert's (each creation parsed, a note kept when it has a text), then the case's freetext
    notes: list[dict[str, Any]] = []
    alert_notes = alert.get("notes", []) if alert is not None else []
    if type(alert_notes) is not list:
        raise _Unusual("notes")
    for index, item in enumerate(alert_notes):
        if type(item) is not dict:
            raise _Unusual("note")
        base = f"{_A}/notes/{index}"
        text = _leaf(item, "freetext", f"{base}/freetext", used)
        note_created = parse_datetime(_leaf(item, "creation", f"{base}/creation", used), f"{base}/creation")
        if text:
            notes.append({"text": text, "created": note_created})
    free = payload.get("freetext", [])
    if type(free) is not list:
        raise _Unusual("freetext")
    for index, text in enumerate(free):
        used.add(f"{_P}/freetext/{index}")
        notes.append({"text": text})
    case = Case.model_validate({
        "case_id": case_id, "sender_case_id": sender_case_id, "created": created, "qualification": qualification,
        "location": location, "caller": caller if any(v is not None for v in caller.values()) else None,
        "notes": tuple(notes), "patients": tuple(patients), "extras": extras,
    })
    return Decoded(case=case, dropped=r.leftover(), warnings=list(r.warnings))


def _decode_general(payload: dict[str, Any], ctx: AdapterContext) -> Decoded:
    """createCase dict -> Decoded through a :class:`Reader` (any shape; a refusal names what is wrong)."""
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
    """The encoder run on a :class:`~bridge.core.adapters.consumed.Tracked` view (the view records the reads)."""
    return _build_create_case(case, ctx, set())


def _build_create_case(case: Any, ctx: AdapterContext, used: set[str]) -> tuple[dict[str, Any], list[Issue]]:
    """Case -> createCase dict and warnings; every canonical path read is added to ``used``.

    The dict is built as the Hub writes it (no None, no empty string, list or object: what ``prune`` would
    leave), keys in the model's (XSD sequence) order: the service sends the dict as built
    (tests/unit/test_wrap_as_built.py checks it is what the model would write). Run on a plain case, the
    reads are marked here, next to each read, so the dropped-field report needs no read-through view; run on
    a ``Tracked`` view (``RC_EDA.encode``), the view marks them too, and tests/unit/test_encode_direct.py
    checks that both record the same paths for any case.
    """
    warnings: list[Issue] = []
    q = case.qualification
    if q.whats_happen is None:
        raise OutboundError("createCase needs whatsHappen", [Issue("qualification.whats_happen",
                            "no CISU whatsHappen code", "missing-field")], HubErrorCode.INSUFFICIENT_DATA)
    created_at = case.created
    if created_at is None:
        warnings.append(_NO_CREATION)
    created = hub_datetime(created_at or ctx.now)
    qualification = _qualification_dict(q, ctx, used)
    location = _location_dict(case.location, ctx, created, used)
    if "geometry" in location:
        warnings.append(_POSITION_TIME)
    case_id = case_id_for(case, ctx)
    sender_case_id = case.sender_case_id
    used.update(_CASE_LEAVES)  # created, case_id, sender_case_id
    payload: dict[str, Any] = {"caseId": case_id} if case_id else {}
    if sender_case_id:
        payload["senderCaseId"] = sender_case_id
    payload["creation"] = created
    if ctx.reference_version:
        payload["referenceVersion"] = ctx.reference_version
    if qualification:
        payload["qualification"] = qualification
    if location:
        payload["location"] = location
    caller = case.caller
    if caller is None:
        used.add("caller")
        phone = None
    else:
        phone = caller.phone
        used.add("caller.phone")
    notes = case.notes
    if not notes:
        used.add("notes")
    if phone:
        warnings.append(_CALLER_ALERT)
        note_dicts = []
        for index, n in enumerate(notes):  # an initialAlert note carries its text and its creation time
            note_created, text = n.created, n.text
            used.add(f"notes/{index}.created")
            used.add(f"notes/{index}.text")
            note = {"creation": hub_datetime(note_created)} if note_created else {}
            if text:
                note["freetext"] = text
            if note:
                note_dicts.append(note)
        payload["initialAlert"] = _alert_dict(caller, phone, created, note_dicts, location, qualification, ctx, used)
    elif notes:  # the case's freetext carries the texts alone: a note's creation time is a declared drop
        texts = []
        for index, n in enumerate(notes):
            text = n.text
            used.add(f"notes/{index}.text")
            if text:
                texts.append(text)
        if texts:
            payload["freetext"] = texts
    custom_map = _custom_map_items(case, used)
    if custom_map:
        payload["additionalInformation"] = {"customMap": custom_map}
    return payload, warnings


_CASE_LEAVES = ("created", "case_id", "sender_case_id")
_CALLER_LEAVES = ("caller.type", "caller.free_text", "caller.name")


def _alert_dict(caller: Any, phone: str, created: str, notes: list[dict[str, Any]], location: dict[str, Any],
                qualification: dict[str, Any], ctx: AdapterContext, used: set[str]) -> dict[str, Any]:
    """The initialAlert the bridge writes for a caller with a phone number (see ``_CALLER_ALERT``)."""
    alert: dict[str, Any] = {"id": f"{ctx.sender_id}.alert.{_NOT_ID_CHAR.sub('', ctx.new_id())}",
                             "reception": created, "reporting": "STANDARD"}
    if notes:
        alert["notes"] = notes
    kind, free_text, name = caller.type, caller.free_text, caller.name
    used.update(_CALLER_LEAVES)
    caller_dict: dict[str, Any] = {"callerContact": {"channel": "PERSONNE", "type": "TEL", "detail": phone}}
    if kind:
        caller_dict["type"] = kind
    if free_text:
        caller_dict["freetext"] = free_text
    if name:
        caller_dict["detailedName"] = {"complete": name}
    alert["caller"] = caller_dict
    # copies, not the payload's own objects: a tree with no shared node, as pruning made it (a deepcopy keeps
    # sharing, and versions.drop_invalid_leaves edits its copy in place, one path at a time)
    if location:
        alert["location"] = _tree_copy(location)
    if qualification:
        alert["qualification"] = _tree_copy(qualification)
    organization = ctx.sender_id
    room = organization.rsplit(".", 1)[-1].upper()
    call_taker = {"organization": organization} if organization else {}
    if room:
        call_taker["controlRoom"] = room
    if call_taker:
        alert["callTaker"] = call_taker
    return alert


def _tree_copy(value: Any) -> Any:
    """A JSON tree's containers copied (its leaves are immutable; a leaf is kept in the loop, without a call)."""
    if type(value) is dict:
        return {key: _tree_copy(item) if type(item) in _CONTAINERS else item for key, item in value.items()}
    if type(value) is list:
        return [_tree_copy(item) if type(item) in _CONTAINERS else item for item in value]
    return value


_CONTAINERS = frozenset({dict, list})


def _coded_dict(c: Any, ctx: AdapterContext, path: str, used: set[str]) -> dict[str, Any] | None:
    """``{"code", "label"}`` of a coded value (the label from the nomenclature, else the code), pruned."""
    if c is None:
        used.add(path)
        return None
    code, label = c.code, c.label  # each read once (a tracked read is marked, not free)
    used.add(path + ".code")
    used.add(path + ".label")
    label = label or label_of(ctx, code) or code
    coded = {"code": code} if code else {}
    if label:
        coded["label"] = label
    return coded or None


_VICTIM_LEAVES = ("qualification.victims_count", "qualification.main_victim", "qualification.victims_text")


def _qualification_dict(q: Any, ctx: AdapterContext, used: set[str]) -> dict[str, Any]:
    risks = q.risk_threats
    qualification: dict[str, Any] = {}
    if risks:
        items = [c for index, risk in enumerate(risks)
                 if (c := _coded_dict(risk, ctx, f"qualification.risk_threats/{index}", used))]
        if items:
            qualification["riskThreat"] = items
    else:
        used.add("qualification.risk_threats")
    for key, field, path in _CODED_FIELDS:
        c = _coded_dict(getattr(q, field), ctx, path, used)
        if c:
            qualification[key] = c
    count, main, text = q.victims_count, q.main_victim, q.victims_text
    used.update(_VICTIM_LEAVES)
    victims = {"count": count} if count else {}
    if main:
        victims["mainVictim"] = main
    if text:
        victims["freetext"] = text
    if victims:
        qualification["victims"] = victims
    return qualification


_CODED_FIELDS = (("whatsHappen", "whats_happen", "qualification.whats_happen"),
                 ("locationKind", "location_kind", "qualification.location_kind"),
                 ("healthMotive", "health_motive", "qualification.health_motive"))


def _address(number: str | None, street: str | None) -> str | None:
    return " ".join(p for p in (number, street) if p) or None


_LOCATION_LEAVES = ("location.lat", "location.lon", "location.number", "location.street", "location.loc_id",
                    "location.city", "location.insee", "location.country", "location.free_text")


def _location_dict(loc: Any, ctx: AdapterContext, created: str, used: set[str]) -> dict[str, Any]:
    lat, lon, number, street = loc.lat, loc.lon, loc.number, loc.street
    point = None
    if lat is not None and lon is not None:
        # the schema requires a precision: INCONNUE (official code) when the source does not say
        used.add("location.precision")
        point = {"coord": {"lat": lat, "lon": lon, "precision": loc.precision or "INCONNUE"}}
    location: dict[str, Any] = {}
    if loc_id := loc.loc_id or ctx.new_id():
        location["locID"] = loc_id
    if number or street:
        address: dict[str, Any] = {"complete": _address(number, street)}
        if number:
            address["number"] = number
        if street:
            address["wayName"] = {"complete": street}
        location["detailedAddress"] = address
    city, insee, country, free_text = loc.city, loc.insee, loc.country, loc.free_text
    used.update(_LOCATION_LEAVES)
    if city or insee:
        location["city"] = {"name": city, "inseeCode": insee} if city and insee else (
            {"name": city} if city else {"inseeCode": insee})
    if point:
        location["geometry"] = {"datetime": created, "point": point}
    if country:
        location["country"] = country
    if free_text:
        location["freetext"] = free_text
    return location


def _custom_map_items(case: Any, used: set[str]) -> list[dict[str, Any]]:
    # The schema allows 3 customMap entries: victims and extras each travel as one JSON value.
    items = []
    patients = case.patients
    if patients:
        value = []
        for index, p in enumerate(patients):
            value.append(p.model_dump(exclude_none=True))
            used.add(f"patients/{index}")  # dumped whole
        item = {"key": PATIENTS_KEY, "label": "Victimes (hub-bridge)",
                "value": json.dumps(value, ensure_ascii=False, separators=(",", ":"))}
        if text := "; ".join(_patient_text(p, f"patients/{i}", used) for i, p in enumerate(case.patients)):
            item["freetext"] = text
        items.append(item)
    else:
        used.add("patients")
    extras = case.extras
    if extras:
        used.add("extras")
        items.append({"key": EXTRAS_KEY, "label": "Champs complémentaires (hub-bridge)",
                      "value": json.dumps(unwrap_tracked(extras), ensure_ascii=False, separators=(",", ":"))})
    return items


def _patient_text(patient: Patient, path: str, used: set[str]) -> str:
    first, last, sex, age = patient.first_name, patient.last_name, patient.sex, patient.age
    used.update((f"{path}.first_name", f"{path}.last_name", f"{path}.sex", f"{path}.age"))
    name = " ".join(p for p in (first, last) if p) or "inconnu"
    details = ", ".join(p for p in (sex, f"{age} ans" if age is not None else None) if p)
    return f"{name} ({details})" if details else name


RC_EDA = PayloadKind(
    payload=PAYLOAD, title="RC-EDA createCase",
    required=("caseId", "creation", "referenceVersion", "qualification", "location"),
    decode=_decode_create_case, encode=_encode_create_case, encode_marked=_build_create_case,
    drop_reason="createCase has no field for it (a request or answer travels as EMSI; "
                "a caller travels only with a phone number)",
)
RcEdaJsonAdapter = adapter_class("rc-eda-json", RC_EDA, "json")
RcEdaXmlAdapter = adapter_class("rc-eda-xml", RC_EDA, "xml")
__all__ = ["RC_EDA", "RcEdaJsonAdapter", "RcEdaXmlAdapter", "case_id_for", "decode_create_case", "encode_create_case",
           "require_codec"]

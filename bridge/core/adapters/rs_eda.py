"""``rs-eda-json`` / ``rs-eda-xml`` (and ``rs-eda-maj-*``): the health model's case sharing <-> canonical case.

RS-EDA (``createCaseHealth``) and its update RS-EDA-MAJ (``createCaseHealthUpdate``) are the
15-15 model of a shared case. What the canonical case holds in common with the other formats
(ids, creation, CISU qualification codes -- the same ``HubSante.*`` lists as RC-EDA --, address,
coordinates, caller, operational notes, patients' names/sex/age) is mapped to it; **every other
leaf travels in ``Case.extras`` under its JSON pointer (value: the leaf as typed text, ``s:``/``d:``/``i:``/``b:``), so an
RS-EDA -> canonical -> RS-EDA round trip gives the message back: ``health.<pointer>`` for the
health-only subtrees (:data:`HEALTH_ONLY`: patient ids and details, diagnoses, medical notes,
decisions, owner, priority...), ``rs-eda.<pointer>`` for the rest (access details, call-back
contact...). The confidentiality table withholds both from fire-side recipients (declared drops,
never sent; the second because RC-EDA has no agreed place for them), and a target that cannot
carry a field lists it as dropped.

Encoding a case that did not come from RS-EDA (RC-EDA or a legacy frame) fills the fields the
schema requires from documented rules, each with a warning: ``owner`` = the health recipient
(else our own id), ``patientId`` = ``{owner}.patient.{case}.{n}``, ``initialAlert.reception`` and
``location.geometry.datetime`` = the case's creation.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise
from typing import Any

from bridge.core.adapters.base import Adapter, AdapterContext, Decoded, Encoded, HubXmlCodec, dropped
from bridge.core.adapters.codes import label_of
from bridge.core.adapters.hubjson import (
    dump_document,
    hub_datetime,
    loads,
    parse_datetime,
    prune,
)
from bridge.core.canonical import (
    Caller,
    Case,
    Coded,
    Location,
    Note,
    Patient,
    Qualification,
)
from bridge.core.errors import (
    BridgeError,
    HubErrorCode,
    InboundError,
    Issue,
    OutboundError,
)

CREATE = "createCaseHealth"
UPDATE = "createCaseHealthUpdate"
HEALTH = "health."
OTHER = "rs-eda."
HEALTH_ONLY = ("/patient/", "/medicalNote/", "/decision/", "/qualification/details/", "/owner", "/perimeter",
               "/interventionType")
"""Subtrees of the health case that are health-only content: kept under ``health.`` extras (never to the fire side)."""
EXTRAS_KEY = "hub-bridge.extras"
SEX_LIST, CALLER_TYPE_LIST = "HubSante.sexe", "HubSante.typeAppelant"
SEXES = frozenset({"M", "F", "O", "UN"})
"""``HubSante.sexe`` as the 26.07.29 schemas enumerate it; the installed official list wins when present."""
CALLER_TYPES = frozenset({
    "SUJET", "FAMILLE", "TIERS", "POMPIER", "AMBULANC", "AMBULANC.AASC", "AMBULANC.AUTRESEC", "SECOUR", "MED",
    "MED.MEDSOS", "MED.MRL", "MED.EFFML", "SANTE", "SANTE.INF", "SANTE.AIDESOIN", "SANTE.SF", "SANTE.AIDEDOM",
    "SANTE.PHARMA", "SANTE.DENTISTE", "SANTE.LABO", "FDO-MILI", "FDO-MILI.POL", "FDO-MILI.GENDARM",
    "FDO-MILI.MILI", "ADM-TUTL", "VIP", "OBJCONNC", "AUTRE", "INCONNU"})
_AGE = re.compile(r"^P(\d{1,3})Y$")
_LOCAL = re.compile(r"[^A-Za-z0-9_-]")


class _HealthAdapter(Adapter):
    """Shared behaviour: decode either form, encode ``payload``; health-model output (never fire-side)."""

    version = "1.0"
    direction = "both"
    model_side = "health"
    payload = CREATE
    xml = False

    def decode(self, data: bytes, ctx: AdapterContext) -> Decoded:
        if self.xml:  # the codec validates the XML (and its JSON form) when a bundle is installed
            return decode_health(_codec(ctx, self.name).to_dict(bytes(data)), ctx)
        document = _document(data)
        _check_schema(document, ctx)
        return decode_health(document, ctx)

    def encode(self, case: Case, ctx: AdapterContext) -> Encoded:
        payload, drops, warnings = encode_health(case, ctx, self.payload)
        if self.xml:
            return Encoded(_codec(ctx, self.name).to_xml({self.payload: payload}), drops, warnings)
        document = {self.payload: payload}
        return Encoded(dump_document(document), drops, warnings, document)


class RsEdaJsonAdapter(_HealthAdapter):
    """RS-EDA createCaseHealth as JSON (reads RS-EDA-MAJ too)."""

    name = "rs-eda-json"
    media_type = "application/json"


class RsEdaXmlAdapter(_HealthAdapter):
    """RS-EDA createCaseHealth as XML, through the Hub codec (reads RS-EDA-MAJ too)."""

    name = "rs-eda-xml"
    media_type = "application/xml"
    xml = True


class RsEdaMajJsonAdapter(_HealthAdapter):
    """RS-EDA-MAJ createCaseHealthUpdate as JSON (reads RS-EDA too)."""

    name = "rs-eda-maj-json"
    media_type = "application/json"
    payload = UPDATE


class RsEdaMajXmlAdapter(_HealthAdapter):
    """RS-EDA-MAJ createCaseHealthUpdate as XML (reads RS-EDA too)."""

    name = "rs-eda-maj-xml"
    media_type = "application/xml"
    payload = UPDATE
    xml = True


def _codec(ctx: AdapterContext, adapter: str) -> HubXmlCodec:
    if ctx.codec is None:
        raise BridgeError(f"adapter {adapter} needs the Hub XML codec in its context",
                          [Issue("codec", "no codec configured (official schemas not installed?)", "no-codec")])
    return ctx.codec


def _document(data: bytes) -> dict[str, Any]:
    """``{"createCaseHealth": {...}}`` or ``{"createCaseHealthUpdate": {...}}`` (numbers as Decimal).

    A bare payload without its root key is read as ``createCaseHealth``.
    """
    document = loads(data, CREATE)
    if isinstance(document, dict) and set(document) == {UPDATE}:
        return document
    return {CREATE: document}


def _check_schema(document: dict[str, Any], ctx: AdapterContext) -> None:
    """Strict input, as every Hub adapter: the payload against its official JSON Schema when a bundle is installed."""
    check = getattr(ctx.codec, "payload_issues", None)
    root = next((name for name in (CREATE, UPDATE) if name in document), None)
    if check is None or root is None or not isinstance(document[root], dict):
        return  # no bundle, or not a health case at all: decode_health says what was expected
    issues = check(root, document[root])
    if issues:
        raise InboundError(f"{root} does not validate against the official schema ({len(issues)} error(s))",
                           issues, HubErrorCode.INVALID_MESSAGE)


# ---- decode -------------------------------------------------------------------------------------

def decode_health(document: dict[str, Any], ctx: AdapterContext) -> Decoded:
    """``{createCaseHealth|createCaseHealthUpdate: {...}}`` -> Case; unmapped leaves kept as ``health.*`` extras."""
    roots = [name for name in (CREATE, UPDATE) if isinstance(document, dict) and name in document]
    if len(roots) != 1 or not isinstance(document[roots[0]], dict):
        found = ", ".join(document) if isinstance(document, dict) else type(document).__name__
        raise InboundError(f"expected one {CREATE} or {UPDATE} payload, found {found or 'nothing'}",
                           [Issue("/", f"expected {CREATE} or {UPDATE}", "wrong-payload")],
                           HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT)
    root = roots[0]
    try:
        return _decode(root, document[root])
    except (TypeError, AttributeError, ValueError, KeyError, ArithmeticError) as exc:
        if isinstance(exc, BridgeError):
            raise
        raise InboundError(f"{root} payload has an unexpected shape (validate it against the official schema)",
                           [Issue(f"/{root}", str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                                  "invalid")], HubErrorCode.INVALID_MESSAGE) from None


class _Taken:
    """Reads leaves of the payload and remembers which pointers were used.

    The payload's scalar leaves are listed once, by pointer and in document order (``leaves``); a read
    takes a leaf from that table, and what is left at the end is the extras (:meth:`unused`).
    """

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.leaves: dict[str, Any] = {}
        _list_leaves(payload, "", self.leaves)
        self.used: set[str] = set()

    def get(self, *path: str | int) -> Any:
        pointer = _pointer(path)
        value = self.leaves.get(pointer, _ABSENT)
        if value is not _ABSENT:
            if value is not None:
                self.used.add(pointer)
            return value
        node: Any = self.payload  # not a leaf: an object, a list, or nothing there
        for part in path:
            if isinstance(part, int):
                if not isinstance(node, list) or part >= len(node):
                    return None
            elif not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def items(self, *path: str) -> list[Any]:
        node: Any = self.payload
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, list) else []

    def unused(self) -> dict[str, str]:
        """Every scalar leaf not read, as ``{extra key: typed text}`` (document order)."""
        used = self.used
        keys = _EXTRA_KEYS
        extras: dict[str, str] = {}
        for pointer, value in self.leaves.items():
            if pointer in used:
                continue
            key = keys.get(pointer) or _remembered_extra_key(pointer)
            extras[key] = "s:" + value if type(value) is str else _typed_text(value)  # most leaves are strings
        return extras


_ABSENT = object()


@lru_cache(maxsize=1024)
def _pointer(path: tuple[str | int, ...]) -> str:
    """``/a/0/b`` for ``("a", 0, "b")``: the decoder reads the same few dozen paths in every message."""
    return "/" + "/".join(map(str, path))


def _list_leaves(node: Any, prefix: str, out: dict[str, Any]) -> None:
    """``out[pointer] = value`` for every scalar leaf under ``node`` (pointers unescaped, as extras keys are).

    A value is a container when it is a dict or a list, subclasses included; the exact types of a parsed
    payload's values are recognised first, without an ``isinstance`` per leaf.
    """
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        kind = type(value)
        if kind is dict or kind is list or (kind not in _SCALARS and isinstance(value, (dict, list))):
            _list_leaves(value, f"{prefix}/{key}", out)
        else:
            out[f"{prefix}/{key}"] = value


_SCALARS = frozenset({str, int, bool, float, Decimal, type(None)})


def _decode(root: str, payload: dict[str, Any]) -> Decoded:
    """The planned reads (:func:`_decode_usual`), else (and for every refusal) the general way, word for word."""
    try:
        return _decode_usual(root, payload)
    except Exception:  # noqa: BLE001 - an error on the way: the general way decides, and says why
        return _decode_general(root, payload)


def _at(t: _Taken, pointer: str, path: tuple[str | int, ...]) -> Any:
    """``t.get(*path)`` with its pointer given (a constant of the planned reads): the same value and mark."""
    value = t.leaves.get(pointer, _ABSENT)
    if value is not _ABSENT:
        if value is not None:
            t.used.add(pointer)
        return value
    return t.get(*path)  # not a leaf: an object, a list or nothing there, found as get finds it


def _spec(*path: str) -> tuple[str, tuple[str, ...]]:
    return _pointer(path), path


_CASE_ID, _SENDER_CASE_ID, _CREATION = _spec("caseId"), _spec("senderCaseId"), _spec("creation")
_ADDRESS_NUMBER = _spec("location", "detailedAddress", "number")
_ADDRESS_STREET = _spec("location", "detailedAddress", "wayName", "complete")
_ADDRESS_COMPLETE = _spec("location", "detailedAddress", "complete")
_CITY_NAME, _CITY_INSEE = _spec("location", "city", "name"), _spec("location", "city", "inseeCode")
_LAT, _LON = _spec("location", "geometry", "point", "coord", "lat"), _spec("location", "geometry", "point", "coord",
                                                                            "lon")
_PRECISION = _spec("location", "geometry", "point", "coord", "precision")
_LOCATION_TEXT = _spec("location", "freetext")
_CALLER_DETAIL = _spec("initialAlert", "caller", "callerContact", "detail")
_CALLER_TYPE_READ = _spec("initialAlert", "caller", "callerContact", "type")
_CALLER_CHANNEL = _spec("initialAlert", "caller", "callerContact", "channel")
_CALLER_NAME = _spec("initialAlert", "caller", "detailedName", "complete")
_CALLER_KIND = _spec("initialAlert", "caller", "type")
_CALLER_TEXT = _spec("initialAlert", "caller", "freetext")
_CODED = {name: (_spec("qualification", name, "code"), _spec("qualification", name, "label"))
          for name in ("whatsHappen", "locationKind", "healthMotive")}


def _coded_usual(t: _Taken, code_spec: tuple[str, tuple[str, ...]],
                 label_spec: tuple[str, tuple[str, ...]]) -> dict[str, Any] | None:
    code = _at(t, *code_spec)
    return {"code": code, "label": _at(t, *label_spec)} if code else None


def _decode_usual(root: str, payload: dict[str, Any]) -> Decoded:
    """:func:`_decode_general`'s reads in the same order, the fixed pointers as constants, and one ``Case``
    validation of the dicts the sub-models were built from (an error of any kind: the general way)."""
    t = _Taken(payload)
    notes = []
    for index, _ in enumerate(t.items("initialAlert", "notes")):
        text = t.get("initialAlert", "notes", index, "freetext")
        if text:
            created = parse_datetime(t.get("initialAlert", "notes", index, "creation"),
                                     f"/{root}/initialAlert/notes/{index}/creation")
            notes.append({"text": text, "created": created})
    case_id, sender_case_id = _at(t, *_CASE_ID), _at(t, *_SENDER_CASE_ID)
    created = parse_datetime(_at(t, *_CREATION), f"/{root}/creation")
    # qualification (as _qualification)
    risks = t.items("qualification", "riskThreat")
    qualification = {
        "whats_happen": _coded_usual(t, *_CODED["whatsHappen"]),
        "location_kind": _coded_usual(t, *_CODED["locationKind"]),
        "health_motive": _coded_usual(t, *_CODED["healthMotive"]),
        "risk_threats": tuple(c for i in range(len(risks)) if (c := _coded_dict(t, "qualification", "riskThreat", i))),
    }
    # location (as _location)
    number, street = _at(t, *_ADDRESS_NUMBER), _at(t, *_ADDRESS_STREET)
    complete = (t.payload.get("location") or {}).get("detailedAddress", {}).get("complete") if isinstance(
        (t.payload.get("location") or {}).get("detailedAddress"), dict) else None
    if complete is not None and complete in (street, " ".join(p for p in (number, street) if p)):
        _at(t, *_ADDRESS_COMPLETE)
    elif complete is not None and street is None:
        street = _at(t, *_ADDRESS_COMPLETE)
    location = {"number": number, "street": street, "city": _at(t, *_CITY_NAME), "insee": _at(t, *_CITY_INSEE),
                "lat": _at(t, *_LAT), "lon": _at(t, *_LON), "precision": _at(t, *_PRECISION),
                "free_text": _at(t, *_LOCATION_TEXT)}
    # caller (as _caller)
    contact = (((t.payload.get("initialAlert") or {}).get("caller") or {}).get("callerContact") or {})
    phone = None
    if contact.get("type") == "TEL" and contact.get("channel") == "PERSONNE":
        phone = _at(t, *_CALLER_DETAIL)
        _at(t, *_CALLER_TYPE_READ)
        _at(t, *_CALLER_CHANNEL)
    caller = {"name": _at(t, *_CALLER_NAME), "phone": phone, "type": _at(t, *_CALLER_KIND),
              "free_text": _at(t, *_CALLER_TEXT)}
    patients = tuple(_patient_dict(t, index) for index, _ in enumerate(t.items("patient")))
    case = Case.model_validate({
        "case_id": case_id, "sender_case_id": sender_case_id, "created": created, "qualification": qualification,
        "location": location, "caller": caller if any(v is not None for v in caller.values()) else None,
        "notes": tuple(notes), "patients": patients,
        "extras": t.unused(),  # last: every read above is counted
    })
    return Decoded(case=case, dropped=[])


def _coded_dict(t: _Taken, *path: str | int) -> dict[str, Any] | None:
    code = t.get(*path, "code")
    return {"code": code, "label": t.get(*path, "label")} if code else None


def _patient_dict(t: _Taken, index: int) -> dict[str, Any]:
    """What :func:`_patient` builds, as a dict (the same reads)."""
    base = ("patient", index)
    age_text = (((t.payload.get("patient") or [])[index] or {}).get("detail") or {}).get("age")
    age = None
    matched = _AGE.match(age_text) if isinstance(age_text, str) else None
    if matched is not None:
        age = int(matched.group(1))
        t.get(*base, "detail", "age")
    return {"last_name": t.get(*base, "identity", "nonStrictFeatures", "lastName"),
            "first_name": t.get(*base, "identity", "nonStrictFeatures", "firstName"),
            "sex": t.get(*base, "identity", "strictFeatures", "sex"), "age": age}


def _decode_general(root: str, payload: dict[str, Any]) -> Decoded:
    """The health case through the :class:`_Taken` reads and one model at a time (any shape; refusals named)."""
    t = _Taken(payload)
    notes = []
    for index, _ in enumerate(t.items("initialAlert", "notes")):
        text = t.get("initialAlert", "notes", index, "freetext")
        if text:
            created = parse_datetime(t.get("initialAlert", "notes", index, "creation"),
                                     f"/{root}/initialAlert/notes/{index}/creation")
            notes.append(Note(text=text, created=created))
    case = Case(
        case_id=t.get("caseId"), sender_case_id=t.get("senderCaseId"),
        created=parse_datetime(t.get("creation"), f"/{root}/creation"),
        qualification=_qualification(t), location=_location(t), caller=_caller(t), notes=tuple(notes),
        patients=tuple(_patient(t, index) for index, _ in enumerate(t.items("patient"))),
        extras=t.unused(),  # last: arguments are evaluated in order, so every read above is counted
    )
    return Decoded(case=case, dropped=[])


def _typed_text(value: Any) -> str:
    """A leaf as text with its JSON type (``s:`` string, ``d:`` decimal, ``i:`` integer, ``b:`` boolean)."""
    if isinstance(value, str):
        return "s:" + value
    if isinstance(value, bool):
        return "b:true" if value else "b:false"
    if isinstance(value, int):
        return f"i:{value}"
    if isinstance(value, Decimal):
        return f"d:{value}"
    return "j:" + json.dumps(value)


def _typed_value(text: str) -> Any:
    """The leaf :func:`_typed_text` wrote; an untagged text (hand-made extra) is a string."""
    tag, body = text[:2], text[2:]
    if tag == "s:":
        return body
    if tag == "d:":
        number = Decimal(body)
        if not number.is_finite():  # never write NaN/Infinity: the extra is kept as its text
            raise ValueError(f"{body!r} is not a finite number")
        return number
    if tag == "i:":
        return int(body)
    if tag == "b:":
        return body == "true"
    if tag == "j:":
        return json.loads(body)
    return text


def _extra_key(pointer: str) -> str:
    """``health./patient/0/...`` for health-only content, ``rs-eda./location/access/floor`` for the rest."""
    return (HEALTH if (pointer + "/").startswith(HEALTH_ONLY) else OTHER) + pointer


_EXTRA_KEYS: dict[str, str] = {}
_EXTRA_KEYS_LIMIT = 4096  # pointers: a few hundred recur in every message of a shape; a hostile one is not kept long


def _remembered_extra_key(pointer: str) -> str:
    """:func:`_extra_key`, remembered per pointer (bounded: cleared when full)."""
    if len(_EXTRA_KEYS) >= _EXTRA_KEYS_LIMIT:
        _EXTRA_KEYS.clear()
    key = _EXTRA_KEYS[pointer] = _extra_key(pointer)
    return key


def _coded(t: _Taken, *path: str | int) -> Coded | None:
    code = t.get(*path, "code")
    return Coded(code=code, label=t.get(*path, "label")) if code else None


def _qualification(t: _Taken) -> Qualification:
    risks = t.items("qualification", "riskThreat")
    return Qualification(
        whats_happen=_coded(t, "qualification", "whatsHappen"),
        location_kind=_coded(t, "qualification", "locationKind"),
        health_motive=_coded(t, "qualification", "healthMotive"),
        risk_threats=tuple(c for i in range(len(risks)) if (c := _coded(t, "qualification", "riskThreat", i))),
    )


def _location(t: _Taken) -> Location:
    address = ("location", "detailedAddress")
    number, street = t.get(*address, "number"), t.get(*address, "wayName", "complete")
    complete = (t.payload.get("location") or {}).get("detailedAddress", {}).get("complete") if isinstance(
        (t.payload.get("location") or {}).get("detailedAddress"), dict) else None
    if complete is not None and complete in (street, " ".join(p for p in (number, street) if p)):
        t.get(*address, "complete")
    elif complete is not None and street is None:
        street = t.get(*address, "complete")
    coord = ("location", "geometry", "point", "coord")
    return Location(number=number, street=street, city=t.get("location", "city", "name"),
                    insee=t.get("location", "city", "inseeCode"), lat=t.get(*coord, "lat"), lon=t.get(*coord, "lon"),
                    precision=t.get(*coord, "precision"), free_text=t.get("location", "freetext"))


def _caller(t: _Taken) -> Caller | None:
    base = ("initialAlert", "caller")
    contact = (((t.payload.get("initialAlert") or {}).get("caller") or {}).get("callerContact") or {})
    phone = None
    if contact.get("type") == "TEL" and contact.get("channel") == "PERSONNE":
        phone = t.get(*base, "callerContact", "detail")
        t.get(*base, "callerContact", "type")
        t.get(*base, "callerContact", "channel")
    caller = Caller(name=t.get(*base, "detailedName", "complete"), phone=phone, type=t.get(*base, "type"),
                    free_text=t.get(*base, "freetext"))
    return caller if any(v is not None for _, v in caller) else None


def _patient(t: _Taken, index: int) -> Patient:
    base = ("patient", index)
    age_text = (((t.payload.get("patient") or [])[index] or {}).get("detail") or {}).get("age")
    age = None
    matched = _AGE.match(age_text) if isinstance(age_text, str) else None
    if matched is not None:
        age = int(matched.group(1))
        t.get(*base, "detail", "age")
    return Patient(last_name=t.get(*base, "identity", "nonStrictFeatures", "lastName"),
                   first_name=t.get(*base, "identity", "nonStrictFeatures", "firstName"),
                   sex=t.get(*base, "identity", "strictFeatures", "sex"), age=age)


# ---- encode -------------------------------------------------------------------------------------

def encode_health(case: Case, ctx: AdapterContext, root: str = CREATE) -> tuple[dict[str, Any], list[Issue], list[Issue]]:
    """Case -> createCaseHealth (or createCaseHealthUpdate) dict, what it could not carry, and the rules used."""
    drops: list[Issue] = []
    warnings: list[Issue] = []
    health = _health_extras(case)
    owner = _text(health.get("/owner")) or (_owner(ctx, warnings) if root == CREATE else None)
    case_id = case.case_id or f"{ctx.sender_id}.{_LOCAL.sub('', case.sender_case_id or '') or _LOCAL.sub('', ctx.new_id())}"
    created = case.created
    if created is None and root == CREATE and "/creation" not in health:
        created = ctx.now
        warnings.append(Issue("creation", "the case has no creation date: the translation time is used", "value-filled"))
    payload: dict[str, Any] = {"caseId": case_id, "senderCaseId": case.sender_case_id, "owner": owner}
    if root == CREATE:
        payload["creation"] = hub_datetime(created) if created else None
    elif created is not None:
        drops.append(dropped("created", f"{UPDATE} carries no creation date (the case exists already)"))
    q = case.qualification

    def coded(c: Coded | None) -> dict[str, Any] | None:
        return {"code": c.code, "label": c.label or label_of(ctx, c.code) or c.code} if c else None

    if root == CREATE:
        payload["qualification"] = {"whatsHappen": coded(q.whats_happen), "locationKind": coded(q.location_kind),
                                    "healthMotive": coded(q.health_motive),
                                    "riskThreat": [coded(c) for c in q.risk_threats]}
        payload["location"] = _location_dict(case, health, warnings)
        payload["initialAlert"] = _alert_dict(case, health, warnings, drops, ctx)
        payload["patient"] = _patients(case, owner, case_id, health, warnings, drops, ctx)
    else:
        payload["qualification"] = {"riskThreat": [coded(c) for c in q.risk_threats]}
        payload["initialAlert"] = {"notes": _notes(case)}
        payload["patient"] = _patients(case, owner, case_id, health, warnings, drops, ctx)
        for name in ("whats_happen", "location_kind", "health_motive"):
            if getattr(q, name) is not None:
                drops.append(dropped(f"qualification.{name}", f"{UPDATE} carries no {name}"))
        if case.caller is not None:
            drops.append(dropped("caller", f"{UPDATE} carries no caller"))
        drops += [dropped(f"location.{k}", f"{UPDATE} carries no address") for k, v in case.location
                  if v is not None and k != "country"]
    for name in ("victims_count", "main_victim", "victims_text"):
        if getattr(q, name) is not None:
            drops.append(dropped(f"qualification.{name}", "the health model has no victims count/kind"))
    if case.request is not None:
        drops.append(dropped("request", "the health case carries no request for assistance (EMSI)"))
    if case.answer is not None:
        drops.append(dropped("answer", "the health case carries no answer to a request for assistance (EMSI)"))
    payload = prune(payload)
    for pointer, value in health.items():
        if not _place(payload, pointer, value):
            drops.append(dropped(f"extras.{_extra_key(pointer)}", f"{root} has no field at {pointer}"))
    others = {k: v for k, v in case.extras.items() if not k.startswith((HEALTH + "/", OTHER + "/"))}
    if others:
        custom = payload.setdefault("additionalInformation", {}).setdefault("customMap", [])
        if len(custom) < 3:
            custom.append({"key": EXTRAS_KEY, "label": "Champs complémentaires (hub-bridge)",
                           "value": json.dumps(others, ensure_ascii=False, separators=(",", ":"))})
        else:
            drops += [dropped(f"extras.{k}", "customMap is full (3 entries)") for k in others]
    if root == CREATE and not payload.get("qualification"):
        raise OutboundError(f"{CREATE} needs a qualification", [Issue("qualification", "nothing to qualify the case",
                                                                      "missing-field")], HubErrorCode.INSUFFICIENT_DATA)
    return _order(payload, root), drops, warnings


def _health_extras(case: Case) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, text in case.extras.items():
        prefix = HEALTH if key.startswith(HEALTH + "/") else OTHER if key.startswith(OTHER + "/") else None
        if prefix is None:
            continue
        try:
            found[key[len(prefix):]] = _typed_value(text)
        except (ValueError, ArithmeticError):
            found[key[len(prefix):]] = text
    return found


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def allowed_codes(ctx: AdapterContext, name: str, built_in: frozenset[str]) -> frozenset[str]:
    """The codes of official list ``name`` from the context's nomenclatures, else the schema's enumeration."""
    code_list = ctx.nomenclatures.get(name) if ctx.nomenclatures is not None else None
    return frozenset(code_list.codes) if code_list is not None and code_list.codes else built_in


def _owner(ctx: AdapterContext, warnings: list[Issue]) -> str:
    owner = ctx.recipient_id if ctx.recipient_id.startswith("fr.health.") else ctx.sender_id
    warnings.append(Issue("owner", f"no owner in the case: set to {owner} (the health partner handling it)",
                          "value-filled"))
    return owner


def _location_dict(case: Case, health: dict[str, Any], warnings: list[Issue]) -> dict[str, Any]:
    loc = case.location
    complete = " ".join(p for p in (loc.number, loc.street) if p) or None
    point = None
    if loc.lat is not None and loc.lon is not None:
        point = {"coord": {"lat": loc.lat, "lon": loc.lon, "precision": loc.precision or "ADRESSE"}}
    geometry = None
    if point is not None:
        stamp = health.get("/location/geometry/datetime")
        if stamp is None and case.created is not None:
            stamp = hub_datetime(case.created)
            warnings.append(Issue("location.geometry.datetime", "not in the case: the case's creation is used",
                                  "value-filled"))
        geometry = {"datetime": stamp, "point": point}
    return {"detailedAddress": {"complete": complete, "number": loc.number,
                                "wayName": {"complete": loc.street} if loc.street else None} if complete else None,
            "city": {"name": loc.city, "inseeCode": loc.insee}, "geometry": geometry, "freetext": loc.free_text}


def _notes(case: Case) -> list[dict[str, Any]]:
    return [{"freetext": n.text, "creation": hub_datetime(n.created) if n.created else None} for n in case.notes]


def _alert_dict(case: Case, health: dict[str, Any], warnings: list[Issue], drops: list[Issue],
                ctx: AdapterContext) -> dict[str, Any] | None:
    caller = case.caller
    if caller is None or not caller.phone:
        if caller is not None:
            drops += [dropped(f"caller.{k}", "the health alert needs the caller's phone to carry the caller")
                      for k, v in caller if v is not None]
        drops += [dropped(f"notes[{i}]", "the health alert needs a caller to carry notes")
                  for i, _ in enumerate(case.notes)]
        return None
    reception = health.get("/initialAlert/reception")
    if reception is None:
        reception = hub_datetime(case.created) if case.created else None
        warnings.append(Issue("initialAlert.reception", "not in the case: the case's creation is used", "value-filled"))
    kind = caller.type if caller.type in allowed_codes(ctx, CALLER_TYPE_LIST, CALLER_TYPES) else None
    if caller.type is not None and kind is None:
        drops.append(dropped("caller.type", f"{caller.type!r} is not a caller type of the health model"))
    return {"reception": reception, "notes": _notes(case),
            "caller": {"callerContact": {"channel": "PERSONNE", "type": "TEL", "detail": caller.phone},
                       "detailedName": {"complete": caller.name} if caller.name else None,
                       "type": kind, "freetext": caller.free_text}}


def _patients(case: Case, owner: str | None, case_id: str, health: dict[str, Any], warnings: list[Issue],
              drops: list[Issue], ctx: AdapterContext) -> list[dict[str, Any]]:
    result = []
    sexes = allowed_codes(ctx, SEX_LIST, SEXES)
    local = _LOCAL.sub("", case.sender_case_id or case_id.rsplit(".", 1)[-1]) or "case"
    for index, patient in enumerate(case.patients):
        pid = health.get(f"/patient/{index}/patientId")
        if pid is None:
            pid = f"{owner or ctx_owner_fallback(case_id)}.patient.{local}.{index + 1}"
            warnings.append(Issue(f"patients[{index}].patientId", f"no patient id: {pid} is used", "value-filled"))
        sex = patient.sex if patient.sex in sexes else None
        if patient.sex is not None and sex is None:
            drops.append(dropped(f"patients[{index}].sex", f"{patient.sex!r} is not a sex code of the health model"))
        if patient.free_text:
            drops.append(dropped(f"patients[{index}].free_text", "the health patient has no free text"))
        complete = " ".join(p for p in (patient.first_name, patient.last_name) if p) or None
        result.append({"patientId": pid,
                       "identity": {"strictFeatures": {"sex": sex},
                                    "nonStrictFeatures": {"complete": complete, "lastName": patient.last_name,
                                                          "firstName": patient.first_name} if complete else None},
                       "detail": {"age": f"P{patient.age}Y" if patient.age is not None and 0 <= patient.age < 1000
                                  else None}})
    return result


def _place(payload: dict[str, Any], pointer: str, value: Any) -> bool:
    """Put ``value`` at JSON pointer ``pointer`` (creating objects and list items); False if the shape differs."""
    parts = [int(p) if p.isdigit() else p for p in pointer.strip("/").split("/")]
    node: Any = payload
    for part, following in pairwise(parts):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(part, int):
            if not isinstance(node, list):
                return False
            while len(node) <= part:
                node.append({} if not isinstance(following, int) else [])
            if node[part] is None:
                node[part] = empty
            node = node[part]
        else:
            if not isinstance(node, dict):
                return False
            node = node.setdefault(part, empty)
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list):
            return False
        while len(node) <= last:
            node.append(None)
        node[last] = value
        return True
    if not isinstance(node, dict):
        return False
    node[last] = value  # the original leaf wins over a value rebuilt from canonical parts
    return True


def ctx_owner_fallback(case_id: str) -> str:
    """The organisation part of a case id (``fr.health.samu440.X`` -> ``fr.health.samu440``)."""
    return ".".join(case_id.split(".")[:3])


_ORDER = ("caseId", "senderCaseId", "creation", "perimeter", "interventionType", "qualification", "location",
          "initialAlert", "owner", "patient", "medicalNote", "decision", "freetext", "additionalInformation")


_RANK = {key: rank for rank, key in enumerate(_ORDER)}


def _order(payload: dict[str, Any], root: str) -> dict[str, Any]:
    """Top-level keys in schema order (the XML codec orders by XSD anyway; this keeps JSON readable)."""
    return {key: payload[key] for key in sorted(payload, key=lambda k: _RANK.get(k, 99))}


__all__ = [
    "RsEdaJsonAdapter",
    "RsEdaMajJsonAdapter",
    "RsEdaMajXmlAdapter",
    "RsEdaXmlAdapter",
    "decode_health",
    "encode_health",
]

"""``emsi-json`` / ``emsi-xml``: NexSIS EMSI <-> canonical case.

EMSI speaks in EVENT types (CATEGORY, ACTOR, LOCTYPE) where RC-EDA speaks CISU
codes: the ``cisu-emsi-*`` tables translate. A request for assistance is the
MISSION named ``#DEMANDE_CONCOURS#kind#frame#`` and its answer the MISSION named
``#REPONSE_DEMANDE_CONCOURS#STATUS#`` (the ``answer-aliases`` table turns the
spellings seen in the field into one canonical status). Other missions and the
resources (the "opération globale") are the case's operations, read and written
by :mod:`bridge.core.adapters.emsi_operations`. Casualty triage counts and the many
EMSI-only event attributes have no canonical field: they are listed as dropped,
leaf by leaf.
"""

from __future__ import annotations

import re
from typing import Any

from bridge.core.adapters.base import AdapterContext, Decoded
from bridge.core.adapters.codes import label_of, map_code
from bridge.core.adapters.consumed import unwrap_tracked
from bridge.core.adapters.emsi_operations import complete_assistance, read_operations, write_operations
from bridge.core.adapters.hub_payload import PayloadKind, adapter_class, decode_payload, encode_payload
from bridge.core.adapters.hubjson import hub_datetime, parse_datetime, prune
from bridge.core.adapters.rc_eda import case_id_for
from bridge.core.adapters.tracking import Reader
from bridge.core.canonical import AssistanceAnswer, AssistanceRequest, Case, Coded, Location, Note, Qualification
from bridge.core.errors import Issue
from bridge.core.numbers import check_coordinate

PAYLOAD = "emsi"
REQUEST = re.compile(r"^#DEMANDE_CONCOURS#([^#]*)#([^#]*)#?$", re.IGNORECASE)
ANSWER = re.compile(r"^#REPONSE_DEMANDE_CONCOURS#([^#]*)#?$", re.IGNORECASE)
ADDRESS = re.compile(r"^(?:(?P<number>\d+\s?[A-Za-z]?)\s+)?(?P<street>.*?)(?:,\s*(?P<city>[^,]+))?$")


# ---- decode -------------------------------------------------------------------------------------

def decode_emsi(payload: dict[str, Any], ctx: AdapterContext) -> Decoded:
    """EMSI dict -> Case, with unread leaves listed as dropped and mapping warnings kept."""
    return decode_payload(payload, EMSI, ctx)


def _decode_emsi(payload: dict[str, Any], ctx: AdapterContext) -> Decoded:
    r = Reader(payload, f"/{PAYLOAD}")
    warnings: list[Issue] = []
    # CONTEXT.ID, MSGTYPE, CREATION, ORIGIN are the received message's identity: not the case's, so they are
    # listed as dropped like any unread leaf (the bridge writes its own when it sends EMSI)
    qualification = _qualification(r, ctx, warnings)
    notes = [Note(text=t) for t in (r.get("CONTEXT", "FREETEXT"), r.get("EVENT", "FREETEXT")) if t]
    request, answer = _missions(r, ctx, warnings)
    case = Case(
        case_id=r.get("EVENT", "MAIN_EVENT_ID"), sender_case_id=r.get("EVENT", "ID"),
        created=parse_datetime(r.get("EVENT", "DECL_DATIME"), r.pointer("EVENT", "DECL_DATIME")),
        qualification=qualification, location=_location(r), notes=tuple(notes),
        request=request, answer=answer, operations=read_operations(r),
        extras={"event_name": name} if (name := r.get("EVENT", "NAME")) else {},
    )
    return Decoded(case=case, dropped=r.leftover(), warnings=warnings)


def _first(r: Reader, *path: str | int) -> str | None:
    value: str | None = r.get(*path, 0)
    return value


def _qualification(r: Reader, ctx: AdapterContext, warnings: list[Issue]) -> Qualification:
    def cisu(table: str, value: str | None, pointer: str) -> Coded | None:
        code, issues = map_code(ctx, table, value, pointer, "reverse")
        warnings.extend(issues)
        return Coded(code=code, label=label_of(ctx, code)) if code else None

    etype = ("EVENT", "ETYPE")
    whats = cisu("cisu-emsi-category", _first(r, *etype, "CATEGORY"), r.pointer(*etype, "CATEGORY", 0))
    kind = cisu("cisu-emsi-loctype", _first(r, *etype, "LOCTYPE"), r.pointer(*etype, "LOCTYPE", 0))
    motive, count = None, None
    for index, actor in enumerate(r.data.get("EVENT", {}).get("ETYPE", {}).get("ACTOR", [])):
        pointer = r.pointer(*etype, "ACTOR", index)
        if motive is None and str(actor).startswith("PPL/VLN"):
            motive = cisu("cisu-emsi-actor", r.get(*etype, "ACTOR", index), pointer)
        elif count is None and ctx.mappings is not None:
            mapped = ctx.mappings.reverse("cisu-emsi-victims", r.get(*etype, "ACTOR", index))
            count = mapped.code
            if getattr(mapped, "warning", None):
                warnings.append(Issue(pointer, f"{actor!r}: victims count {mapped.code} ({mapped.source})",
                                      "value-altered"))
    return Qualification(whats_happen=whats, location_kind=kind, health_motive=motive, victims_count=count)


def _location(r: Reader) -> Location:
    position = ("EVENT", "EGEO", 0, "POSITION")
    address = _first(r, *position, "ADDRESS") or ""
    parts = ADDRESS.match(address.strip()) if address else None
    # a town with no street travels as the position's NAME (see _egeo): a bare ADDRESS is a street
    town = None if address else r.get(*position, "NAME")
    for axis, name in (("lat", "LAT"), ("lon", "LONG")):  # WGS84 degrees in range, named by pointer
        check_coordinate(r.get(*position, "COORD", 0, name), axis, r.pointer(*position, "COORD", 0, name))
    return Location(
        loc_id=r.get(*position, "LOC_ID"),
        number=parts["number"] if parts else None, street=parts["street"] or None if parts else None,
        city=parts["city"] if parts else town,
        lat=r.get(*position, "COORD", 0, "LAT"), lon=r.get(*position, "COORD", 0, "LONG"),
    )


def _missions(r: Reader, ctx: AdapterContext, warnings: list[Issue]
              ) -> tuple[AssistanceRequest | None, AssistanceAnswer | None]:
    request = answer = None
    for index, mission in enumerate(r.data.get("MISSION", [])):
        name = str(mission.get("NAME", ""))
        if request is None and (match := REQUEST.match(name)):
            r.mark("MISSION", index, "NAME")
            request = AssistanceRequest(
                request_id=r.get("MISSION", index, "ID"), mission_type=r.get("MISSION", index, "TYPE"),
                kind=match[1].upper() or "AUTRE", frame=match[2] or None,
                free_text=r.get("MISSION", index, "FREETEXT"),
                resources=tuple(r.get("MISSION", index, "RESOURCE_ID") or ()))
        elif answer is None and (match := ANSWER.match(name)):
            r.mark("MISSION", index, "NAME")
            status, issues = map_code(ctx, "answer-aliases", match[1].upper(), r.pointer("MISSION", index, "NAME"))
            warnings.extend(issues)
            # an empty answer code maps to None, which the model refuses (decode_payload's shape net reports it)
            answer = AssistanceAnswer(status=status, free_text=  # type: ignore[arg-type]
                                      r.get("MISSION", index, "FREETEXT"),
                                      request_id=r.get("MISSION", index, "MAIN_MISSION_ID"),
                                      mission_type=r.get("MISSION", index, "TYPE"))
    return request, answer


# ---- encode -------------------------------------------------------------------------------------

def encode_emsi(case: Case, ctx: AdapterContext) -> tuple[dict[str, Any], list[Issue], list[Issue]]:
    """Case -> EMSI dict, the canonical fields it did not carry (derived), and mapping warnings."""
    return encode_payload(case, EMSI, ctx)


def _encode_emsi(case: Any, ctx: AdapterContext) -> tuple[dict[str, Any], list[Issue]]:
    warnings: list[Issue] = []

    def emsi(table: str, code: str | None, path: str, default: str) -> str:
        mapped, issues = map_code(ctx, table, code, path, "forward")
        warnings.extend(issues)
        if not mapped:
            warnings.append(Issue(path, f"no code to translate: EMSI requires one, the generic {default!r} is "
                                        f"written", "value-derived"))
        return mapped or default

    q = case.qualification
    actors = [emsi("cisu-emsi-actor", q.health_motive.code if q.health_motive else None,
                   "qualification.health_motive", "PPL")]
    if q.victims_count:
        actors.append(emsi("cisu-emsi-victims", q.victims_count, "qualification.victims_count", "PPL"))
    created = hub_datetime(case.created or ctx.now)
    case_id = case_id_for(case, ctx)
    operations = unwrap_tracked(case.operations)  # read whole: emsi_operations reports its own drops
    op_missions, op_resources, op_drops = write_operations(operations)
    payload: dict[str, Any] = {
        "CONTEXT": {"ID": ctx.new_id(), "MODE": "ACTUAL", "MSGTYPE": "ALERT" if case.version <= 1 else "UPDATE",
                    "CREATION": hub_datetime(ctx.now), "LEVEL": "OPR",
                    "FREETEXT": "\n".join(n.text for n in case.notes),
                    "ORIGIN": {"ORG_ID": ctx.sender_id}},
        "EVENT": {"ID": case.sender_case_id or case_id.rsplit(".", 1)[-1], "NAME": case.extras.get("event_name"),
                  "MAIN_EVENT_ID": case_id,
                  "ETYPE": {"CATEGORY": [emsi("cisu-emsi-category", q.whats_happen.code if q.whats_happen else None,
                                              "qualification.whats_happen", "PSW")],
                            "ACTOR": list(dict.fromkeys(actors)),
                            "LOCTYPE": [emsi("cisu-emsi-loctype", q.location_kind.code if q.location_kind else None,
                                             "qualification.location_kind", "OTH")]},
                  "DECL_DATIME": created, "EGEO": [_egeo(case)]},
        "MISSION": complete_assistance(_missions_out(case, ctx, warnings), operations) + op_missions,
        "RESOURCE": op_resources,
    }
    return prune(payload), warnings + op_drops


def _egeo(case: Case) -> dict[str, Any] | None:
    loc = case.location
    address = " ".join(p for p in (loc.number, loc.street) if p)
    town = None
    if loc.city:
        if address:
            address = f"{address}, {loc.city}"
        else:  # "Nantes" alone in ADDRESS would read back as a street: name the place instead
            town = loc.city
    coord = [{"LAT": loc.lat, "LONG": loc.lon}] if loc.lat is not None and loc.lon is not None else []
    if not address and not coord and not town:
        return None
    return {"POSITION": {"LOC_ID": loc.loc_id, "NAME": town, "COORD": coord,
                         "ADDRESS": [address] if address else []}}


def _missions_out(case: Case, ctx: AdapterContext, warnings: list[Issue]) -> list[dict[str, Any]]:
    missions: list[dict[str, Any]] = []
    request = case.request
    if request is not None and not request.mission_type:
        warnings.append(Issue("request.mission_type", "no mission type in the request: EMSI requires one, the "
                                                      "generic 'SAV' is written", "value-derived"))
    if request is not None:
        warnings.append(Issue(f"/emsi/MISSION/{len(missions)}/START_TIME", "the request's START_TIME is the case "
                                  "creation time (the translation time when the source has none)", "value-derived"))
        missions.append({  # keys in the model's (XSD sequence) order: the service sends the dict as built
            "TYPE": request.mission_type or "SAV", "FREETEXT": request.free_text,
            "ID": request.request_id or ctx.new_id(),
            "NAME": f"#DEMANDE_CONCOURS#{request.kind}#{request.frame or ''}#".replace("##", "#"),
            "STATUS": "NST", "START_TIME": hub_datetime(case.created or ctx.now),
            "RESOURCE_ID": list(request.resources),
        })
    answer = case.answer
    if answer is not None and not answer.mission_type:
        used = request.mission_type if request is not None and request.mission_type else "SAV"
        warnings.append(Issue("answer.mission_type", f"no mission type in the answer: EMSI requires one, "
                                                     f"{used!r} (the request's, else generic) is written",
                              "value-derived"))
    if answer is not None:
        missions.append({
            "TYPE": answer.mission_type or (request.mission_type if request else None) or "SAV",
            "FREETEXT": answer.free_text, "ID": ctx.new_id(),
            "NAME": f"#REPONSE_DEMANDE_CONCOURS#{answer.status}#", "STATUS": "NST",
            "MAIN_MISSION_ID": answer.request_id,
        })
    return missions


EMSI = PayloadKind(
    payload=PAYLOAD, title="EMSI", required=("CONTEXT", "EVENT"), decode=_decode_emsi, encode=_encode_emsi,
    drop_reason="EMSI has no field for it (no caller, named victims, CISU risks, INSEE code or note times)",
)
EmsiJsonAdapter = adapter_class("emsi-json", EMSI, "json")
EmsiXmlAdapter = adapter_class("emsi-xml", EMSI, "xml")

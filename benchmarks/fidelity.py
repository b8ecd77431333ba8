"""Meaning fidelity: every leaf value of the official examples and golden messages, through every profile and back.

Runs every official RC-EDA and EMSI example (``../shared/hub-reference/examples`` or $HUB_REFERENCE)
Hub -> legacy -> Hub, and every golden legacy message (``tests/golden/<profile>/``) legacy -> Hub ->
legacy, through each shipped profile, with the functions the running bridge uses
(``bridge.core.pipeline``). Every leaf value of each input is classified by comparing it with the
value at the same place in the final output:

``preserved``             the same value comes back;
``declared_dropped``      it does not come back, and a leg's dropped-field report names it (or its
                          canonical field, see CANONICAL below);
``altered_with_warning``  another value comes back (or none), and a leg's warning names it;
``silently_changed``      another value (or none) comes back and nothing said so;

and every leaf of the output with no counterpart in the input is ``invented`` unless a documented
rule (GENERATED below, docs/fidelity.md) produces it. The classifier is strict on purpose: a value
that changes without a warning is ``silently_changed`` even when the change is harmless.

A second pass measures the operations (issue 15) on the leg that matters for them: the service does
not send the partner's missions and resources back to the Hub (declared, docs/operations.md), so
every EMSI example's MISSION/RESOURCE leaves and every official RC-RI example (merged onto its case's
sheet, as an inbound update is) go Hub -> legacy sheet -> the same Hub kind (``emsi-json`` /
``rc-ri-json``), through each profile, and each leaf is classified the same way.

Run: ``.venv/bin/python benchmarks/fidelity.py [--json] [--details]``
A third pass measures the health model (issue 16): every official RS-EDA example through
the ``lrm-health-json`` profile as the service sends it (RS-EDA -> RC-EDA for NexSIS -> RS-EDA back to the
LRM), every RS-EDA-MAJ merged onto its case as the service last sent it (the case's RS-EDA and earlier
updates of the same caseId; what comes back beyond the update must be that earlier state, unchanged),
every RC-EDA example the other way, RS-RI <-> RC-RI both ways (``bridge translate``), and every
RS-SR merged onto its case's known resources (as the service does); a message the bridge refuses (NACK,
dead letter) is counted apart (``refused``) and its leaves as declared by that refusal.

With ``--json`` the last line is one JSON object with the five integer keys (all passes), ``by_profile``
(service round trip), ``operations_by_profile`` and ``health_by_pair`` (with ``refused``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import simplejson

from bridge.core.adapters.legacy_text import _parse_delimited, _parse_keyvalue, decode_text
from bridge.core.adapters.legacy_xml import _record
from bridge.core.adapters.profile import Profile
from bridge.core.errors import BridgeError, Issue
from bridge.core.pipeline import (
    health_to_hub,
    hub_payloads_to_legacy,
    hub_to_legacy_result,
    legacy_to_hub,
    merge_onto_sheet,
    translate,
)
from bridge.core.xmlsafe import parse_xml
from bridge.refdata.profiles import build_context, load_profile

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ["lrm-alpha-text", "lrm-beta-text", "lrm-alpha-xml", "lrm-beta-xml"]
KINDS = ("preserved", "declared_dropped", "altered_with_warning", "silently_changed", "invented")
NOW = datetime(2025, 1, 6, 18, 30, tzinfo=timezone(timedelta(hours=1)))  # after every example and golden date

# Canonical field -> the Hub pointers that carry it (createCase and EMSI), so a drop or warning reported
# on the canonical field (by an encoder) covers those input leaves.
CANONICAL: dict[str, tuple[str, ...]] = {
    "case.case_id": ("/createCase/caseId", "/emsi/EVENT/MAIN_EVENT_ID", "/resourcesInfoCisu/caseId"),
    "case.sender_case_id": ("/createCase/senderCaseId", "/emsi/EVENT/ID"),
    "case.created": ("/createCase/creation", "/emsi/EVENT/DECL_DATIME"),
    "qualification.whats_happen": ("/createCase/qualification/whatsHappen", "/emsi/EVENT/ETYPE/CATEGORY",
                                   "/createCase/initialAlert/qualification/whatsHappen"),
    "qualification.location_kind": ("/createCase/qualification/locationKind", "/emsi/EVENT/ETYPE/LOCTYPE",
                                     "/createCase/initialAlert/qualification/locationKind"),
    "qualification.health_motive": ("/createCase/qualification/healthMotive", "/emsi/EVENT/ETYPE/ACTOR",
                                    "/createCase/initialAlert/qualification/healthMotive"),
    "qualification.risk_threats": ("/createCase/qualification/riskThreat",
                                   "/createCase/initialAlert/qualification/riskThreat"),
    "qualification.victims_count": ("/createCase/qualification/victims/count", "/emsi/EVENT/ETYPE/ACTOR",
                                     "/createCase/initialAlert/qualification/victims/count"),
    "qualification.main_victim": ("/createCase/qualification/victims/mainVictim",
                                  "/createCase/initialAlert/qualification/victims/mainVictim"),
    "qualification.victims_text": ("/createCase/qualification/victims/freetext",
                                   "/createCase/initialAlert/qualification/victims/freetext"),
    "location.loc_id": ("/createCase/location/locID", "/emsi/EVENT/EGEO/0/POSITION/LOC_ID"),
    "location.number": ("/createCase/location/detailedAddress/number", "/emsi/EVENT/EGEO/0/POSITION/ADDRESS"),
    "location.street": ("/createCase/location/detailedAddress", "/emsi/EVENT/EGEO/0/POSITION/ADDRESS"),
    "location.city": ("/createCase/location/city/name", "/emsi/EVENT/EGEO/0/POSITION/ADDRESS",
                      "/emsi/EVENT/EGEO/0/POSITION/NAME"),
    "location.insee": ("/createCase/location/city/inseeCode",),
    "location.country": ("/createCase/location/country",),
    "location.lat": ("/createCase/location/geometry/point/coord/lat", "/emsi/EVENT/EGEO/0/POSITION/COORD/0/LAT"),
    "location.lon": ("/createCase/location/geometry/point/coord/lon", "/emsi/EVENT/EGEO/0/POSITION/COORD/0/LONG"),
    "location.precision": ("/createCase/location/geometry/point/coord/precision",),
    "location.free_text": ("/createCase/location/freetext",),
    "caller": ("/createCase/initialAlert/caller",),
    "location.geometry": ("/createCase/location/geometry/datetime",),
    "notes": ("/createCase/initialAlert/notes", "/createCase/freetext", "/emsi/CONTEXT/FREETEXT",
              "/emsi/EVENT/FREETEXT"),
    "patients": ("/createCase/additionalInformation/customMap",),
    "extras": ("/createCase/additionalInformation/customMap", "/emsi/EVENT/NAME"),
    # missions and resources (EMSI OPG) read into the case's operations; the other side's are not sent back
    "operations": ("/emsi/MISSION", "/emsi/RESOURCE", "/resourcesInfoCisu/resource"),
    "request.mission_type": ("/emsi/MISSION/request/TYPE",),
    "answer.mission_type": ("/emsi/MISSION/answer/TYPE",),
    "request": ("/emsi/MISSION/request",),
    "answer": ("/emsi/MISSION/answer",),
}

# Output leaves a documented rule produces (docs/fidelity.md, "Generated values"): message identity,
# the sending side, the schema's fixed values, the degrade notes that carry an official code.
GENERATED: list[tuple[str, str]] = [
    (r"^/(createCase|resourcesInfoCisu)/caseId$", "the case's own id, else {sender}.{sender case id}"),
    (r"^/createCase/referenceVersion$", "schema version of the bridge"),
    (r"^/createCase/initialAlert/(id|reception|reporting|callTaker/.*)$", "alert envelope written for a caller"),
    (r"^/createCase/initialAlert/caller/callerContact/(channel|type)$", "the caller's phone travels as TEL"),
    (r"^/createCase/initialAlert/(location|qualification)/.*$", "alert repeats the case's location/qualification"),
    (r"^/createCase/location/locID$", "location id generated when the source has none"),
    (r"^/createCase/location/detailedAddress/complete$", "number + street, as the schema asks"),
    (r"^/createCase/location/geometry/(datetime|point/coord/precision)$", "position time/precision rule"),
    (r"^/createCase/qualification/\w+/label$", "official label of the code"),
    (r"^/createCase/qualification/riskThreat/\d+/label$", "official label of the code"),
    (r"^/createCase/additionalInformation/customMap/\d+/(key|label|freetext)$", "bridge customMap entry"),
    (r"^/emsi/CONTEXT/(ID|MODE|MSGTYPE|CREATION|LEVEL|ORIGIN/ORG_ID)$", "EMSI message identity"),
    (r"^/emsi/MISSION/\w+/(ID|STATUS|START_TIME|NAME)$", "mission identity and state"),
    (r"^/emsi/EVENT/EGEO/0/POSITION/LOC_ID$", "location id generated when the source has none"),
    (r"^/emsi/EVENT/ETYPE/(CATEGORY|ACTOR|LOCTYPE)/\d+$", "EMSI event type from the CISU code (table)"),
    (r"^/emsi/EVENT/(ID|MAIN_EVENT_ID|DECL_DATIME)$", "event identity"),
    (r"^/createCaseHealth(Update)?/owner$", "RS-EDA owner: the health recipient, else our own id (value-filled)"),
]


@dataclass
class Tally:
    counts: Counter = field(default_factory=Counter)
    details: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, kind: str, where: str, pointer: str, note: str = "") -> None:
        self.counts[kind] += 1
        if kind in ("silently_changed", "invented"):
            self.details.append((kind, where, pointer, note))

    @property
    def refused(self) -> int:
        return int(self.counts["refused"])


def leaves(value: Any, pointer: str = "") -> dict[str, Any]:
    """JSON pointer -> scalar of every leaf (empty strings and None are not values)."""
    found: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            found.update(leaves(item, f"{pointer}/{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.update(leaves(item, f"{pointer}/{index}"))
    elif value is not None and value != "":
        found[pointer] = value
    return found


def _covers(prefix: str, pointer: str) -> bool:
    return pointer == prefix or pointer.startswith(prefix.rstrip("/") + "/")


HEALTH_ROOTS = ("/createCaseHealth", "/createCaseHealthUpdate")
PATIENT_PARTS = {"last_name": ("identity/nonStrictFeatures/lastName", "identity/nonStrictFeatures/complete"),
                 "first_name": ("identity/nonStrictFeatures/firstName", "identity/nonStrictFeatures/complete"),
                 "sex": ("identity/strictFeatures/sex",), "age": ("detail/age",)}


def _pointers_of(issue: Issue) -> list[str]:
    """The Hub pointers an Issue names, and their twins in the health model (RS-EDA shares RC-EDA's shapes)."""
    found = _cisu_pointers_of(issue)
    path = issue.path.split(" ", 1)[0]
    extra = re.match(r"^extras\.(?:health|rs-eda)\.(/.*)$", path)
    if extra:  # an RS-EDA leaf kept as an extra keyed by its own pointer
        return [root + extra[1] for root in HEALTH_ROOTS]
    patient = re.match(r"^patients\[(\d+)\](?:\.(\w+))?", path)
    if patient:  # a victim: the health model's patient
        parts = PATIENT_PARTS.get(patient[2] or "", ("",)) if patient[2] else ("",)
        found += [f"{root}/patient/{patient[1]}/{part}".rstrip("/") for root in HEALTH_ROOTS for part in parts]
    resource = re.match(r"^operations\.resources/(\d+)(?:$|[/.])", path)
    if resource:  # RS-RI lists the same resources in the same order
        found.append(f"/resourcesInfo/resource/{resource[1]}")
    return found + [root + p.removeprefix("/createCase") for p in found if p.startswith("/createCase/")
                    for root in HEALTH_ROOTS]


def _cisu_pointers_of(issue: Issue) -> list[str]:
    """The Hub pointers an Issue names: its own JSON pointer, or those of its canonical field."""
    path = issue.path.split(" ", 1)[0]
    if path.startswith("/"):
        return [path]
    resource = re.match(r"^operations\.resources/(\d+)(?:$|[/.])", path)
    if resource:  # one resource, at the same index in EMSI RESOURCE and RC-RI resource (read in order)
        return [f"/emsi/RESOURCE/{resource[1]}", f"/resourcesInfoCisu/resource/{resource[1]}"]
    canonical = re.split(r"[/]", path, maxsplit=1)[0]
    exact = [name for name in CANONICAL if canonical == name or canonical.startswith(name + ".")]
    if exact:  # the most specific canonical field only (answer.mission_type, not all of answer)
        return list(CANONICAL[max(exact, key=len)])
    return [p for name, pointers in CANONICAL.items() if name.startswith(canonical + ".") for p in pointers]


def _named(issues: list[Issue], pointer: str, value: Any) -> bool:
    for issue in issues:
        if any(_covers(p, pointer) for p in _pointers_of(issue)):
            return True
        if isinstance(value, str) and len(value) > 2 and value in issue.message:
            return True
    return False


def _generated(pointer: str, value: Any) -> str | None:
    if isinstance(value, str) and " code officiel " in value:
        return "degrade note (official code for the operator)"
    return next((why for pattern, why in GENERATED if re.match(pattern, pointer)), None)


def classify(source: dict[str, Any], output: dict[str, Any], dropped: list[Issue], warnings: list[Issue],
             tally: Tally, where: str) -> None:
    """Classify every input leaf against the output leaf at the same place, then the output's extra leaves."""
    for pointer, value in source.items():
        back = output.get(pointer)
        if back is not None and _same(back, value):
            tally.add("preserved", where, pointer)
        elif back is None and _named(dropped, pointer, value):
            tally.add("declared_dropped", where, pointer)
        elif _named(warnings, pointer, value):
            tally.add("altered_with_warning", where, pointer)
        elif _generated(pointer, back) and _named(dropped, pointer, value):
            # not carried (the report says so); what stands there now a documented rule wrote
            tally.add("declared_dropped", where, pointer)
        else:
            tally.add("silently_changed", where, pointer, f"{value!r} -> {back!r}")
    for pointer, value in output.items():
        if pointer in source:
            continue
        if _generated(pointer, value) is None and not _named(warnings, pointer, value):
            tally.add("invented", where, pointer, repr(value))


def _same(back: Any, value: Any) -> bool:
    """Equal values; a date at the same instant (an LRM without offsets writes local time); a text that only
    gained degrade notes (the official codes the LRM could not hold, each with its own warning)."""
    if isinstance(back, bool) or isinstance(value, bool):  # a boolean (RC-RI availability) is not a number
        return back is value
    if isinstance(back, (int, float, Decimal)) and isinstance(value, (int, float, Decimal)):
        return Decimal(str(back)) == Decimal(str(value))
    if str(back) == str(value):
        return True
    if isinstance(back, str) and isinstance(value, str):
        kept = "\n".join(line for line in back.split("\n") if " code officiel " not in line)
        if kept == value:
            return True
        try:
            return datetime.fromisoformat(back) == datetime.fromisoformat(value)
        except ValueError:
            return False
    return False


REQUEST = re.compile(r"^#DEMANDE_CONCOURS#", re.IGNORECASE)
ANSWER = re.compile(r"^#REPONSE_DEMANDE_CONCOURS#", re.IGNORECASE)


def by_role(payload: dict) -> dict:
    """EMSI missions keyed by role (request, answer, then the others by id) so a reordering is not read as a change."""
    missions = payload.get("MISSION")
    if not isinstance(missions, list):
        return payload
    keyed: dict[str, Any] = {}
    for index, mission in enumerate(missions):
        name = str(mission.get("NAME", ""))
        other = f"id_{mission['ID']}" if isinstance(mission.get("ID"), str) else f"other{index}"  # by id when it has one
        role = "request" if REQUEST.match(name) else "answer" if ANSWER.match(name) else other
        keyed[role if role not in keyed else f"{role}{index}"] = mission
    return {**payload, "MISSION": keyed}


def _ctx(reference: Path | None):
    counter = itertools.count(1)
    return build_context(nomenclature_dir=reference / "nomenclatures" if reference else None, schemas=reference,
                         now=NOW, new_id=lambda: f"id-{next(counter):04d}", sender_id="fr.health.samu440")


def hub_round_trip(example: Path, profile: Profile, ctx, tally: Tally) -> None:
    """Hub payload -> legacy -> Hub payload of the same name."""
    document = simplejson.loads(example.read_bytes(), parse_float=Decimal)
    name = next(iter(document))
    where = f"{profile.name}:{example.name}"
    try:
        there = hub_to_legacy_result(name, document[name], profile, ctx)
        back = legacy_to_hub(there.data, profile, ctx)
    except BridgeError as exc:
        tally.add("silently_changed", where, "/", f"not translated: {exc.message}")
        return
    output = next((p for p in back if p.name == name), None)
    dropped = list(there.dropped) + [d for p in back for d in p.dropped]
    warnings = list(there.warnings) + [w for p in back for w in p.warnings]
    if output is None:  # e.g. an EMSI without request/answer comes back as a createCase only
        dropped += [Issue(f"/{name}", f"no {name} message comes back: its content travels in "
                                      f"{', '.join(p.name for p in back)}", "dropped")]
    dropped = [_role_issue(i, document[name]) for i in dropped]
    if output is not None:
        warnings = [_role_issue(i, output.payload) for i in warnings]
    classify(leaves(by_role(document[name]), f"/{name}"), leaves(by_role(output.payload) if output else {}, f"/{name}"),
             dropped, warnings, tally, where)


def _role_issue(issue: Issue, payload: dict) -> Issue:
    """A decoder's pointer into MISSION/<index> renamed to the mission's role, as :func:`by_role` keys it."""
    match = re.match(r"^/emsi/MISSION/(\d+)(/.*)?$", issue.path)
    if not match:
        return issue
    roles = list(by_role(payload)["MISSION"])
    index = int(match[1])
    return Issue(f"/emsi/MISSION/{roles[index]}{match[2] or ''}", issue.message, issue.code) \
        if index < len(roles) else issue


OPERATIONS = ("/emsi/MISSION", "/emsi/RESOURCE")
STAND_IN = "RC-EDA-DouleurThoracique-PierreLegrand.json"  # the fire story's first createCase is not published


def _payload(path: Path) -> tuple[str, dict[str, Any]]:
    document = simplejson.loads(path.read_bytes(), parse_float=Decimal)
    name = next(iter(document))
    return name, document[name]


def _case_sheet(rc_ri: dict[str, Any], reference: Path, profile: Profile, ctx) -> bytes:
    """The LRM's sheet for the RC-RI's case: its story's createCase as the LRM received it (a story whose
    createCase is not published gets another story's, carrying its caseId, as tests/golden/test_stories.py)."""
    cases = [_payload(p)[1] for p in sorted((reference / "examples" / "RC-EDA").glob("*.json"))]
    create = next((c for c in cases if c.get("caseId") == rc_ri.get("caseId")), None)
    if create is None:
        create = {**_payload(reference / "examples" / "RC-EDA" / STAND_IN)[1], "caseId": rc_ri.get("caseId")}
    return hub_to_legacy_result("createCase", create, profile, ctx).data


def operations_round_trip(example: Path, reference: Path, profile: Profile, ctx, tally: Tally) -> None:
    """The operations as the LRM holds them, and back: Hub -> legacy sheet -> the same Hub kind.

    The service round trip above does not send the partner's operations back to the Hub (they are its
    own: declared, see docs/operations.md), which would leave a loss on the way *to* the LRM unseen. Here
    the legacy sheet is translated back with the EMSI / RC-RI adapter itself (``bridge translate --from
    legacy-... --to emsi-json|rc-ri-json``): every MISSION/RESOURCE leaf of an EMSI, every leaf of an
    RC-RI (merged onto its case's sheet, as an inbound update is), is classified.
    """
    name, payload = _payload(example)
    where = f"{profile.name}:{example.name}"
    target = "rc-ri-json" if name == "resourcesInfoCisu" else "emsi-json"
    try:
        if name == "resourcesInfoCisu":
            there = merge_onto_sheet([(name, payload)], _case_sheet(payload, reference, profile, ctx), profile, ctx)
        else:
            there = hub_to_legacy_result(name, payload, profile, ctx)
    except BridgeError as exc:
        tally.add("silently_changed", where, "/", f"not translated: {exc.message}")
        return
    try:
        back = translate(there.data, source=profile.adapter, target=target, ctx=ctx)
        output, back_dropped, back_warnings = (next(iter(simplejson.loads(back.data, parse_float=Decimal).values())),
                                               list(back.dropped), list(back.warnings))
    except BridgeError as exc:
        # refused on the way back (lrm-beta-text: a sheet with no resource gives no RC-RI): nothing comes back;
        # each leaf counts as declared only if the way in declared it; the refused message's own id is named
        output, back_dropped, back_warnings = {}, [Issue(f"/{name}/caseId", f"refused: {exc.message}", "dropped")], []
    dropped = [_role_issue(i, payload) for i in [*there.dropped, *back_dropped]] if name == "emsi" \
        else [*there.dropped, *back_dropped]
    warnings = [_role_issue(i, output) for i in [*there.warnings, *back_warnings]] if name == "emsi" \
        else [*there.warnings, *back_warnings]
    source, final = leaves(by_role(payload), f"/{name}"), leaves(by_role(output), f"/{name}")
    if name == "emsi":  # the rest of the EMSI is measured by the service round trip
        source = {k: v for k, v in source.items() if k.startswith(OPERATIONS)}
        final = {k: v for k, v in final.items() if k.startswith(OPERATIONS)}
    classify(source, final, dropped, warnings, tally, where)


# ---- the health model (issue 16): a health-speaking LRM and the RS <-> RC pairs --------------------------------

HEALTH_PROFILE = "lrm-health-json"
FIRE = "fr.fire.nexsis.sdis00"


def by_time(payload: dict) -> dict:
    """RS-RI statuses keyed by their time (RS-RI lists them in no set order; RC-RI carries the latest)."""
    resources = payload.get("resource")
    if not isinstance(resources, list):
        return payload
    keyed = []
    for res in resources:
        states = res.get("state") if isinstance(res, dict) else None
        if isinstance(states, list):
            res = {**res, "state": {str(st.get("datetime")): st for st in states if isinstance(st, dict)}}
        keyed.append(res)
    return {**payload, "resource": keyed}


def _state_issue(issue: Issue, payload: dict) -> Issue:
    """An RS-RI status pointer (``.../state/<index>``) renamed to its time, as :func:`by_time` keys it."""
    match = re.match(r"^(/resourcesInfo/resource/(\d+)/state)/(\d+)(/.*)?$", issue.path)
    if not match:
        return issue
    try:
        when = payload["resource"][int(match[2])]["state"][int(match[3])]["datetime"]
    except (KeyError, IndexError, TypeError):
        return issue
    return Issue(f"{match[1]}/{when}{match[4] or ''}", issue.message, issue.code)


def _refused(payload: dict, name: str, exc: BridgeError, tally: Tally, where: str) -> None:
    """A message the bridge refuses (NACK with the code and the field, dead letter with its bytes): nothing of it is
    sent, each leaf is declared by that refusal; the refusal itself is counted (``refused``) and listed."""
    tally.counts["refused"] += 1
    tally.details.append(("refused", where, "/", exc.message))
    classify(leaves(payload, f"/{name}"), {}, [Issue(f"/{name}", f"refused: {exc.message}", "dropped")], [],
             tally, where)


def health_eda_round_trip(example: Path, profile: Profile, ctx, tally: Tally) -> None:
    """A health LRM's RS-EDA (or RS-EDA-MAJ) -> RC-EDA for NexSIS -> RS-EDA back to the LRM, as the service does."""
    name, payload = _payload(example)
    where = f"{profile.name}:{example.name}"
    try:
        out = health_to_hub(example.read_bytes(), profile, ctx)
        create = next(p for p in out if p.name == "createCase")
        back = hub_to_legacy_result("createCase", create.payload, profile, ctx)
    except BridgeError as exc:
        _refused(payload, name, exc, tally, where)
        return
    output = next(iter(simplejson.loads(back.data, parse_float=Decimal).values()))
    dropped = [d for p in out for d in p.dropped] + list(back.dropped)
    warnings = [w for p in out for w in p.warnings] + list(back.warnings)
    classify(leaves(payload, f"/{name}"), leaves(output, f"/{name}"), dropped, warnings, tally, where)


def _case_state(example: Path, reference: Path, profile: Profile, ctx) -> dict | None:
    """The RC-EDA the service would have sent last for the update's case before this step, or None.

    The case's RS-EDA (same caseId), then each RS-EDA-MAJ of that case at an earlier step, in step
    order, each merged onto the one before (as the service's store gives it).
    """
    from bridge.core.adapters.rc_eda import decode_create_case

    case_id, step = _payload(example)[1].get("caseId"), _story(example)[1]
    examples = reference / "examples"
    chain = [p for p in sorted((examples / "RS-EDA").glob("*.json")) if _payload(p)[1].get("caseId") == case_id]
    chain += sorted((p for p in (examples / "RS-EDA-MAJ").glob("*.json")
                     if _payload(p)[1].get("caseId") == case_id and _story(p)[1] < step), key=lambda p: _story(p)[1])
    sent: dict | None = None
    for earlier in chain:
        known = decode_create_case(sent, ctx).case if sent is not None else None
        try:
            out = health_to_hub(earlier.read_bytes(), profile, ctx, known_case=lambda _id, known=known: known)
        except BridgeError:
            continue
        sent = next(p.payload for p in out if p.name == "createCase")
    return sent


def health_update_merge(example: Path, reference: Path, profile: Profile, ctx, tally: Tally) -> None:
    """A health LRM's RS-EDA-MAJ merged onto its case as last sent -> RC-EDA for NexSIS -> RS-EDA back, as the
    service does (docs/health.md).

    The update's leaves are classified against what comes back; the other leaves that come back must be
    the earlier state's, unchanged (what the RS-EDA before it gave back): one that differs or is lost is
    ``silently_changed``, one from neither is ``invented``. An update for a case with no earlier state that
    lacks what RC-EDA requires is refused (NACK 702, dead letter), counted apart.
    """
    from bridge.core.adapters.rc_eda import decode_create_case

    name, payload = _payload(example)
    where = f"{profile.name}:{example.name} (merged)"
    state = _case_state(example, reference, profile, ctx)
    known = decode_create_case(state, ctx).case if state is not None else None
    try:
        out = health_to_hub(example.read_bytes(), profile, ctx, known_case=lambda _id: known)
        create = next(p for p in out if p.name == "createCase")
        back = hub_to_legacy_result("createCase", create.payload, profile, ctx)
    except BridgeError as exc:
        _refused(payload, name, exc, tally, where)
        return
    source = leaves(payload, f"/{name}")
    output = leaves(next(iter(simplejson.loads(back.data, parse_float=Decimal).values())), f"/{name}")
    before: dict[str, Any] = {}
    if state is not None:
        earlier_back = hub_to_legacy_result("createCase", state, profile, ctx).data
        before = leaves(next(iter(simplejson.loads(earlier_back, parse_float=Decimal).values())), f"/{name}")
    rest = {}
    for pointer, value in output.items():
        if pointer in source or pointer not in before:
            rest[pointer] = value  # the update's own, or neither's: classify says which
        elif not _same(value, before[pointer]) and _generated(pointer, value) is None:
            tally.add("silently_changed", where, pointer, f"earlier {before[pointer]!r} -> {value!r} (not in the update)")
    for pointer, value in before.items():
        if pointer not in output and pointer not in source:
            tally.add("silently_changed", where, pointer, f"earlier {value!r} lost by the merge")
    dropped = [d for p in out for d in p.dropped] + list(back.dropped)
    warnings = [w for p in out for w in p.warnings] + list(back.warnings)
    classify(source, rest, dropped, warnings, tally, where)


def resources_round_trip(example: Path, ctx, tally: Tally) -> None:
    """RS-RI -> RC-RI -> RS-RI, or RC-RI -> RS-RI -> RC-RI (``bridge translate`` both ways, fire-side recipient)."""
    name, payload = _payload(example)
    there, back_to = ("rc-ri-json", "rs-ri-json") if name == "resourcesInfo" else ("rs-ri-json", "rc-ri-json")
    source = "rs-ri-json" if name == "resourcesInfo" else "rc-ri-json"
    where = f"{source}->{there}->{back_to}:{example.name}"
    try:
        first = translate(example.read_bytes(), source=source, target=there, ctx=ctx)
        second = translate(first.data, source=there, target=back_to, ctx=ctx)
    except BridgeError as exc:
        _refused(payload, name, exc, tally, where)
        return
    output = next(iter(simplejson.loads(second.data, parse_float=Decimal).values()))
    dropped = [_state_issue(i, payload) for i in [*first.dropped, *second.dropped]]
    warnings = [_state_issue(i, payload) for i in [*first.warnings, *second.warnings]]
    classify(leaves(by_time(payload), f"/{name}"), leaves(by_time(output), f"/{name}"), dropped, warnings, tally,
             where)


def _story(path: Path) -> tuple[str, str]:
    """(story, step) of an official example name: ``RS-SR_FemmeEnceinte_DelphineVIGNEAU.07`` -> (femmeenceinte..., 07)."""
    stem = path.stem.split("_", 1)[1]
    story, _, step = stem.rpartition(".")
    return story.lower(), step


def status_merge(example: Path, reference: Path, profile: Profile, ctx, tally: Tally) -> None:
    """RS-SR -> RC-RI merged onto its case's resources, as the service does (docs/health.md).

    The known resources are the RC-RI the service sent for the RS-RI of the same case at an earlier
    step of the official stories (same caseId, a smaller step number); the expected RC-RI is that one with the status replaced. Every leaf of it is
    classified against the merged RC-RI, so a field the merge changed, lost or made up shows. An
    RS-SR whose case or resource is unknown is refused (NACK 702, dead letter): each of its leaves
    counts as declared only through that refusal.
    """
    from bridge.core.adapters.rc_ri import decode_rc_ri
    from bridge.core.operations import merge_operations

    _, status = _payload(example)
    step = _story(example)[1]
    where = f"{profile.name}:{example.name}"
    known_payload: dict | None = None
    known = None
    for earlier in sorted((reference / "examples" / "RS-RI").glob("*.json")):
        if _story(earlier)[1] < step and _payload(earlier)[1].get("caseId") == status.get("caseId"):
            try:
                item = health_to_hub(earlier.read_bytes(), profile, ctx)[0]
            except BridgeError:
                continue
            known = merge_operations(known, decode_rc_ri(item.payload, ctx).case.operations)
            known_payload = item.payload
    try:
        out = health_to_hub(example.read_bytes(), profile, ctx, known=lambda case_id: known)
    except BridgeError as exc:
        _refused(status, "resourcesStatus", exc, tally, where)
        return
    if not out:
        tally.add("silently_changed", where, "/", "no RC-RI for a status that changed nothing")
        return
    (item,) = out
    assert known_payload is not None and known is not None
    expected = {"caseId": status["caseId"], "resource": []}
    for res in known.resources:  # the known resources, in order, with the new status on the one it names
        carried = next(r for r in _rc_ri_resources(known, ctx) if r["resourceId"] == res.resource_id)
        if res.resource_id == status["resourceId"]:
            carried = {**carried, "state": status["state"]}
        expected["resource"].append(carried)
    classify(leaves(expected, "/resourcesInfoCisu"), leaves(item.payload, "/resourcesInfoCisu"),
             list(item.dropped), list(item.warnings), tally, where)


def _rc_ri_resources(known, ctx) -> list[dict]:
    from bridge.core.adapters.rc_ri import encode_rc_ri
    from bridge.core.canonical import Case

    return encode_rc_ri(Case(case_id="x", operations=known), ctx)[0]["resource"]


def run_health(reference: Path, ctx) -> tuple[dict[str, Counter], list]:
    """The health pass (issue 16): one tally per pair, and the details (silent changes, inventions, refusals)."""
    profile = load_profile(HEALTH_PROFILE)
    health = ctx.with_profile(profile)
    pairs: dict[str, Tally] = {}
    examples = reference / "examples"
    tally = pairs.setdefault("RS-EDA -> RC-EDA -> RS-EDA", Tally())
    for example in sorted((examples / "RS-EDA").glob("*.json")):
        health_eda_round_trip(example, profile, health, tally)
    tally = pairs.setdefault("RS-EDA-MAJ -> RC-EDA (merge) -> RS-EDA", Tally())
    for example in sorted((examples / "RS-EDA-MAJ").glob("*.json")):
        health_update_merge(example, reference, profile, health, tally)
    tally = pairs.setdefault("RC-EDA -> RS-EDA -> RC-EDA", Tally())
    for example in sorted((examples / "RC-EDA").glob("*.json")):
        hub_round_trip(example, profile, health, tally)
    tally = pairs.setdefault("RS-RI -> RC-RI -> RS-RI", Tally())
    for example in sorted((examples / "RS-RI").glob("*.json")):
        resources_round_trip(example, ctx, tally)
    tally = pairs.setdefault("RC-RI -> RS-RI -> RC-RI", Tally())
    for example in sorted((examples / "RC-RI").glob("*.json")):
        resources_round_trip(example, ctx, tally)
    tally = pairs.setdefault("RS-SR -> RC-RI (merge)", Tally())
    for example in sorted((examples / "RS-SR").glob("*.json")):
        status_merge(example, reference, profile, health, tally)
    return {name: t.counts for name, t in pairs.items()}, [d for t in pairs.values() for d in t.details]


def legacy_fields(data: bytes, profile: Profile) -> dict[str, str]:
    """``KEY#n`` -> value of every field of a legacy message, victims as ``victim{i}.PART``."""
    if profile.adapter == "legacy-xml":
        record = _record(parse_xml(data), profile)
    else:
        text = decode_text(data, profile.encoding)
        record = _parse_keyvalue(text, profile) if profile.text.style == "keyvalue" else _parse_delimited(text, profile)
    found: dict[str, str] = {}
    seen: Counter = Counter()
    for entry in record.entries:
        if entry.value.strip():
            found[f"{entry.key}#{seen[entry.key]}"] = entry.value
            seen[entry.key] += 1
    for index, parts in enumerate(record.patients):
        found.update({f"victim{index}.{part}": e.value for part, e in parts.items() if e.value.strip()})
    return found


def _patient_paths(key: str, profile: Profile) -> list[str] | None:
    """The canonical paths of a victim field (``VICT1_NOM`` -> ``patients[0].last_name``), None if not one."""
    spec = profile.patients
    field_key = key.split("#", 1)[0]
    if spec is None:
        return None
    if field_key == spec.key:  # packed: every victim in one field
        return ["patients"]
    pattern = re.escape(spec.key).replace(r"\{n\}", r"(?P<n>\d+)").replace(r"\{part\}", r"(?P<part>\w+)")
    match = re.fullmatch(pattern, field_key) if "{n}" in spec.key else None
    if match is None:
        found = re.fullmatch(r"victim(\d+)\.(\w+)", field_key)
        if found is None:
            return None
        index, part = int(found[1]), found[2]
    else:
        index, part = int(match["n"]) - 1, match["part"]
    name = spec.parts.get(part, part)
    return [f"patients[{index}].{name}", f"patients/{index}/{name}", f"patients[{index}]", f"patients/{index}"]


def _legacy_named(issues: list[Issue], key: str, profile: Profile, value: str) -> bool:
    victim = _patient_paths(key, profile)
    if victim is not None and any(i.path == p or i.path.startswith(p + ".") or i.path.startswith(p + "/")
                                  or i.path.startswith(p + "[") for i in issues for p in victim):
        return True
    field_key = key.split("#", 1)[0]
    spec = next((f for f in profile.fields if f.key == field_key), None)
    for issue in issues:
        if issue.path.split(" ", 1)[0] == field_key or (spec is not None and issue.path.startswith(spec.target)):
            return True
        if len(value) > 2 and value in issue.message:
            return True
    return False


def legacy_round_trip(message: Path, profile: Profile, ctx, tally: Tally) -> None:
    """Legacy frame -> Hub payloads -> legacy frame (what the LRM would get back)."""
    where = f"{profile.name}:{message.name}"
    data = message.read_bytes()
    try:
        payloads = legacy_to_hub(data, profile, ctx)
        back = hub_payloads_to_legacy([(p.name, p.payload) for p in payloads], profile, ctx)
    except BridgeError as exc:
        tally.add("silently_changed", where, "/", f"not translated: {exc.message}")
        return
    source, output = legacy_fields(data, profile), legacy_fields(back.data, profile)
    dropped = [d for p in payloads for d in p.dropped] + list(back.dropped)
    warnings = [w for p in payloads for w in p.warnings] + list(back.warnings)
    for key, value in source.items():
        again = output.get(key)
        if again is not None and _same(again, value):
            tally.add("preserved", where, key)
        elif _legacy_named(warnings, key, profile, value):
            tally.add("altered_with_warning", where, key)
        elif again is None and _legacy_named(dropped, key, profile, value):
            tally.add("declared_dropped", where, key)
        else:
            tally.add("silently_changed", where, key, f"{value!r} -> {again!r}")
    for key, value in output.items():
        if key not in source and " code officiel " not in value and not _legacy_named(warnings, key, profile, value):
            tally.add("invented", where, key, repr(value))


def _profile_for(name: str, message: Path) -> Profile:
    profile = load_profile(name)
    if message.name.startswith("accent-") and profile.adapter == "legacy-text":
        profile = profile.model_copy(update={"encoding": message.stem.removeprefix("accent-")})
    return profile


def reference_dir() -> Path | None:
    candidate = Path(os.environ.get("HUB_REFERENCE") or ROOT.parent / "shared" / "hub-reference")
    return candidate if (candidate / "examples").is_dir() else None


def run() -> tuple[dict[str, Counter], dict[str, Counter], list]:
    """(service round trip per profile, operations per profile, details); the health pass is :func:`run_health`."""
    reference = reference_dir()
    ctx = _ctx(reference)
    by_profile: dict[str, Counter] = {}
    operations: dict[str, Counter] = {}
    details: list = []
    examples = sorted([*(reference / "examples" / "RC-EDA").glob("*.json"),
                       *(reference / "examples" / "EMSI").glob("*.json")]) if reference else []
    for name in PROFILES:
        tally = Tally()
        profile = load_profile(name)
        for example in examples:
            hub_round_trip(example, profile, ctx.with_profile(profile), tally)
        for message in sorted((ROOT / "tests" / "golden" / name).iterdir()):
            if message.suffix in (".txt", ".xml"):
                legacy_round_trip(message, _profile_for(name, message), ctx, tally)
        by_profile[name] = tally.counts
        details += tally.details
        if reference is None:
            continue
        tally = Tally()
        carried = [p for p in examples if p.parent.name == "EMSI" and OPERATIONS[0] in "/emsi/" + _keys(p)]
        for example in [*carried, *sorted((reference / "examples" / "RC-RI").glob("*.json"))]:
            operations_round_trip(example, reference, profile, ctx.with_profile(profile), tally)
        operations[name] = tally.counts
        details += tally.details
    return by_profile, operations, details


def _keys(path: Path) -> str:
    """The EMSI's top-level keys (MISSION, RESOURCE...) joined, to pick the examples carrying operations."""
    return " /emsi/".join(_payload(path)[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="last line: one JSON object with the five counts")
    parser.add_argument("--details", action="store_true", help="list every silently changed or invented leaf")
    args = parser.parse_args()
    if reference_dir() is None:
        print("note: official examples not found (set $HUB_REFERENCE): golden legacy messages only", file=sys.stderr)
    by_profile, operations, details = run()
    reference = reference_dir()
    health: dict[str, Counter] = {}
    if reference is not None:
        health, health_details = run_health(reference, _ctx(reference))
        details += health_details
    total = Counter()
    for counts in [*by_profile.values(), *operations.values(), *health.values()]:
        total.update({k: counts[k] for k in KINDS})
    width = max(map(len, KINDS))
    head = 28
    for title, table in (("service round trip", by_profile), ("operations (EMSI MISSION/RESOURCE, RC-RI)", operations),
                         (f"health model ({HEALTH_PROFILE} and the RS <-> RC pairs; refused messages apart)", health)):
        if not table:
            continue
        print(f"{title}:")
        print(f"{'profile / pair':<{head}}" + "".join(f"{k:>{width + 2}}" for k in KINDS))
        sub = Counter()
        for name, counts in table.items():
            sub.update(counts)
            refused = f"   ({counts['refused']} refused)" if counts["refused"] else ""
            print(f"{name:<{head}}" + "".join(f"{counts[k]:>{width + 2}}" for k in KINDS) + refused)
        print(f"{'total':<{head}}" + "".join(f"{sub[k]:>{width + 2}}" for k in KINDS))
    print(f"{'all':<{head}}" + "".join(f"{total[k]:>{width + 2}}" for k in KINDS))
    if args.details:
        for kind, where, pointer, note in details:
            print(f"{kind}: {where}: {pointer}: {note}")
    if args.json:
        result: dict[str, Any] = {k: int(total[k]) for k in KINDS}
        result["by_profile"] = {name: {k: int(c[k]) for k in KINDS} for name, c in by_profile.items()}
        result["operations_by_profile"] = {name: {k: int(c[k]) for k in KINDS} for name, c in operations.items()}
        result["health_by_pair"] = {name: {k: int(c[k]) for k in (*KINDS, "refused")} for name, c in health.items()}
        print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What a NexSIS peer answers to what it receives: the simulator's rules, sans-IO.

Integration teams need a fire-service peer that behaves like NexSIS on the
15-NexSIS perimeter: it acknowledges every functional message with an RC-REF,
answers an EMSI request for assistance (a MISSION named
``#DEMANDE_CONCOURS#...#``) with an EMSI whose MISSION is named
``#REPONSE_DEMANDE_CONCOURS#<answer>#`` (ACCEPTE, REFUS, PARTIELLE,
DIVERGENTE), and may follow up with operation
updates (``#OPERATION_GLOBALE#``) and engage resources: ``engagement`` ``one`` sends an
RC-RI (``resourcesInfoCisu``) with one vehicle ``DECLENCHE``; ``several`` engages two
vehicles and sends their status changes every ``status_interval`` seconds
(``DECLENCHE`` -> ``DEPART`` -> ``ARRIVEE`` -> ``FINPEC`` -> ``RETOUR``), each RC-RI
listing every vehicle engaged so far, as the official stories do. The behaviour is configurable so the bridge
can be tested against refusals, silence, late and malformed answers. The edge
(``bridge.sim.nexsis_sim``) only schedules and publishes what these rules return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bridge.core.edxl import Unwrapped, make_reference, wrap
from bridge.core.pipeline import LEGACY_PAYLOADS

REQUEST_PREFIX = "#DEMANDE_CONCOURS#"
ANSWER_TEMPLATE = "#REPONSE_DEMANDE_CONCOURS#{answer}#"
OPERATION_NAME = "#OPERATION_GLOBALE#"
FUNCTIONAL_PAYLOADS = LEGACY_PAYLOADS  # what a NexSIS peer acts on: the payloads that carry a case
STATUS_STEPS = ("DECLENCHE", "DEPART", "ARRIVEE", "FINPEC", "RETOUR")


class Behaviour(StrEnum):
    """How the simulated peer answers a request for assistance."""

    ACCEPT = "accept"
    REFUSE = "refuse"
    NO_ANSWER = "no-answer"
    LATE = "late"
    MALFORMED = "malformed"


class Engagement(StrEnum):
    """Which resources the simulated peer engages after accepting a request."""

    NONE = "none"
    ONE = "one"
    SEVERAL = "several"


ANSWER_CODES = {Behaviour.ACCEPT: "ACCEPTE", Behaviour.REFUSE: "REFUS", Behaviour.LATE: "ACCEPTE"}


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to publish, ``delay`` seconds after the trigger arrived."""

    message: dict[str, Any]
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class PeerRules:
    """The simulated peer's identity and behaviour."""

    own_id: str
    behaviour: Behaviour = Behaviour.ACCEPT
    late_delay: float = 5.0
    send_operations: bool = False
    org_name: str = "NexSIS (simulated)"
    engagement: Engagement = Engagement.NONE
    status_interval: float = 30.0


def is_request_for_assistance(emsi: dict[str, Any]) -> bool:
    """True when one of the EMSI's missions is a request for assistance."""
    return any(str(m.get("NAME", "")).startswith(REQUEST_PREFIX) for m in emsi.get("MISSION") or ())


def replies_for(
    received: Unwrapped,
    rules: PeerRules,
    *,
    now: datetime,
    new_uuid: Callable[[], str],
) -> list[Reply]:
    """The messages the peer sends back after ``received``."""
    if received.payload_name not in FUNCTIONAL_PAYLOADS:
        return []  # RC-REF, RS-ERROR and the like are not acknowledged
    replies = [Reply(_envelope("reference", make_reference(received.distribution_id), received, rules, now, new_uuid))]
    if received.payload_name != "emsi" or not is_request_for_assistance(received.payload):
        return replies
    if rules.behaviour is Behaviour.NO_ANSWER:
        return replies
    answer = _answer(received.payload, rules, now, new_uuid)
    delay = rules.late_delay if rules.behaviour is Behaviour.LATE else 0.0
    replies.append(Reply(_envelope("emsi", answer, received, rules, now, new_uuid), delay))
    if rules.send_operations and rules.behaviour is not Behaviour.REFUSE:
        operation = _operation(received.payload, rules, now, new_uuid)
        replies.append(Reply(_envelope("emsi", operation, received, rules, now, new_uuid), delay))
    if rules.engagement is not Engagement.NONE and rules.behaviour is not Behaviour.REFUSE:
        replies += [Reply(_envelope("resourcesInfoCisu", payload, received, rules, now + timedelta(seconds=after),
                                    new_uuid), delay + after)
                    for after, payload in _engagement(received.payload, rules, now)]
    return replies


def _engagement(request: dict, rules: PeerRules, now: datetime) -> list[tuple[float, dict]]:
    """(seconds after the answer, RC-RI payload) for each status change of the engaged vehicles."""
    case_id = request.get("EVENT", {}).get("MAIN_EVENT_ID") or request.get("EVENT", {}).get("ID")
    vehicles = ["VSAV1"] if rules.engagement is Engagement.ONE else ["VSAV1", "FPT1"]
    steps = 1 if rules.engagement is Engagement.ONE else len(STATUS_STEPS)
    messages = []
    for step in range(steps):
        after = step * rules.status_interval
        resources = []
        for index, vehicle in enumerate(vehicles):
            if rules.engagement is Engagement.SEVERAL and index > step:
                continue  # the second vehicle is engaged one interval after the first
            status = STATUS_STEPS[min(step - index, len(STATUS_STEPS) - 1)]
            engaged = now + timedelta(seconds=index * rules.status_interval)
            changed = now + timedelta(seconds=after)
            resources.append({
                "datetime": engaged.isoformat(timespec="seconds"),
                "resourceId": f"{rules.own_id}.resource.{vehicle}", "orgId": rules.own_id, "name": vehicle,
                "vehicleType": "SIS", "team": {"medicalLevel": "SECOURS", "name": f"Equipe {vehicle}"},
                "state": {"status": status, "datetime": changed.isoformat(timespec="seconds"),
                          "availability": status == "RETOUR"},
            })
        messages.append((after, {"caseId": case_id, "resource": resources}))
    return messages


def _envelope(name: str, payload: dict, received: Unwrapped, rules: PeerRules, now: datetime, new_uuid) -> dict:
    kind = "Ack" if name == "reference" else "Report"
    return wrap(
        name,
        payload,
        sender_id=rules.own_id,
        recipient_id=received.sender_id,
        now=now,
        message_uuid=new_uuid(),
        kind=kind,
    )


def _context(request: dict, rules: PeerRules, now: datetime, new_uuid, freetext: str | None = None) -> dict:
    context = {
        "ID": new_uuid(),
        "MODE": request.get("CONTEXT", {}).get("MODE", "ACTUAL"),
        "MSGTYPE": "ACK",
        "CREATION": now.isoformat(timespec="seconds"),
        "LINK": [{"ID": request["CONTEXT"]["ID"], "LINK_ROLE": "ADDSTO"}],
        "LEVEL": "OPR",
        "SECLASS": "RESTRC",
        "ORIGIN": {"ORG_ID": rules.own_id, "NAME": rules.org_name},
    }
    if freetext:
        context["FREETEXT"] = freetext
    return context


def _answer(request: dict, rules: PeerRules, now: datetime, new_uuid) -> dict:
    code = ANSWER_CODES.get(rules.behaviour, "ACCEPTE")
    if rules.behaviour is Behaviour.MALFORMED:
        code = "PEUT-ETRE"  # schema-valid, meaningless: the bridge must dead-letter it, not guess
    missions = []
    for mission in request.get("MISSION") or ():
        if not str(mission.get("NAME", "")).startswith(REQUEST_PREFIX):
            continue
        missions.append(
            {
                "TYPE": mission["TYPE"],
                "ID": f"{rules.own_id}.{new_uuid()[:8]}",
                "ORG_ID": rules.own_id,
                "NAME": ANSWER_TEMPLATE.format(answer=code),
                "STATUS": "NST" if code != "REFUS" else "ABO",
                "START_TIME": now.isoformat(timespec="seconds"),
                "PARENT_MISSION_ID": [mission["ID"]],
            }
        )
    return {"CONTEXT": _context(request, rules, now, new_uuid), "EVENT": dict(request["EVENT"]), "MISSION": missions}


def _operation(request: dict, rules: PeerRules, now: datetime, new_uuid) -> dict:
    mission = {
        "TYPE": "FSTT/TA",
        "ID": f"{rules.own_id}.op.{new_uuid()[:8]}",
        "ORG_ID": rules.own_id,
        "NAME": OPERATION_NAME,
        "STATUS": "IPR",
        "START_TIME": now.isoformat(timespec="seconds"),
    }
    context = _context(request, rules, now, new_uuid)
    context["MSGTYPE"] = "UPDATE"
    return {"CONTEXT": context, "EVENT": dict(request["EVENT"]), "MISSION": [mission]}

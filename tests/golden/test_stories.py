"""The official stories end to end: each one's Hub messages, in order, reach every LRM profile.

``examples/messagesList.json`` numbers the steps of one case (``RC-EDA_..._X.01``,
``RC-RI_..._X.02``...). For the 15-NexSIS kinds (RC-EDA, EMSI, RC-RI) each story is
replayed in order as the bridge does for an inbound update: the first createCase
becomes the LRM's case sheet (a story whose first step is not published starts from
the profile's golden ``normal`` sheet), and every later message is merged onto the
sheet the LRM last received (:func:`merge_onto_sheet`). The LRM must end with every
resource, its last status and every mission of the story, or a declared drop for each.

The same stories are then delivered to the running service (store, inbox, per-case order,
RC-REF) as NexSIS would send them. The fire story's first step (``RC-EDA_..._RaymondeLECCIA.01``)
is listed in ``messagesList.json`` but not published: there it is stood in by another story's
createCase carrying the fire story's caseId, so the LRM has a sheet to update.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
import simplejson

from bridge.core.adapters.registry import get_adapter
from bridge.core.edxl import wrap
from bridge.core.pipeline import hub_to_legacy_result, merge_onto_sheet
from bridge.edges.amqp.consumer import Delivery
from bridge.refdata.hub_bodies import encode_hub_body
from bridge.refdata.profiles import load_profile
from bridge.testing.rig import SAMU, SDIS, Rig

GOLDEN = Path(__file__).resolve().parent
KINDS = {"RC-EDA": "createCase", "RC-RI": "resourcesInfoCisu", "EMSI": "emsi"}
PROFILES = [("lrm-alpha-text", "normal.txt"), ("lrm-beta-text", "normal.txt"), ("lrm-alpha-xml", "normal.xml"),
            ("lrm-beta-xml", "normal.xml")]
STEP = re.compile(r"^(?P<kind>RC-EDA|RC-RI|EMSI)[-_](?P<story>.+)\.(?P<n>\d+)[a-z]?$")


def _stories(hub_reference: Path) -> dict[str, list[tuple[int, str, dict]]]:
    """story key -> [(step, payload name, payload)] for the published 15-NexSIS steps, in step order."""
    listing = json.loads((hub_reference / "examples" / "messagesList.json").read_text(encoding="utf-8"))
    stories: dict[str, list[tuple[int, str, dict]]] = defaultdict(list)
    for group in listing:
        for example in group.get("examples", []):
            path = hub_reference / "examples" / example["file"]
            match = STEP.match(path.stem)
            if match is None or not path.exists():
                continue
            payload_name = KINDS[match["kind"]]
            payload = simplejson.loads(path.read_bytes(), parse_float=Decimal)[payload_name]
            key = re.sub(r"[^a-z]", "", match["story"].lower())
            stories[key].append((int(match["n"]), payload_name, payload))
    return {key: sorted(steps, key=lambda s: s[0]) for key, steps in stories.items() if len(steps) > 1 or
            any(name != "createCase" for _, name, _ in steps)}


def _expected(steps: list[tuple[int, str, dict]]) -> tuple[dict[str, str], set[str]]:
    """resource id -> last status carried by the story, and the mission ids it carried."""
    statuses: dict[str, str] = {}
    missions: set[str] = set()
    for _, name, payload in steps:
        if name == "resourcesInfoCisu":
            statuses.update({r["resourceId"]: r["state"]["status"] for r in payload["resource"]})
        elif name == "emsi":
            statuses.update({r["ID"]: r["STATUS"] for r in payload.get("RESOURCE", [])})
            missions |= {m["ID"] for m in payload.get("MISSION", [])}
    return statuses, missions


def test_the_incendie_story_is_found(hub_reference):
    """The fire story of the official corpus is replayed (guards the discovery against renamed files)."""
    stories = _stories(hub_reference)
    assert "incendieraymondeleccia" in stories
    assert len(stories["incendieraymondeleccia"]) >= 6


@pytest.mark.parametrize(("profile_name", "sheet_name"), PROFILES, ids=[p for p, _ in PROFILES])
def test_every_story_reaches_the_lrm(profile_name, sheet_name, hub_reference, fresh_ctx):
    """Each story replayed in order leaves the LRM sheet with every resource, last status and mission."""
    profile = load_profile(profile_name)
    ctx = fresh_ctx.with_profile(profile)
    for key, steps in _stories(hub_reference).items():
        sheet = (GOLDEN / profile_name / sheet_name).read_bytes()
        declared: set[str] = set()
        for _, name, payload in steps:
            if name == "createCase":
                result = hub_to_legacy_result(name, payload, profile, ctx)
            else:
                result = merge_onto_sheet([(name, payload)], sheet, profile, ctx)
            sheet = result.data
            declared |= {d.message for d in result.dropped if d.path.startswith("operations")}
        case = result.case
        statuses, missions = _expected(steps)
        assert statuses, key
        if profile.operations is None:  # cannot carry them: every resource is a declared drop on the last step
            assert all(any(rid in message for message in declared) for rid in statuses), key
            continue
        reread = get_adapter(profile.adapter, ctx.adapters).decode(sheet, ctx).case  # what the LRM holds, read back
        for held in (case, reread):
            got = {r.resource_id: (r.state.status if r.state else r.status) for r in held.operations.resources}
            assert got == statuses, (key, profile_name)
            assert {m.mission_id for m in held.operations.missions} >= missions, (key, profile_name)


def _deliver(rig: Rig, name: str, payload: dict, tag: int) -> None:
    message = wrap(name, payload, sender_id=SDIS, recipient_id=SAMU, now=rig.now(), message_uuid=str(uuid.uuid4()))
    rig.settled(rig.service.on_hub_message(Delivery(body=encode_hub_body(message), queue=f"{SAMU}.message",
                                                    routing_key=SAMU, content_type="application/json",
                                                    delivery_mode=2, redelivered=False, delivery_tag=tag)))
    rig.run(0.5)


def _last_statuses(frame: bytes) -> dict[str, str]:
    text = frame.decode("cp1252")
    ids = dict(re.findall(r"MOYEN_(\d+)_ID=(\S+)", text))
    states = dict(re.findall(r"MOYEN_(\d+)_ETAT=(\S+)", text))
    return {ids[n]: states.get(n, "") for n in ids}


def _alpha_status() -> dict[str, str]:
    """HubSante.statutVecteur -> the alpha LRM's code, from the profile's own table."""
    import csv

    table = GOLDEN.parents[1] / "mappings" / "lrm-alpha-statut-moyen.csv"
    with table.open(encoding="utf-8") as rows:
        return {row["target"]: row["source"] for row in csv.DictReader(rows)}


def test_every_story_reaches_the_lrm_through_the_service(hub_reference, tmp_path):
    """Stories replayed through BridgeService: nothing dead-lettered, the LRM's last sheet has every vehicle."""
    stories = _stories(hub_reference)
    stand_in = next(payload for steps in stories.values() for _, name, payload in steps if name == "createCase")
    for number, (key, steps) in enumerate(sorted(stories.items())):
        rig = Rig(tmp_path / str(number))
        try:
            if steps[0][1] != "createCase":
                case_id = next(p["caseId"] for _, name, p in steps if name == "resourcesInfoCisu")
                first = copy.deepcopy(stand_in)
                first["caseId"] = case_id
                steps = [(0, "createCase", first), *steps]
            for tag, (_, name, payload) in enumerate(steps, start=1):
                _deliver(rig, name, payload, tag)
            assert rig.store.dlq_list() == [], key
            statuses, _ = _expected(steps)
            assert len(rig.lrm.sent) == len(steps), key
            assert _last_statuses(rig.lrm.sent[-1]) == {rid: _alpha_status()[s] for rid, s in statuses.items()}
        finally:
            rig.close()


def test_rc_ri_for_a_case_the_lrm_never_had_is_dead_lettered_not_invented(hub_reference, tmp_path):
    """No createCase and no LRM frame for the case: no sheet can be made up; the message is parked, replayable."""
    steps = _stories(hub_reference)["incendieraymondeleccia"]
    rig = Rig(tmp_path)
    try:
        _deliver(rig, steps[0][1], steps[0][2], 1)
        assert rig.lrm.sent == []
        assert [entry.error for entry in rig.store.dlq_list()] != []
    finally:
        rig.close()

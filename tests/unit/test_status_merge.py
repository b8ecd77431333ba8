"""RS-SR -> RC-RI by merging a resource's new status onto the case's known resources (the national converter's
database merge, done in the core from the state the service's store gives it).

The core part (:func:`bridge.core.operations.merge_status`) is pure: earlier resources + one status ->
the merged list and what changed; an unknown resource is reported, never invented. The pipeline part
(:func:`bridge.core.pipeline.health_to_hub`) reads RS-RI / RS-SR frames of a health-model LRM link and
builds the RC-RI for NexSIS; the service part is in ``tests/unit/test_service_health.py``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import simplejson

from bridge.core.errors import BridgeError, HubErrorCode
from bridge.core.operations import Operations, Resource, State, merge_status
from bridge.core.pipeline import health_frame_adapter, health_to_hub
from bridge.refdata.profiles import load_profile
from tests.health_corpus import REF, corpus_ctx, corpus_validator, example

NO_CORPUS = pytest.mark.skipif(REF is None, reason="official Hub Santé corpus not found (set $HUB_REFERENCE)")
TZ = timezone(timedelta(hours=2))
SAMU, NEXSIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"
CASE = "fr.fire.sis044.cga-044.SC-20240526-044-cga-AL8"
VLM4 = "fr.health.samu440.resource.VLM4"


def _at(minute: int) -> datetime:
    return datetime(2024, 5, 26, 13, minute, tzinfo=TZ)


def _vlm(rid: str = VLM4, status: str = "DECLENCHE", minute: int = 22) -> Resource:
    return Resource(resource_id=rid, name=rid.rsplit(".", 1)[-1], org_id=SAMU, engaged=_at(20),
                    vehicle_type="SMUR", team_name="Equipe SMUR 4", medical_level="MED",
                    state=State(status=status, time=_at(minute), available=False))


def _status(rid: str, status: str, minute: int) -> Operations:
    return Operations(resources=(Resource(resource_id=rid, state=State(status=status, time=_at(minute))),))


# ---- core: merge_status --------------------------------------------------------------------------------------

def test_new_status_replaces_the_known_one_and_keeps_every_other_field() -> None:
    known = Operations(resources=(_vlm(), _vlm("fr.health.samu440.resource.VLM5", "DEPART", 25)))
    merge = merge_status(known, _status(VLM4, "ARRIVEE", 32))
    assert merge.changed == (VLM4,) and merge.unknown == () and merge.stale == ()
    first, second = merge.resources
    assert first.state.status == "ARRIVEE" and first.state.time == _at(32)
    assert first.history == () and first.latest == first.state
    assert (first.engaged, first.vehicle_type, first.team_name) == (_at(20), "SMUR", "Equipe SMUR 4")
    assert second == known.resources[1]  # the other resource is carried as it was


def test_unknown_resource_is_reported_not_invented() -> None:
    merge = merge_status(Operations(resources=(_vlm(),)), _status("fr.health.samu440.resource.X", "DEPART", 30))
    assert merge.unknown == ("fr.health.samu440.resource.X",) and merge.changed == ()
    assert [r.resource_id for r in merge.resources] == [VLM4]
    assert merge_status(None, _status(VLM4, "DEPART", 30)).unknown == (VLM4,)


def test_repeated_status_changes_nothing_and_arrival_order_wins() -> None:
    known = Operations(resources=(_vlm(status="ARRIVEE", minute=32),))
    assert merge_status(known, _status(VLM4, "ARRIVEE", 32)).stale == (VLM4,)  # the same status again
    assert merge_status(known, _status(VLM4, "ARRIVEE", 32)).changed == ()
    # the sender's order stands over the times it writes (the official story: DEPART 13:21 after DECLENCHE 13:22)
    later = merge_status(known, _status(VLM4, "RETOUR", 21))
    assert later.changed == (VLM4,) and later.resources[0].state.status == "RETOUR"


def test_successive_statuses_fold_in_order() -> None:
    known = Operations(resources=(_vlm(),))
    for status, minute in (("DEPART", 25), ("ARRIVEE", 32), ("RETOUR", 48)):
        merge = merge_status(known, _status(VLM4, status, minute))
        assert merge.changed == (VLM4,)
        known = Operations(resources=merge.resources)
    (res,) = known.resources
    assert res.state.status == "RETOUR" and res.latest == res.state


def test_latest_is_by_time_whatever_the_listed_order() -> None:
    """RS-RI lists statuses in no set order (the official examples put the newest first)."""
    res = Resource(resource_id=VLM4, state=State(status="DECISION", time=_at(20)),
                   history=(State(status="DECLENCHE", time=_at(22)),))
    assert res.latest.status == "DECLENCHE"


# ---- pipeline: frames of a health-model LRM link -------------------------------------------------------------

def test_frame_root_picks_the_adapter() -> None:
    profile = load_profile("lrm-health-json")
    assert health_frame_adapter(b' {\n "resourcesStatus": {}}', profile) == "rs-sr-json"
    assert health_frame_adapter(b'{"resourcesInfo": {}}', profile) == "rs-ri-json"
    assert health_frame_adapter(b'{"createCaseHealth": {}}', profile) == "rs-eda-json"
    assert health_frame_adapter(b"x" * 100_000, profile) == "rs-eda-json"  # the RS-EDA adapter refuses it
    xml = profile.model_copy(update={"adapter": "rs-eda-xml"})
    assert health_frame_adapter(b'<?xml version="1.0"?>\n<resourcesStatus xmlns="urn:x">', xml) == "rs-sr-xml"
    assert health_frame_adapter(b"<createCaseHealth>", xml) == "rs-eda-xml"


@NO_CORPUS
def test_rs_ri_frame_becomes_a_valid_rc_ri_with_the_latest_status() -> None:
    """The official RS-RI lists DECLENCHE (13:22) before DECISION (13:20): RC-RI carries DECLENCHE."""
    items = health_to_hub(example("RS-RI", "RS-RI_FemmeEnceinte_DelphineVigneau.03.json"),
                          load_profile("lrm-health-json"), corpus_ctx(SAMU, NEXSIS, "lrm-health-json"), corpus_validator())
    assert [i.name for i in items] == ["resourcesInfoCisu"]
    (res,) = items[0].payload["resource"]
    assert res["vehicleType"] == "SMUR" and res["state"]["status"] == "DECLENCHE"
    assert any("DECISION" in d.message for d in items[0].dropped)  # the earlier status: a declared drop


@NO_CORPUS
def test_rs_sr_frame_is_merged_onto_the_known_resources() -> None:
    ctx, profile = corpus_ctx(SAMU, NEXSIS, "lrm-health-json"), load_profile("lrm-health-json")
    first = health_to_hub(example("RS-RI", "RS-RI_FemmeEnceinte_DelphineVigneau.03.json"), profile, ctx)
    from bridge.core.adapters.rc_ri import decode_rc_ri

    known = decode_rc_ri(first[0].payload, ctx).case.operations
    asked: list[str] = []

    def lookup(case_id: str) -> Operations | None:
        asked.append(case_id)
        return known

    items = health_to_hub(example("RS-SR", "RS-SR_FemmeEnceinte_DelphineVIGNEAU.07.json"), profile, ctx,
                          corpus_validator(), known=lookup)
    assert asked == [CASE]
    (item,) = items
    (res,) = item.payload["resource"]
    assert res["state"] == {"datetime": "2024-05-26T13:32:00+02:00", "status": "ARRIVEE"}
    assert res["vehicleType"] == "SMUR" and res["team"]["name"] == "Equipe SMUR 4" and item.payload["caseId"] == CASE
    note = next(w for w in item.warnings if w.code == "resources-merged")
    assert "DECLENCHE" in note.message and "ARRIVEE" in note.message


@NO_CORPUS
def test_rs_sr_for_an_unknown_case_is_refused_with_the_reason() -> None:
    with pytest.raises(BridgeError) as caught:
        health_to_hub(example("RS-SR", "RS-SR_FemmeEnceinte_DelphineVIGNEAU.07.json"), load_profile("lrm-health-json"),
                      corpus_ctx(SAMU, NEXSIS, "lrm-health-json"), known=lambda case_id: None)
    assert caught.value.hub_code == HubErrorCode.WRONG_MESSAGE_SEQUENCE
    assert caught.value.issues[0].code == "unknown-resource" and VLM4 in caught.value.issues[0].message
    assert "RS-RI first" in caught.value.message


@NO_CORPUS
def test_rs_sr_repeating_the_known_status_sends_nothing() -> None:
    ctx = corpus_ctx(SAMU, NEXSIS, "lrm-health-json")
    frame = example("RS-SR", "RS-SR_FemmeEnceinte_DelphineVIGNEAU.07.json")
    document = simplejson.loads(frame, parse_float=Decimal)["resourcesStatus"]
    known = Operations(resources=(_vlm(status="ARRIVEE", minute=32),))
    assert document["state"]["status"] == "ARRIVEE"
    assert health_to_hub(frame, load_profile("lrm-health-json"), ctx, known=lambda _: known) == []


@NO_CORPUS
def test_rs_ri_patient_ids_never_reach_the_fire_side() -> None:
    document = simplejson.loads(example("RS-RI", "RS-RI_FemmeEnceinte_DelphineVigneau.03.json"), parse_float=Decimal)
    document["resourcesInfo"]["resource"][0]["patientId"] = "fr.health.samu440.patient.SECRET42"
    items = health_to_hub(json.dumps(document, default=str).encode(), load_profile("lrm-health-json"), corpus_ctx(SAMU, NEXSIS, "lrm-health-json"))
    assert "SECRET42" not in json.dumps(items[0].payload, default=str)
    assert any(d.path.endswith("patientId") for d in items[0].dropped)


@NO_CORPUS
def test_xml_health_link_reads_rs_ri_and_rs_sr_in_xml() -> None:
    """A copy of the profile with adapter rs-eda-xml: the XML RS-RI and RS-SR examples take the same path."""
    from bridge.core.adapters.rc_ri import decode_rc_ri

    ctx = corpus_ctx(SAMU, NEXSIS, "lrm-health-json")
    profile = load_profile("lrm-health-json").model_copy(update={"adapter": "rs-eda-xml"})
    rs_ri = example("RS-RI", "RS-RI_FemmeEnceinte_DelphineVigneau.03.xml")
    (first,) = health_to_hub(rs_ri, profile, ctx, corpus_validator())
    known = decode_rc_ri(first.payload, ctx).case.operations
    (merged,) = health_to_hub(example("RS-SR", "RS-SR_FemmeEnceinte_DelphineVIGNEAU.07.xml"), profile, ctx,
                              corpus_validator(), known=lambda _: known)
    assert merged.payload["resource"][0]["state"]["status"] == "ARRIVEE"


@NO_CORPUS
def test_rs_sr_merge_goes_through_the_fire_side_table_like_an_rs_ri() -> None:
    """A deployment whose table withholds resources from the fire side: the RS-SR path refuses to send the merged
    resources exactly as the RS-RI path does (the merged list is re-sent whole, so it meets the same table)."""
    import dataclasses

    from bridge.core.adapters.rc_ri import decode_rc_ri
    from bridge.core.confidentiality import parse_table
    from bridge.core.errors import OutboundError

    base, profile = corpus_ctx(SAMU, NEXSIS, "lrm-health-json"), load_profile("lrm-health-json")
    rs_ri = example("RS-RI", "RS-RI_FemmeEnceinte_DelphineVigneau.03.json")
    known = decode_rc_ri(health_to_hub(rs_ri, profile, base)[0].payload, base).case.operations
    shipped = (Path(__file__).parents[2] / "mappings" / "confidentiality" / "fire-side.csv").read_text(encoding="utf-8")
    rows = [row for row in shipped.splitlines() if not row.startswith("operations,")]
    stricter = dataclasses.replace(base, confidentiality=parse_table(
        "\n".join(rows) + "\noperations,withhold,test: a deployment that keeps resources from the fire side\n"))
    rs_sr = example("RS-SR", "RS-SR_FemmeEnceinte_DelphineVIGNEAU.07.json")
    assert health_to_hub(rs_sr, profile, base, corpus_validator(), known=lambda case_id: known)  # sent by default
    for frame, known_lookup in ((rs_ri, None), (rs_sr, lambda case_id: known)):
        with pytest.raises(OutboundError, match="RC-RI needs at least one resource"):
            health_to_hub(frame, profile, stricter, corpus_validator(), known=known_lookup)

"""The case life towards the LRM: NexSIS engages resources after accepting, their statuses reach the sheet.

Each inbound update (EMSI answer, RC-RI status change) becomes the LRM's own case sheet with
everything received so far for the case merged in arrival order (docs/operations.md).
"""

from __future__ import annotations

import re

import pytest

from bridge.runtime.demo import demo_frame
from bridge.sim.nexsis_rules import Engagement, PeerRules
from bridge.testing.rig import SDIS, Rig


def _statuses(frame: bytes) -> dict[str, str]:
    text = frame.decode("cp1252")
    ids = dict(re.findall(r"MOYEN_(\d+)_ID=(\S+)", text))
    states = dict(re.findall(r"MOYEN_(\d+)_ETAT=(\S+)", text))
    return {ids[n].rsplit(".", 1)[-1]: states.get(n, "") for n in ids}


@pytest.mark.parametrize("engagement", [Engagement.NONE, Engagement.ONE, Engagement.SEVERAL])
def test_engaged_resources_and_their_statuses_reach_the_lrm_in_order(tmp_path, engagement):
    """none: only the answer; one: VSAV1 ALER; several: each status change, last sheet FPEC/RET, all kept."""
    rig = Rig(tmp_path, peer_rules=PeerRules(own_id=SDIS, engagement=engagement, status_interval=10.0))
    try:
        rig.settled(rig.service.on_legacy_frame(demo_frame(9)))
        rig.run(60.0, step=0.5)
        sent = rig.lrm.sent
        assert b"REPONSE=ACC" in sent[0] and b"NATURE=CHUT" in sent[0]
        sheets = [_statuses(frame) for frame in sent[1:]]
        if engagement is Engagement.NONE:
            assert sheets == []
        elif engagement is Engagement.ONE:
            assert sheets == [{"VSAV1": "ALER"}]
        else:
            assert sheets[0] == {"VSAV1": "ALER"}
            assert sheets[-1] == {"VSAV1": "RET", "FPT1": "FPEC"}
            assert len(sheets) == 5
        for frame in sent[1:]:  # every update is still the LRM's own sheet with its answer
            assert b"NATURE=CHUT" in frame and b"REPONSE=ACC" in frame
        assert rig.store.dlq_list() == []
    finally:
        rig.close()


def test_long_case_history_keeps_the_first_message_and_the_latest(tmp_path, monkeypatch):
    """Past the re-read budget the answer (first inbound) and the latest statuses still reach the LRM."""
    from bridge.app import service

    monkeypatch.setattr(service, "MAX_CASE_HISTORY", 2)
    rig = Rig(tmp_path, peer_rules=PeerRules(own_id=SDIS, engagement=Engagement.SEVERAL, status_interval=10.0))
    try:
        rig.settled(rig.service.on_legacy_frame(demo_frame(9)))
        rig.run(60.0, step=0.5)
        last = rig.lrm.sent[-1]
        assert b"REPONSE=ACC" in last
        assert _statuses(last) == {"VSAV1": "RET", "FPT1": "FPEC"}
    finally:
        rig.close()


def test_updates_held_while_the_lrm_is_away_arrive_in_order(tmp_path):
    """LRM disconnected during the status changes: on reconnection each update is sent in arrival order."""
    rig = Rig(tmp_path, peer_rules=PeerRules(own_id=SDIS, engagement=Engagement.SEVERAL, status_interval=10.0))
    try:
        rig.lrm.connected = False
        rig.settled(rig.service.on_legacy_frame(demo_frame(9)))
        rig.run(60.0, step=0.5)
        assert rig.lrm.sent == []
        rig.lrm.connected = True
        rig.service.on_lrm_connected()
        rig.run(2.0)
        sheets = [_statuses(frame) for frame in rig.lrm.sent[1:]]
        assert b"REPONSE=ACC" in rig.lrm.sent[0]
        assert sheets[0] == {"VSAV1": "ALER"} and sheets[-1] == {"VSAV1": "RET", "FPT1": "FPEC"}
        assert len(sheets) == 5
    finally:
        rig.close()


def test_a_second_frame_for_the_same_dossier_is_sent_as_an_update(tmp_path):
    """First frame: distributionKind Report; a changed sheet of the same dossier: Update, same caseId."""
    import json

    rig = Rig(tmp_path)
    try:
        first = demo_frame(3, assistance=False)
        rig.settled(rig.service.on_legacy_frame(first))
        rig.settled(rig.service.on_legacy_frame(first.replace(b"NATURE=CHUT", b"NATURE=MAL")))
        rows = [m for m in rig.store.recent(10) if m.direction == "out"]
        kinds = sorted((m.id, json.loads(m.translated)["distributionKind"], m.case_id) for m in rows)
        assert [k for _, k, _ in kinds] == ["Report", "Update"]
        assert kinds[0][2] == kinds[1][2] is not None
    finally:
        rig.close()

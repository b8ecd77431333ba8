"""The simulated NexSIS peer's rules: acknowledge, answer, stay silent, answer badly."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest

from bridge.core.edxl import unwrap, wrap
from bridge.sim.nexsis_rules import Behaviour, PeerRules, is_request_for_assistance, replies_for

NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone(timedelta(hours=1)))
SAMU, NEXSIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"


def _uuids():
    counter = itertools.count(1)
    return lambda: f"00000000-0000-4000-8000-{next(counter):012d}"


def _request() -> dict:
    emsi = {
        "CONTEXT": {"ID": "ctx-1", "MODE": "ACTUAL", "MSGTYPE": "ALERT", "CREATION": "2026-11-25T10:00:00+01:00"},
        "EVENT": {"ID": "DRFR154402613800001"},
        "MISSION": [
            {"TYPE": "SAV/ASC", "ID": "M1", "NAME": "#DEMANDE_CONCOURS#Relevage#R01#", "STATUS": "NST"},
        ],
    }
    return wrap("emsi", emsi, sender_id=SAMU, recipient_id=NEXSIS, now=NOW, message_uuid=_uuids()())


def _replies(behaviour: Behaviour, message: dict | None = None, **kw):
    received = unwrap(message or _request())
    return replies_for(received, PeerRules(own_id=NEXSIS, behaviour=behaviour, **kw), now=NOW, new_uuid=_uuids())


class TestReplies:
    def test_request_is_acknowledged_then_answered(self):
        """An accepted request gets an RC-REF for its distributionID, then an ACCEPTE answer."""
        request = _request()
        ref, answer = _replies(Behaviour.ACCEPT, request)
        ref_msg, answer_msg = unwrap(ref.message), unwrap(answer.message)
        assert ref_msg.payload_name == "reference"
        assert ref_msg.payload["distributionID"] == request["distributionID"]
        assert ref_msg.recipient_id == SAMU and ref_msg.sender_id == NEXSIS
        assert answer_msg.payload["MISSION"][0]["NAME"] == "#REPONSE_DEMANDE_CONCOURS#ACCEPTE#"
        assert answer_msg.payload["MISSION"][0]["PARENT_MISSION_ID"] == ["M1"]
        assert answer.delay == 0.0

    def test_refusal_uses_official_code(self):
        """A refusal is REFUS, the code the EMSI convention lists."""
        _, answer = _replies(Behaviour.REFUSE)
        assert unwrap(answer.message).payload["MISSION"][0]["NAME"] == "#REPONSE_DEMANDE_CONCOURS#REFUS#"

    def test_no_answer_still_acknowledges(self):
        """Silence means no functional answer, but the RC-REF is still sent."""
        replies = _replies(Behaviour.NO_ANSWER)
        assert [unwrap(r.message).payload_name for r in replies] == ["reference"]

    def test_late_answer_is_delayed(self):
        """A late answer is scheduled after the configured delay."""
        _, answer = _replies(Behaviour.LATE, late_delay=7.5)
        assert answer.delay == 7.5

    def test_malformed_answer_has_unknown_code(self):
        """A malformed answer carries a code no table knows, to exercise the bridge's dead-letter path."""
        _, answer = _replies(Behaviour.MALFORMED)
        name = unwrap(answer.message).payload["MISSION"][0]["NAME"]
        assert name.startswith("#REPONSE_DEMANDE_CONCOURS#") and "ACCEPTE" not in name

    def test_operations_follow_acceptance(self):
        """With operations on, an #OPERATION_GLOBALE# update follows the answer."""
        replies = _replies(Behaviour.ACCEPT, send_operations=True)
        assert unwrap(replies[-1].message).payload["MISSION"][0]["NAME"] == "#OPERATION_GLOBALE#"

    def test_reference_is_not_acknowledged(self):
        """An RC-REF received produces nothing (no ack of acks)."""
        ref = wrap("reference", {"distributionID": f"{SAMU}_x"}, sender_id=SAMU, recipient_id=NEXSIS,
                   now=NOW, message_uuid=_uuids()(), kind="Ack")
        assert _replies(Behaviour.ACCEPT, ref) == []


@pytest.mark.parametrize("missions,expected", [([], False), ([{"NAME": "#MISSION#"}], False),
                                               ([{"NAME": "#DEMANDE_CONCOURS#x#y#"}], True)])
def test_is_request_for_assistance(missions, expected):
    """Only a MISSION named #DEMANDE_CONCOURS#... makes a request for assistance."""
    assert is_request_for_assistance({"MISSION": missions}) is expected

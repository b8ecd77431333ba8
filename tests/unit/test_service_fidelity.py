"""The service makes every alteration visible and answers every refusal (issue 13 items 2, 4, 5)."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from prometheus_client import CollectorRegistry

from bridge.core.edxl import wrap
from bridge.edges.amqp.consumer import Delivery
from bridge.edges.metrics import BridgeMetrics
from bridge.refdata.hub_bodies import encode_hub_body
from bridge.runtime.demo import demo_frame
from bridge.testing.rig import SAMU, SDIS, Rig


@pytest.fixture
def rig(tmp_path):
    rig = Rig(tmp_path)
    rig.service.metrics = BridgeMetrics(registry=CollectorRegistry())
    yield rig
    rig.close()


def _metric(rig, name: str, **labels: str) -> float:
    return rig.service.metrics.registry.get_sample_value(name, labels) or 0.0


class TestRefusalsAreNacks:
    def test_frame_without_case_number_gets_a_nack_with_code_and_field(self, rig):
        """Missing NUM_DOSSIER: NACK with 704 and the field, never ACK=?; the frame is dead-lettered."""
        frame = b"DATE_APPEL=20261125100000\r\nNATURE=INC\r\nCOMMUNE=Nantes"
        reply = rig.settled(rig.service.on_legacy_frame(frame))
        assert reply.startswith(b"NACK=?;704;NUM_DOSSIER")
        assert not reply.startswith(b"ACK")
        [entry] = rig.store.dlq_list()
        assert entry.original == frame

    def test_frame_that_is_not_key_value_gets_a_nack(self, rig):
        """Not KEY=VALUE at all: a NACK naming line 1."""
        reply = rig.settled(rig.service.on_legacy_frame(b"this is not a case sheet"))
        assert reply.startswith(b"NACK=?;") and b"line 1" in reply

    def test_refused_frame_nack_names_the_case_it_refuses(self, rig):
        """A bad date in a frame with a case number: the NACK names that case and the failing line."""
        bad = demo_frame(2).replace(b"DATE_APPEL=20261125100000", b"DATE_APPEL=hier")
        reply = rig.settled(rig.service.on_legacy_frame(bad))
        assert reply.startswith(b"NACK=DEMO-000002;") and b"line 2" in reply


class TestOutboundFallbackIsVisible:
    def test_unknown_lrm_code_fallback_reaches_history_metrics_and_the_lrm(self, rig):
        """NATURE=ZZZ travels as the fallback: the ack carries the warning, the history and metrics record it."""
        frame = demo_frame(7).replace(b"NATURE=CHUT", b"NATURE=ZZZ")
        assert frame != demo_frame(7)
        reply = rig.settled(rig.service.on_legacy_frame(frame))
        assert reply.startswith(b"ACK=DEMO-000007;AVERTISSEMENT=") and b"ZZZ" in reply
        out = [m for m in rig.store.recent(10) if m.direction == "out"]
        events = [e for m in out for e in rig.store.history(m.id) if e.event == "value_altered"]
        assert events and any("ZZZ" in (e.detail or "") for e in events)
        assert _metric(rig, "bridge_value_altered_total", direction="out", table="lrm-alpha-nature") == 1.0

    def test_clean_frame_gets_the_plain_ack(self, rig):
        reply = rig.settled(rig.service.on_legacy_frame(demo_frame(8)))
        assert reply == b"ACK=DEMO-000008"


def _inbound(rig, payload_name: str, payload: dict) -> Delivery:
    message = wrap(payload_name, payload, sender_id=SDIS, recipient_id=SAMU, now=rig.now(),
                   message_uuid=str(uuid.uuid4()))
    return Delivery(body=encode_hub_body(message), queue=f"{SAMU}.message", routing_key=SAMU,
                    content_type="application/json", delivery_mode=2, redelivered=False, delivery_tag=1)


def _emsi_request(hub_reference, mission_type: str) -> dict:
    emsi = json.loads((hub_reference / "examples" / "EMSI" / "EMSI-RDC-message.json").read_text(),
                      parse_float=Decimal)["emsi"]
    mission = dict(emsi["MISSION"][0], TYPE=mission_type, NAME="#DEMANDE_CONCOURS#SAP#", ID="REQ-9")
    mission.pop("MAIN_MISSION_ID", None)
    emsi["MISSION"] = [mission]
    return emsi


class TestInbound:
    def test_request_with_a_code_the_lrm_lacks_is_delivered_and_recorded(self, rig, hub_reference):
        """SAV/AR/FR_PPL/GRP reaches the LRM (parent code + official code in OBS); history and metrics say so."""
        rig.settled(rig.service.on_hub_message(_inbound(rig, "emsi", _emsi_request(hub_reference,
                                                                                     "SAV/AR/FR_PPL/GRP"))))
        rig.run(0.5)
        [sent] = rig.lrm.sent
        assert b"TYPE_CONCOURS=AUT" in sent and b"SAV/AR/FR_PPL/GRP" in sent
        [msg] = [m for m in rig.store.recent(10) if m.direction == "in"]
        assert any(e.event == "value_altered" and "SAV/AR/FR_PPL/GRP" in (e.detail or "")
                   for e in rig.store.history(msg.id))
        assert _metric(rig, "bridge_value_altered_total", direction="in", table="lrm-alpha-mission") == 1.0

    def test_message_the_lrm_cannot_take_raises_an_alarm_and_an_rs_error(self, rig, hub_reference):
        """A createCase without a city (the alpha LRM requires COMMUNE): dead-lettered, alarm, RS-ERROR 704."""
        payload = json.loads((hub_reference / "examples" / "RC-EDA" /
                              "RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json").read_text(),
                             parse_float=Decimal)["createCase"]
        payload["location"].pop("city", None)
        payload["location"].pop("detailedAddress", None)
        payload.pop("initialAlert", None)
        published = []
        original = rig.client.publish

        def spy(body, **kwargs):
            published.append(json.loads(body))
            return original(body, **kwargs)

        rig.client.publish = spy
        rig.settled(rig.service.on_hub_message(_inbound(rig, "createCase", payload)))
        rig.run(0.5)
        assert rig.lrm.sent == []
        errors = [m for m in published
                  if "error" in m["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]]
        assert len(errors) == 1
        error = errors[0]["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["error"]
        assert error["errorCode"]["statusCode"] == 704
        assert errors[0]["descriptor"]["explicitAddress"]["explicitAddressValue"] == SDIS
        assert "COMMUNE" in error["errorCause"] or "location.city" in error["errorCause"]
        assert _metric(rig, "bridge_hand_over_failures_total") == 1.0

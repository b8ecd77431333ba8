"""The Hub dispatcher's checks: each fault gives its official RS-ERROR code, in the Hub's order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bridge.core.errors import HubErrorCode, Issue
from bridge.sim.dispatcher import Reject, Route, build_error_message, check, encode_json
from bridge.testing.messages import make_message, make_reference, message_payload

UUID1 = "6f1c6f1c-0000-4000-8000-000000000001"
NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
SAMU, SDIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"
KNOWN = {SAMU, SDIS}
PAYLOAD = {"createCase": {"caseId": "fr.health.samu440.DRFR154402600001"}}


def _ok(_body: bytes) -> list[Issue]:
    return []


def _run(message, *, content_type="application/json", routing_key=SAMU, delivery_mode=2, validate=_ok, body=None):
    data = body if body is not None else json.dumps(message).encode()
    return check(data, content_type=content_type, routing_key=routing_key, delivery_mode=delivery_mode,
                 now=NOW, known_clients=KNOWN, validate=validate)


def test_valid_message_is_routed_to_recipient_message_queue():
    """A valid RC-EDA goes to the recipient's .message queue unchanged."""
    message = make_message(SAMU, SDIS, PAYLOAD, now=NOW)
    result = _run(message)
    assert isinstance(result, Route)
    assert (result.recipient, result.queue_suffix, result.sender) == (SDIS, "message", SAMU)
    assert json.loads(result.body) == message


def test_rc_ref_is_routed_to_recipient_ack_queue():
    """An RC-REF goes to the recipient's .ack queue."""
    result = _run(make_reference(SAMU, SDIS, f"{SDIS}_1", now=NOW))
    assert isinstance(result, Route) and result.queue_suffix == "ack"


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"delivery_mode": 1}, HubErrorCode.DELIVERY_MODE_INCONSISTENCY),
    ({"delivery_mode": None}, HubErrorCode.DELIVERY_MODE_INCONSISTENCY),
    ({"content_type": "text/plain"}, HubErrorCode.NOT_ALLOWED_CONTENT_TYPE),
    ({"content_type": None}, HubErrorCode.NOT_ALLOWED_CONTENT_TYPE),
    ({"body": b"{not json"}, HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT),
    ({"body": b"[1, 2]"}, HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT),
    ({"content_type": "application/xml"}, HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT),
    ({"validate": lambda _b: [Issue("/senderID", "is missing")]}, HubErrorCode.INVALID_MESSAGE),
    ({"routing_key": SDIS}, HubErrorCode.SENDER_INCONSISTENCY),
])
def test_each_transport_fault_has_its_code(kwargs, code):
    """Delivery mode, content type, format, schema and sender faults map to 100/101/102/300/200."""
    result = _run(make_message(SAMU, SDIS, PAYLOAD, now=NOW), **kwargs)
    assert isinstance(result, Reject) and result.code == code
    assert result.sender == kwargs.get("routing_key", SAMU)


def test_distribution_id_prefix_must_be_sender():
    """A distributionID not starting with '{sender}_' is a sender inconsistency (200)."""
    result = _run(make_message(SAMU, SDIS, PAYLOAD, now=NOW, distribution_id="fr.health.other_1"))
    assert isinstance(result, Reject) and result.code == HubErrorCode.SENDER_INCONSISTENCY
    assert result.referenced_distribution_id == "fr.health.other_1"


def test_expired_message_is_refused():
    """dateTimeExpires in the past gives 400."""
    message = make_message(SAMU, SDIS, PAYLOAD, now=NOW - timedelta(days=2), expires=NOW - timedelta(seconds=1))
    result = _run(message)
    assert isinstance(result, Reject) and result.code == HubErrorCode.EXPIRED_MESSAGE_BEFORE_ROUTING


def test_unknown_recipient_is_unroutable():
    """A recipient that is no known client gives 501."""
    result = _run(make_message(SAMU, "fr.health.nowhere", PAYLOAD, now=NOW))
    assert isinstance(result, Reject) and result.code == HubErrorCode.UNROUTABLE_MESSAGE


def test_first_failing_check_wins():
    """With a bad delivery mode and a bad sender, the Hub reports 100 (first check)."""
    result = _run(make_message(SAMU, SDIS, PAYLOAD, now=NOW), delivery_mode=1, routing_key=SDIS)
    assert isinstance(result, Reject) and result.code == HubErrorCode.DELIVERY_MODE_INCONSISTENCY


def test_schema_error_comes_before_sender_check():
    """Schema validation (300) runs before the sender check (200)."""
    result = _run(make_message(SAMU, SDIS, PAYLOAD, now=NOW), routing_key=SDIS,
                  validate=lambda _b: [Issue("/x", "bad")])
    assert isinstance(result, Reject) and result.code == HubErrorCode.INVALID_MESSAGE


XML = b"""<edxlDistribution xmlns="urn:oasis:names:tc:emergency:EDXL:DE:2.0">
<distributionID>fr.health.samu440_42</distributionID><senderID>fr.health.samu440</senderID>
<dateTimeSent>2026-11-25T20:00:00+00:00</dateTimeSent><dateTimeExpires>2026-11-26T20:00:00+00:00</dateTimeExpires>
<distributionStatus>Actual</distributionStatus><distributionKind>Ack</distributionKind>
<descriptor><language>fr-FR</language><explicitAddress><explicitAddressScheme>hubex</explicitAddressScheme>
<explicitAddressValue>fr.fire.nexsis.sdis44</explicitAddressValue></explicitAddress></descriptor>
<content><contentObject><contentXML><embeddedXMLContent><message xmlns="urn:emergency:cisu:3.0">
<messageId>fr.health.samu440_42</messageId><reference><distributionID>x_1</distributionID></reference>
</message></embeddedXMLContent></contentXML></contentObject></content></edxlDistribution>"""


def test_xml_message_is_routed_by_its_envelope():
    """An XML EDXL-DE RC-REF is read with the hardened parser and routed to .ack."""
    result = _run(None, content_type="application/xml", body=XML)
    assert isinstance(result, Route) and (result.recipient, result.queue_suffix) == (SDIS, "ack")


def test_xml_with_doctype_is_unrecognized():
    """XML with a DTD is refused by the hardened parser: 102, never parsed."""
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + XML
    result = _run(None, content_type="application/xml", body=body)
    assert isinstance(result, Reject) and result.code == HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT


def test_error_message_is_a_full_rs_error():
    """build_error_message gives an EDXL-DE Error addressed to the sender with code and source."""
    source = make_message(SAMU, SDIS, PAYLOAD, now=NOW)
    reject = _run(source, routing_key=SDIS)
    message = build_error_message(reject, hub_id="fr.health.hub", message_uuid=UUID1, now=NOW)
    error = message_payload(message)["error"]
    assert message["descriptor"]["explicitAddress"]["explicitAddressValue"] == SDIS
    assert message["distributionID"] == f"fr.health.hub_{UUID1}" and message["distributionKind"] == "Error"
    assert error["errorCode"] == {"statusCode": 200, "statusString": "SENDER_INCONSISTENCY"}
    assert error["referencedDistributionID"] == source["distributionID"]
    assert error["sourceMessage"] == source
    assert json.loads(encode_json(message), parse_float=Decimal) == message


def test_error_message_validates_against_official_schemas(hub_reference):
    """The RS-ERROR we build passes the official EDXL-DE-full JSON Schema."""
    from bridge.sim.hub_emulator.schemas import json_schema_validator

    reject = _run(make_message(SAMU, SDIS, PAYLOAD, now=NOW), delivery_mode=1)
    body = encode_json(build_error_message(reject, hub_id="fr.health.hub", message_uuid=UUID1, now=NOW))
    assert json_schema_validator(hub_reference)(body) == []


def test_dead_letter_report_goes_to_the_envelope_sender():
    """A dead-lettered message gives a 500 for its senderID; Hub errors and garbage give none."""
    from bridge.sim.dispatcher import dead_letter_reject

    message = make_message(SAMU, SDIS, PAYLOAD, now=NOW)
    reject = dead_letter_reject(json.dumps(message).encode(), content_type="application/json", reason="expired",
                                hub_id="fr.health.hub")
    assert reject is not None and (reject.code, reject.sender) == (HubErrorCode.DEAD_LETTER_QUEUED, SAMU)
    assert reject.referenced_distribution_id == message["distributionID"]
    hub_error = make_message("fr.health.hub", SAMU, PAYLOAD, now=NOW)
    assert dead_letter_reject(json.dumps(hub_error).encode(), content_type="application/json", reason="x",
                              hub_id="fr.health.hub") is None
    assert dead_letter_reject(b"garbage", content_type="application/json", reason="x", hub_id="fr.health.hub") is None


def test_schema_error_cause_names_paths_and_stays_bounded():
    """errorCause lists issues by path, cuts long ones and counts the rest."""
    from bridge.sim.dispatcher import describe_issues

    issues = [Issue(f"/createCase/f{i}", "x" * 1000) for i in range(25)]
    cause = describe_issues(issues)
    assert cause.startswith("25 schema error(s): /createCase/f0: ") and cause.endswith("and 5 more")
    assert len(cause) < 20 * 310


RC_RI = {"caseId": "fr.health.samu440.DRFR154402600001", "resource": [{
    "datetime": "2026-11-25T20:00:00+01:00", "resourceId": "fr.fire.nexsis.sdis44.resource.VSAV1",
    "vehicleType": "SIS", "state": {"status": "ARRIVEE", "datetime": "2026-11-25T20:10:00+01:00"}}]}


@pytest.mark.parametrize(("status", "routed"), [("ARRIVEE", True), ("PARTI", False)])
def test_rc_ri_is_checked_and_routed_like_the_other_kinds(status, routed):
    """The emulator's checks cover RC-RI: a valid one reaches the .message queue, a bad status is a 300."""
    from bridge.core.edxl import wrap
    from bridge.refdata.hub_codec import validate

    message = wrap("resourcesInfoCisu", RC_RI, sender_id=SDIS, recipient_id=SAMU, now=NOW, message_uuid=UUID1)
    message = json.loads(json.dumps(message).replace("ARRIVEE", status))  # as a faulty peer would send it
    result = _run(message, routing_key=SDIS, validate=lambda body: validate(body))
    if routed:
        assert isinstance(result, Route) and (result.recipient, result.queue_suffix) == (SAMU, "message")
    else:
        assert isinstance(result, Reject) and result.code == HubErrorCode.INVALID_MESSAGE
        assert "status" in result.reason

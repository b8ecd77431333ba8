"""The in-process Hub: same checks and delivery semantics as the real emulator, no broker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from twisted.internet import defer
from twisted.internet.task import Clock

from bridge.app.ports import Drop, Nack
from bridge.core.errors import Issue
from bridge.edges.amqp.errors import NotConnected
from bridge.sim.inprocess_hub import InProcessHub
from bridge.testing.messages import make_message, make_reference, message_payload

NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
SAMU, SDIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"
PAYLOAD = {"createCase": {"caseId": "x"}}


def _hub(validate=lambda _b: []):
    clock = Clock()
    return InProcessHub([SAMU, SDIS], validate, lambda: NOW, reactor=clock, id_factory=lambda: "6f1c6f1c-0000-4000-8000-000000000001"), clock


def _body(message) -> bytes:
    return json.dumps(message).encode()


def test_message_and_rc_ref_round_trip():
    """A message reaches the recipient's on_message; its RC-REF reaches the sender's on_ack."""
    hub, clock = _hub()
    got, acks = [], []
    samu = hub.client(SAMU, on_ack=acks.append)
    sdis = hub.client(SDIS, on_message=got.append)
    samu.start(), sdis.start()
    message = make_message(SAMU, SDIS, PAYLOAD, now=NOW)
    confirmed = []
    samu.publish(_body(message)).addCallback(confirmed.append)
    clock.advance(0)
    assert confirmed == [None] and json.loads(got[0].body) == message and got[0].queue == f"{SDIS}.message"
    sdis.publish(_body(make_reference(SDIS, SAMU, message["distributionID"], now=NOW)))
    clock.advance(0)
    assert message_payload(json.loads(acks[0].body))["reference"]["distributionID"] == message["distributionID"]


def test_faults_come_back_as_rs_error_on_info():
    """Unknown recipient, expired message and schema errors give 501, 400 and 300 on the sender's info."""
    hub, clock = _hub(validate=lambda b: [Issue("/x", "bad")] if b"BAD" in b else [])
    infos = []
    samu = hub.client(SAMU, on_info=infos.append)
    samu.start()
    samu.publish(_body(make_message(SAMU, "fr.health.nowhere", PAYLOAD, now=NOW)))
    samu.publish(_body(make_message(SAMU, SDIS, PAYLOAD, now=NOW - timedelta(days=3), expires=NOW - timedelta(days=1))))
    samu.publish(_body(make_message(SAMU, SDIS, {"createCase": {"caseId": "BAD"}}, now=NOW)))
    samu.publish(_body(make_message(SAMU, SDIS, PAYLOAD, now=NOW)), delivery_mode=1)
    clock.advance(0)
    codes = [message_payload(json.loads(d.body))["error"]["errorCode"]["statusCode"] for d in infos]
    assert codes == [501, 400, 300, 100]


def test_messages_wait_for_a_consumer():
    """A message sent before the recipient starts is delivered when it starts."""
    hub, clock = _hub()
    samu, got = hub.client(SAMU), []
    samu.start()
    samu.publish(_body(make_message(SAMU, SDIS, PAYLOAD, now=NOW)))
    clock.advance(0)
    sdis = hub.client(SDIS, on_message=got.append)
    sdis.start()
    clock.advance(0)
    assert len(got) == 1


def test_nack_requeues_with_redelivered_flag_and_drop_dead_letters():
    """Nack brings the message back with redelivered=True; Drop dead-letters it and tells the sender (500)."""
    hub, clock = _hub()
    seen = []

    def handler(delivery):
        seen.append(delivery)
        raise (Drop("bad") if delivery.redelivered else Nack("later"))

    infos = []
    samu, sdis = hub.client(SAMU, on_info=infos.append), hub.client(SDIS, on_message=handler)
    samu.start(), sdis.start()
    samu.publish(_body(make_message(SAMU, SDIS, PAYLOAD, now=NOW)))
    clock.advance(0)
    clock.advance(1)
    assert [d.redelivered for d in seen] == [False, True]
    assert len(hub.dead_letters) == 1
    error = message_payload(json.loads(infos[0].body))["error"]  # the sender learns it: 500
    assert error["errorCode"]["statusCode"] == 500


def test_stop_waits_for_in_flight_and_publish_needs_start():
    """stop() fires only after the in-flight callback finished; publishing before start fails."""
    hub, clock = _hub()
    pending = defer.Deferred()
    samu, sdis = hub.client(SAMU), hub.client(SDIS, on_message=lambda d: pending)
    failures = []
    samu.publish(b"{}").addErrback(failures.append)
    assert failures and failures[0].check(NotConnected)
    samu.start(), sdis.start()
    samu.publish(_body(make_message(SAMU, SDIS, PAYLOAD, now=NOW)))
    clock.advance(0)
    stopped = []
    sdis.stop().addCallback(stopped.append)
    assert stopped == []
    pending.callback(None)
    assert len(stopped) == 1 and sdis.state == "stopped"


def test_recipient_preferring_xml_gets_xml():
    """The Hub's optional conversion: a JSON RC-REF reaches an XML client as XML EDXL-DE."""
    clock = Clock()
    hub = InProcessHub([SAMU, SDIS], lambda _b: [], lambda: NOW, reactor=clock, formats={SDIS: "application/xml"})
    got = []
    samu, sdis = hub.client(SAMU), hub.client(SDIS, on_ack=got.append)
    samu.start(), sdis.start()
    samu.publish(_body(make_reference(SAMU, SDIS, f"{SDIS}_1", now=NOW)))
    clock.advance(0)
    assert got[0].content_type == "application/xml" and got[0].body.lstrip().startswith(b"<")
    assert b"<distributionID>fr.fire.nexsis.sdis44_1</distributionID>" in got[0].body


def test_failed_conversion_is_600():
    """A message the Hub cannot convert for its recipient is refused with 600."""
    from bridge.core.errors import BridgeError
    from bridge.sim.dispatcher import Reject, Route
    from bridge.sim.hub_emulator.convert import convert_route

    def broken(_body, _to):
        raise BridgeError("no spec")

    route = Route(SDIS, b"{}", "message", f"{SAMU}_1", SAMU)
    result = convert_route(route, "application/json", {SDIS: "application/xml"}, broken)
    assert isinstance(result, Reject) and int(result.code) == 600 and result.sender == SAMU
    assert convert_route(route, "application/json", {}, broken) == (route, "application/json")

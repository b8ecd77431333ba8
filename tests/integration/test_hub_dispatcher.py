"""Real broker + emulator dispatcher: each Hub check answers with its RS-ERROR, RC-REF round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bridge.edges.amqp.client import HubClient
from bridge.edges.amqp.errors import PublishReturned
from bridge.testing.messages import make_message, make_reference, message_payload
from tests.integration.rabbitmq import SAMU, SDIS, Inbox, RawLink, admin_settings, client_settings

pytestmark = pytest.mark.integration

REF = {"reference": {"distributionID": f"{SDIS}_00000000-0000-0000-0000-000000000000"}}


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def clients(broker, hub, reactor_thread):
    """SAMU and SDIS connected through the emulator, each with inboxes on its three queues."""
    made = {}
    for who in (SAMU, SDIS):
        boxes = {"message": Inbox(), "ack": Inbox(), "info": Inbox()}
        client = HubClient(client_settings(broker, who), reactor_thread.reactor, on_message=boxes["message"],
                           on_ack=boxes["ack"], on_info=boxes["info"], stop_on_shutdown=False)
        reactor_thread.call(client.start)
        made[who] = (client, boxes)
    yield made
    for client, _boxes in made.values():
        reactor_thread.call(client.stop)


@pytest.fixture
def raw_samu(broker, hub, reactor_thread):
    """A bare TLS/EXTERNAL link with SAMU's certificate, to publish malformed traffic."""
    link = reactor_thread.call(RawLink.open, client_settings(broker, SAMU), reactor_thread.reactor)
    yield link
    reactor_thread.call(link.close)


def _error(inbox: Inbox) -> dict:
    delivery = inbox.get()
    assert delivery.queue.endswith(".info")
    return message_payload(json.loads(delivery.body))["error"]


def _good(**kw) -> bytes:
    return json.dumps(make_message(SAMU, SDIS, REF, now=_now(), kind="Ack", **kw)).encode()


@pytest.mark.parametrize(("publish", "code"), [
    (dict(body=_good, delivery_mode=1), 100),
    (dict(body=_good, content_type="text/plain"), 101),
    (dict(body=lambda: b"\x00 not a message", content_type="application/json"), 102),
    (dict(body=lambda: b"<edxlDistribution", content_type="application/xml"), 102),
    (dict(body=lambda: json.dumps({"distributionID": f"{SAMU}_1", "senderID": SAMU}).encode()), 300),
    (dict(body=lambda: _good(distribution_id="fr.health.other_1")), 200),
    (dict(body=lambda: _good(expires=_now() - timedelta(minutes=1))), 400),
    (dict(body=lambda: json.dumps(make_message(SAMU, "fr.health.nowhere", REF, now=_now(), kind="Ack")).encode()),
     501),
], ids=["100-delivery-mode", "101-content-type", "102-json", "102-xml", "300-schema", "200-distribution-id",
        "400-expired", "501-unknown-recipient"])
def test_each_check_answers_its_rs_error(clients, raw_samu, reactor_thread, publish, code):
    """A faulty message from SAMU brings an RS-ERROR with the official code on SAMU's .info queue."""
    options = dict(publish)
    body = options.pop("body")()
    reactor_thread.call(raw_samu.publish, body, SAMU, **options)
    error = _error(clients[SAMU][1]["info"])
    assert error["errorCode"]["statusCode"] == code
    assert error["errorCause"]


def test_cn_not_matching_routing_key_is_sender_inconsistency(clients, raw_samu, reactor_thread):
    """SAMU publishing with SDIS's routing key gets 200, reported to the routing key's owner."""
    message = make_message(SAMU, SDIS, REF, now=_now(), kind="Ack")
    reactor_thread.call(raw_samu.publish, json.dumps(message).encode(), SDIS)
    error = _error(clients[SDIS][1]["info"])
    assert error["errorCode"] == {"statusCode": 200, "statusString": "SENDER_INCONSISTENCY"}
    assert error["referencedDistributionID"] == message["distributionID"]


def test_rc_ref_round_trip(clients, reactor_thread, hub_reference):
    """SAMU sends an RC-EDA (confirmed), SDIS receives it and answers an RC-REF that lands on SAMU's .ack."""
    eda = json.loads((hub_reference / "examples/RC-EDA/RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json").read_text())
    samu, sdis = clients[SAMU][0], clients[SDIS][0]
    message = make_message(SAMU, SDIS, eda, now=_now())
    confirmed = reactor_thread.call(samu.publish, json.dumps(message).encode())
    assert confirmed is None  # fired on the broker's publisher confirm
    received = clients[SDIS][1]["message"].get()
    assert json.loads(received.body) == message and received.routing_key == f"{SDIS}.message"
    reference = make_reference(SDIS, SAMU, message["distributionID"], now=_now())
    reactor_thread.call(sdis.publish, json.dumps(reference).encode())
    ack = clients[SAMU][1]["ack"].get_json()
    assert message_payload(ack)["reference"]["distributionID"] == message["distributionID"]


def test_xml_message_is_routed(clients, reactor_thread, hub_reference):
    """An XML RC-REF in an XML EDXL-DE envelope is validated against the XSD and routed to .ack."""
    samu = clients[SAMU][0]
    body = _xml_reference(SAMU, SDIS, f"{SDIS}_abc", _now())
    reactor_thread.call(samu.publish, body, content_type="application/xml")
    delivery = clients[SDIS][1]["ack"].get()
    assert delivery.body == body and delivery.content_type == "application/xml"


def test_unroutable_publish_is_returned(broker, hub, reactor_thread):
    """A mandatory publish no queue is bound for errbacks with PublishReturned (publisher confirms)."""
    from bridge.edges.amqp.publisher import Publisher

    link = reactor_thread.call(RawLink.open, admin_settings(broker), reactor_thread.reactor)
    try:
        publisher = Publisher(link.channel, "distribution")
        reactor_thread.call(publisher.setup)
        with pytest.raises(PublishReturned, match="no queue bound"):
            reactor_thread.call(publisher.publish, b"{}", routing_key="fr.health.nowhere.message")
    finally:
        reactor_thread.call(link.close)


def test_redelivery_after_crash_before_ack(broker, hub, reactor_thread):
    """A message whose consumer dies before acking comes back with redelivered=True."""
    from twisted.internet import defer

    seen = Inbox()
    first: list[defer.Deferred] = []

    def on_message(delivery):
        seen(delivery)
        if not delivery.redelivered:
            first.append(defer.Deferred())  # never fires: we "crash" before the ack
            return first[-1]
        return None

    sdis = HubClient(client_settings(broker, SDIS, reconnect_attempts=20), reactor_thread.reactor,
                     on_message=on_message, stop_on_shutdown=False)
    samu = HubClient(client_settings(broker, SAMU), reactor_thread.reactor, stop_on_shutdown=False)
    reactor_thread.call(sdis.start)
    reactor_thread.call(samu.start)
    try:
        body = json.dumps(make_message(SAMU, SDIS, {"createCase": _minimal_case()}, now=_now())).encode()
        reactor_thread.call(samu.publish, body)
        assert seen.get().redelivered is False
        reactor_thread.call(lambda: sdis.session.connection.transport.abortConnection())
        again = seen.get()
        assert again.redelivered is True and again.body == body
    finally:
        reactor_thread.call(samu.stop)
        reactor_thread.call(sdis.stop)


def _minimal_case() -> dict:
    from tests.conftest import reference_dir

    ref = reference_dir()
    if ref is None:
        pytest.skip("official corpus absent: no valid RC-EDA example to send")
    return json.loads((ref / "examples/RC-EDA/RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json").read_text())["createCase"]


def _xml_reference(sender: str, recipient: str, acknowledged: str, now: datetime) -> bytes:
    stamp = now.replace(microsecond=0).isoformat()
    expires = (now + timedelta(days=1)).replace(microsecond=0).isoformat()
    dist = f"{sender}_xml-{now.timestamp():.0f}"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<edxlDistribution xmlns="urn:oasis:names:tc:emergency:EDXL:DE:2.0" xmlns:xlink="http://www.w3.org/1999/xlink"
 xlink:type="extended">
<distributionID>{dist}</distributionID><senderID>{sender}</senderID>
<dateTimeSent>{stamp}</dateTimeSent><dateTimeExpires>{expires}</dateTimeExpires>
<distributionStatus>Actual</distributionStatus><distributionKind>Ack</distributionKind>
<descriptor xlink:type="resource"><language>fr-FR</language><explicitAddress><explicitAddressScheme>hubex</explicitAddressScheme>
<explicitAddressValue>{recipient}</explicitAddressValue></explicitAddress></descriptor>
<content xlink:type="resource"><contentObject xlink:type="resource"><contentXML><embeddedXMLContent>
<message xmlns="urn:emergency:eda:1.9">
<messageId>{dist}</messageId><sender><name>samu440</name><URI>hubex:{sender}</URI></sender>
<sentAt>{stamp}</sentAt><kind>Ack</kind><status>Actual</status>
<recipient><name>sdis44</name><URI>hubex:{recipient}</URI></recipient>
<reference xmlns="urn:emergency:eda:1.9:reference"><distributionID>{acknowledged}</distributionID></reference>
</message></embeddedXMLContent></contentXML></contentObject></content></edxlDistribution>""".encode()


def test_json_converted_for_xml_recipient(clients, hub, reactor_thread):
    """With SDIS configured for XML, SAMU's JSON RC-REF reaches SDIS as XML (Hub conversion)."""
    reactor_thread.call(hub.formats.__setitem__, SDIS, "application/xml")
    try:
        reference = make_reference(SAMU, SDIS, f"{SDIS}_conv", now=_now())
        reactor_thread.call(clients[SAMU][0].publish, json.dumps(reference).encode())
        delivery = clients[SDIS][1]["ack"].get()
    finally:
        reactor_thread.call(hub.formats.pop, SDIS, None)
    assert delivery.content_type == "application/xml"
    assert f"<distributionID>{SDIS}_conv</distributionID>".encode() in delivery.body


def test_dead_lettered_message_is_reported_500_to_sender(broker, hub, reactor_thread, hub_reference):
    """A message the recipient rejects (Drop) goes to dispatch.dlq and its sender gets RS-ERROR 500."""
    from bridge.app.ports import Drop

    def refuse(_delivery):
        raise Drop("cannot map this case")

    infos = Inbox()
    sdis = HubClient(client_settings(broker, SDIS), reactor_thread.reactor, on_message=refuse, stop_on_shutdown=False)
    samu = HubClient(client_settings(broker, SAMU), reactor_thread.reactor, on_info=infos, stop_on_shutdown=False)
    reactor_thread.call(sdis.start)
    reactor_thread.call(samu.start)
    try:
        message = make_message(SAMU, SDIS, {"createCase": _minimal_case()}, now=_now())
        reactor_thread.call(samu.publish, json.dumps(message).encode())
        error = _error(infos)
        assert error["errorCode"] == {"statusCode": 500, "statusString": "DEAD_LETTER_QUEUED"}
        assert error["referencedDistributionID"] == message["distributionID"]
        assert "rejected" in error["errorCause"]
    finally:
        reactor_thread.call(samu.stop)
        reactor_thread.call(sdis.stop)


def test_a_publish_written_by_the_direct_frame_path_reaches_the_peer_whole(clients, reactor_thread, hub_reference):
    """The bridge's publishes go out as one write of pika's three frames (bridge/edges/amqp/frames.py): the real
    broker takes them (a malformed frame closes the connection), the dispatcher reads delivery_mode 2 and the
    content type from the header (else RS-ERROR 100/101), confirms them, and the peer gets the same message."""
    eda = json.loads((hub_reference / "examples/RC-EDA/RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json").read_text())
    samu = clients[SAMU][0]
    path = samu.content_frames
    assert path is not None, "HubClient did not install the direct frame path on its connection"
    before = path.direct
    for n in range(3):
        message = make_message(SAMU, SDIS, eda, now=_now())
        confirmed = reactor_thread.call(samu.publish, json.dumps(message).encode(),
                                        message_id=message["distributionID"])
        assert confirmed is None  # the broker's confirm
        received = clients[SDIS][1]["message"].get()
        assert json.loads(received.body) == message and received.content_type == "application/json", n
    assert path.direct == before + 3

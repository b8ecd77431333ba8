"""Our TCP connections switch Nagle off: small frames must not wait for the peer's delayed ACK (no sockets)."""

from __future__ import annotations

from twisted.internet.address import IPv4Address

from bridge.edges.amqp.connection import _Connection, pika_parameters
from bridge.edges.amqp.settings import AmqpConnectionSettings
from bridge.edges.tcp.link import LegacyLink
from bridge.edges.tcp.protocol import LegacyFrameProtocol


class NoDelayTransport:
    """The little of a TCP transport these protocols touch, recording what they asked of TCP_NODELAY.

    Not ``twisted.internet.testing.StringTransport``: importing that module declares zope
    interfaces on ``collections.abc`` classes, which breaks xmlschema for every later test.
    """

    no_delay: bool | None = None

    def getPeer(self) -> IPv4Address:
        return IPv4Address("TCP", "127.0.0.1", 40000)

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.no_delay = enabled


class QuietHandler:
    def on_lrm_connected(self) -> None:
        pass


def test_legacy_link_turns_nagle_off():
    """Acks and answers to the LRM are small writes: 40 ms of delayed ACK each without this."""
    transport = NoDelayTransport()
    protocol = LegacyFrameProtocol(LegacyLink(QuietHandler(), framing="stx-etx", max_frame=4096))
    protocol.makeConnection(transport)
    assert transport.no_delay is True


def test_amqp_connection_turns_nagle_off():
    """pika writes a publish as several frames; with Nagle the second waited for the broker's ACK."""
    settings = AmqpConnectionSettings(host="127.0.0.1", port=5672, vhost="/", tls=False, username="u",
                                      password="p")
    transport = NoDelayTransport()
    connection = _Connection(pika_parameters(settings))
    connection.transport = transport
    connection.connectionMade()
    assert transport.no_delay is True

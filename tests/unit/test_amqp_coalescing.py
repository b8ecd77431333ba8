"""pika's frames of one reactor turn leave as one write (issue 18: one TLS record, not one per frame). No sockets."""

from __future__ import annotations

import pika
from pika import spec
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from bridge.edges.amqp.connection import CoalescingTransport, _Connection, pika_parameters
from bridge.edges.amqp.settings import AmqpConnectionSettings


class RecordingTransport:
    """The little of a transport pika and our protocol touch, recording writes and closes."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed: str | None = None
        self.no_delay: bool | None = None

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def loseConnection(self) -> None:
        self.closed = "lose"

    def abortConnection(self) -> None:
        self.closed = "abort"

    def getPeer(self) -> IPv4Address:
        return IPv4Address("TCP", "127.0.0.1", 5671)

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.no_delay = enabled


def test_writes_of_one_turn_leave_as_one_in_order():
    clock, transport = Clock(), RecordingTransport()
    coalescing = CoalescingTransport(transport, clock)
    for chunk in (b"method", b"header", b"body"):
        coalescing.write(chunk)
    assert transport.writes == []  # still this turn
    clock.advance(0)
    coalescing.writeSequence([b"ack1", b"ack2"])
    clock.advance(0)
    assert transport.writes == [b"methodheaderbody", b"ack1ack2"] and coalescing.writes == 2


def test_closing_hands_on_what_is_kept_and_aborting_drops_it():
    clock, transport = Clock(), RecordingTransport()
    coalescing = CoalescingTransport(transport, clock)
    coalescing.write(b"Connection.Close")
    coalescing.loseConnection()
    assert (transport.writes, transport.closed) == ([b"Connection.Close"], "lose")
    coalescing.write(b"never sent")
    coalescing.abortConnection()
    clock.advance(0)
    assert (transport.writes, transport.closed) == ([b"Connection.Close"], "abort")
    assert coalescing.getPeer().port == 5671  # anything else is the transport's


def test_a_publish_is_one_write_not_three():
    """Through pika itself: the protocol header, then a publish's method, header and body frames, one write each turn.

    Before, pika wrote each frame to the transport at once: four writes here (each its own TLS record).
    """
    settings = AmqpConnectionSettings(host="127.0.0.1", port=5672, vhost="/", tls=False, username="u", password="p")
    clock, transport = Clock(), RecordingTransport()
    connection = _Connection(pika_parameters(settings), custom_reactor=clock)
    connection.makeConnection(transport)
    assert transport.no_delay is True and connection.transport is transport
    clock.advance(0)
    assert len(transport.writes) == 1 and transport.writes[0].startswith(b"AMQP")
    body = b'{"distributionID": "x"}' * 10
    connection._impl._body_max_length = 131_064  # what Connection.Tune would have set (frame_max - 8)
    connection._impl._send_message(1, spec.Basic.Publish(exchange="hubsante", routing_key="k", mandatory=True),
                                   (pika.BasicProperties(delivery_mode=2), body))
    assert len(transport.writes) == 1
    clock.advance(0)
    assert len(transport.writes) == 2 and transport.writes[1].endswith(body + b"\xce")  # body frame last, frame-end
    connection.coalescing.write(b"late")
    connection.connectionLost(Failure(ConnectionDone()))
    assert connection.coalescing is not None and connection.coalescing._pending == []

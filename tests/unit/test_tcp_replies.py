"""The legacy TCP link writes its replies in the frames' arrival order, each once its own frame is handled (no sockets)."""

from __future__ import annotations

import warnings

from twisted.internet import defer
from twisted.internet.address import IPv4Address

from bridge.app.ports import FrameHandled
from bridge.core.framing import frame
from bridge.edges.tcp.link import LegacyLink
from bridge.edges.tcp.protocol import LegacyFrameProtocol


class Transport:
    """The little of a TCP transport the protocol touches; records what is written."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def getPeer(self) -> IPv4Address:
        return IPv4Address("TCP", "127.0.0.1", 40000)

    def setTcpNoDelay(self, enabled: bool) -> None:
        pass

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def loseConnection(self) -> None:
        pass


class Handler:
    """Each frame's reply is a Deferred the test fires (or a plain value, or an exception)."""

    def __init__(self) -> None:
        self.pending: dict[bytes, defer.Deferred] = {}

    def on_lrm_connected(self) -> None:
        pass

    def on_legacy_frame(self, payload: bytes):
        if payload.startswith(b"now"):
            return b"ack " + payload
        if payload.startswith(b"boom"):
            raise RuntimeError("handler bug")
        handled = self.pending[payload] = FrameHandled()
        return handled

    def on_legacy_garbage(self, data, error) -> None:
        raise AssertionError("no garbage here")


def _connected() -> tuple[Handler, Transport, LegacyFrameProtocol]:
    handler, transport = Handler(), Transport()
    protocol = LegacyFrameProtocol(LegacyLink(handler, framing="stx-etx", max_frame=4096))
    protocol.makeConnection(transport)
    return handler, transport, protocol


def test_a_later_reply_waits_for_every_earlier_one():
    """Frames handled out of order are answered in arrival order; a frame with no reply does not block the rest."""
    handler, transport, protocol = _connected()
    protocol.dataReceived(frame(b"one", "stx-etx") + frame(b"two", "stx-etx") + frame(b"now3", "stx-etx")
                          + frame(b"four", "stx-etx"))
    assert transport.written == []  # "now3" is ready, but "one" and "two" are not
    handler.pending[b"two"].callback(b"ack two")
    handler.pending[b"four"].callback(b"ack four")
    assert transport.written == []
    handler.pending[b"one"].callback(None)  # no reply for this one (e.g. a duplicate the profile does not ack)
    assert transport.written == [frame(b"ack two", "stx-etx"), frame(b"ack now3", "stx-etx"),
                                 frame(b"ack four", "stx-etx")]


def test_a_failed_frame_gets_no_reply_and_does_not_stop_the_stream():
    """A handler that raises or errbacks: that frame gets no reply, the next ones are still answered in order."""
    handler, transport, protocol = _connected()
    protocol.dataReceived(frame(b"one", "stx-etx") + frame(b"boom", "stx-etx") + frame(b"now2", "stx-etx"))
    assert transport.written == []
    handler.pending[b"one"].errback(RuntimeError("store gone"))
    assert transport.written == [frame(b"ack now2", "stx-etx")]
    protocol.dataReceived(frame(b"now3", "stx-etx"))
    assert transport.written[-1] == frame(b"ack now3", "stx-etx")


def test_no_reply_is_written_after_the_connection_closed():
    handler, transport, protocol = _connected()
    protocol.dataReceived(frame(b"one", "stx-etx"))
    protocol.connectionLost(None)
    handler.pending[b"one"].callback(b"ack one")
    assert transport.written == []


def test_replies_chain_no_deferred_per_frame():
    """Ordering the replies does not chain Deferreds: one callback pair is added to each frame's Deferred
    (a queue Deferred waiting on it added a second one per frame, and four callbacks in all)."""
    handler, _transport, protocol = _connected()
    protocol.dataReceived(frame(b"one", "stx-etx") + frame(b"two", "stx-etx"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Deferred.callbacks: read here only
        assert [len(handler.pending[name].callbacks) for name in (b"one", b"two")] == [1, 1]

"""The legacy TCP link: listens for (or connects to) the LRM and routes frames.

``LegacyLink`` is what the service talks to. Inbound, each complete frame goes
to ``handler.on_legacy_frame(frame)`` which returns (or fires a Deferred with)
the reply payload to write back: the profile's ack once the frame is durably
stored, its nack when the store refuses it. Outbound, ``send(payload)`` writes a
framed message to the connected LRM, or raises :class:`LrmNotConnected` so the
caller keeps the message in its inbox and tries again when the LRM is back.
"""

from __future__ import annotations

from typing import Protocol as TypingProtocol

import structlog
from twisted.internet import defer
from twisted.internet.protocol import Factory, ReconnectingClientFactory

from bridge.app.ports import LegacyUnavailable
from bridge.core.errors import InboundError
from bridge.core.framing import Deframer
from bridge.core.framing import frame as frame_payload
from bridge.edges.tcp.protocol import LegacyFrameProtocol

log = structlog.get_logger("bridge.legacy.tcp")


class LrmNotConnected(LegacyUnavailable):
    """No LRM connection is open to hand a message to."""


class LegacyFrameHandler(TypingProtocol):
    def on_legacy_frame(self, frame: bytes) -> bytes | None | defer.Deferred: ...

    def on_legacy_garbage(self, data: bytes, error: InboundError) -> None: ...

    def on_lrm_connected(self) -> None: ...


class LegacyLink:
    """Framing settings + the live connections of one legacy link."""

    def __init__(self, handler: LegacyFrameHandler, *, framing: str, max_frame: int) -> None:
        self.handler = handler
        self.framing = framing
        self.max_frame = max_frame
        self.connections: list[LegacyFrameProtocol] = []
        self.port = None  # listening port, in server mode

    # --- used by the protocol -------------------------------------------------
    def new_deframer(self) -> Deframer:
        return Deframer(self.framing, max_frame=self.max_frame)

    def frame(self, payload: bytes) -> bytes:
        return frame_payload(payload, self.framing)

    def connection_made(self, proto: LegacyFrameProtocol) -> None:
        self.connections.append(proto)
        peer = proto.transport.getPeer()
        log.info("lrm_connected", peer=f"{peer.host}:{peer.port}")
        self.handler.on_lrm_connected()

    def connection_lost(self, proto: LegacyFrameProtocol) -> None:
        if proto in self.connections:
            self.connections.remove(proto)
        log.info("lrm_disconnected", open_connections=len(self.connections))

    def on_frame(self, frame: bytes) -> defer.Deferred:
        return defer.maybeDeferred(self.handler.on_legacy_frame, frame)

    def framing_error(self, data: bytes, error: InboundError) -> None:
        log.warning("legacy_framing_error", error=error.message)
        self.handler.on_legacy_garbage(data, error)

    def frame_failed(self, frame: bytes, error: Exception) -> None:
        log.error("legacy_frame_handler_failed", error=repr(error))

    # --- used by the service --------------------------------------------------
    @property
    def connected(self) -> bool:
        return bool(self.connections)

    def send(self, payload: bytes) -> None:
        """Write one message to the LRM: the latest connection that has sent a frame, else the latest.

        A TCP health probe that connects and closes must not be handed the answers.
        """
        if not self.connections:
            raise LrmNotConnected("no LRM connection is open")
        speaking = [proto for proto in self.connections if proto.spoke]
        (speaking or self.connections)[-1].send_payload(payload)

    def listen(self, reactor, host: str, port: int):
        """Server mode: the LRM connects to the bridge."""
        factory = Factory.forProtocol(lambda: LegacyFrameProtocol(self))
        self.port = reactor.listenTCP(port, factory, interface=host)
        return self.port

    def connect(self, reactor, host: str, port: int) -> ReconnectingClientFactory:
        """Client mode: the bridge connects to the LRM and reconnects with backoff."""
        link = self

        class _Factory(ReconnectingClientFactory):
            maxDelay = 30
            factor = 2.0

            def buildProtocol(self, addr):
                self.resetDelay()
                return LegacyFrameProtocol(link)

        factory = _Factory()
        reactor.connectTCP(host, port, factory)
        return factory

    def close(self) -> defer.Deferred:
        waits = []
        if self.port is not None:
            waits.append(defer.maybeDeferred(self.port.stopListening))
        for proto in list(self.connections):
            proto.transport.loseConnection()
        return defer.DeferredList(waits)

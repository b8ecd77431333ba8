"""The legacy TCP link: listens for (or connects to) the LRM and routes frames.

``LegacyLink`` is what the service talks to. Inbound, each complete frame goes
to ``handler.on_legacy_frame(frame)`` which returns (or fires a Deferred with)
the reply payload to write back: the profile's ack once the frame is durably
stored, its nack when the store refuses it. Outbound, ``send(payload)`` writes a
framed message to the LRM session, or raises :class:`LrmNotConnected` so the
caller keeps the message in its inbox and tries again when the LRM is back.

Which connection is the LRM (docs/security.md, "Legacy link"):

- a connection from an address outside ``allowed_peers`` is closed at once,
  before a byte is read (default: loopback only);
- one connection at a time is *the LRM session*, the only one handed Hub
  messages. The first allowed connection takes the session; a later one takes it
  over only by sending a frame that is a valid message (the LRM reconnecting);
- a connection that has not yet sent a valid frame and sends a refused one
  (garbage) loses the session, and never gets it back until it sends a valid one;
- after ``max_refused_frames`` refused frames since its last valid one, a
  connection is closed and the bytes it still had queued go to one collapsed
  dead letter with the count (30,000 garbage frames make 20 + 1 dead letters, not 30,000).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any
from typing import Protocol as TypingProtocol

import structlog
from twisted.internet import defer
from twisted.internet.protocol import Factory, ReconnectingClientFactory

from bridge.app.ports import LegacyUnavailable
from bridge.core.errors import InboundError, Issue
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


LOOPBACK = ("127.0.0.0/8", "::1/128")
MAX_REFUSED_FRAMES = 20


def parse_peers(peers: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Addresses or networks (``10.1.2.3``, ``10.1.2.0/24``, ``::1``); a bad entry raises ValueError naming it."""
    return [ipaddress.ip_network(peer, strict=False) for peer in peers]


def _peer(proto: LegacyFrameProtocol) -> tuple[str, str]:
    """The connection's peer address as (host, port) text ("" when the transport has none)."""
    transport: Any = proto.transport
    peer = transport.getPeer() if transport is not None else None
    return str(getattr(peer, "host", "")), str(getattr(peer, "port", ""))


def _hang_up(proto: LegacyFrameProtocol) -> None:
    transport: Any = proto.transport
    if transport is not None:
        transport.loseConnection()


def _peer_allowed(host: str, allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None) -> bool:
    if allowed is None:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in allowed)


class LegacyLink:
    """Framing settings + the live connections of one legacy link, one of which is the LRM session."""

    def __init__(self, handler: LegacyFrameHandler, *, framing: str, max_frame: int,
                 allowed_peers: Iterable[str] | None = LOOPBACK, max_refused_frames: int = MAX_REFUSED_FRAMES,
                 on_refused_peer=None) -> None:
        self.handler = handler
        self.framing = framing
        self.max_frame = max_frame
        self.allowed = None if allowed_peers is None else parse_peers(allowed_peers)
        self.max_refused_frames = max_refused_frames
        self.on_refused_peer = on_refused_peer  # metrics hook: called with the peer host
        self.connections: list[LegacyFrameProtocol] = []
        self.session: LegacyFrameProtocol | None = None
        self._client_mode = False  # we dialled the configured LRM: its address is ours to trust
        self.port = None  # listening port, in server mode

    # --- used by the protocol -------------------------------------------------
    def new_deframer(self) -> Deframer:
        return Deframer(self.framing, max_frame=self.max_frame)

    def frame(self, payload: bytes) -> bytes:
        return frame_payload(payload, self.framing)

    def connection_made(self, proto: LegacyFrameProtocol) -> bool:
        """Register a connection; False (and closed) when its address is not an allowed LRM peer."""
        host, port = _peer(proto)
        if not self._client_mode and not _peer_allowed(host, self.allowed):
            log.warning("lrm_connection_refused", peer=f"{host}:{port}",
                        reason="address not in legacy.allowed_peers")
            if self.on_refused_peer is not None:
                self.on_refused_peer(host)
            _hang_up(proto)
            return False
        self.connections.append(proto)
        log.info("lrm_connected", peer=f"{host}:{port}", session=self.session is None)
        if self.session is None:
            self._take_session(proto, "first allowed connection")
        return True

    def connection_lost(self, proto: LegacyFrameProtocol) -> None:
        if proto in self.connections:
            self.connections.remove(proto)
        if proto is self.session:
            self.session = None
            candidates = [c for c in self.connections if c.valid_frames] or [
                c for c in self.connections if not c.refused_frames]
            if candidates:
                self._take_session(candidates[-1], "previous session closed")
        log.info("lrm_disconnected", open_connections=len(self.connections), session=self.session is not None)

    def _take_session(self, proto: LegacyFrameProtocol, why: str) -> None:
        previous, self.session = self.session, proto
        host, port = _peer(proto)
        log.info("lrm_session", peer=f"{host}:{port}", why=why)
        if previous is not None and previous in self.connections:
            log.warning("lrm_session_replaced", reason=why)
            _hang_up(previous)
        self.handler.on_lrm_connected()

    def on_frame(self, frame: bytes, proto: LegacyFrameProtocol | None = None) -> defer.Deferred:
        try:
            handled = self.handler.on_legacy_frame(frame)
        except Exception:  # noqa: BLE001 - maybeDeferred's behaviour: the failure goes to the errback
            return defer.fail()
        if proto is not None:
            self._judge(proto, bool(getattr(handled, "accepted", True)))
        return handled if isinstance(handled, defer.Deferred) else defer.succeed(handled)

    def _judge(self, proto: LegacyFrameProtocol, accepted: bool) -> None:
        """A valid frame earns (or keeps) the session; garbage loses an unproven session, then the connection."""
        if accepted:
            proto.valid_frames += 1
            proto.refused_frames = 0
            if proto is not self.session:
                self._take_session(proto, "valid frame from a new connection")
            return
        proto.refused_frames += 1
        if proto is self.session and not proto.valid_frames:
            self.session = None
            log.warning("lrm_session_withdrawn", reason="refused frame before any valid one")
        if proto.refused_frames >= self.max_refused_frames:
            proto.close_for_garbage()

    def framing_error(self, data: bytes, error: InboundError) -> None:
        log.warning("legacy_framing_error", error=error.message)
        self.handler.on_legacy_garbage(data, error)

    def frame_failed(self, frame: bytes, error: Exception) -> None:
        log.error("legacy_frame_handler_failed", error=repr(error))

    # --- used by the service --------------------------------------------------
    def garbage_collapsed(self, proto: LegacyFrameProtocol, rest: bytes) -> None:
        """One dead letter for what a closed garbage connection still had queued, with the count."""
        error = InboundError(
            f"connection closed after {proto.refused_frames} refused frames in a row; "
            f"{len(rest)} more bytes it sent are parked here unread",
            [Issue("connection", f"{proto.refused_frames} refused frames", "garbage-limit")])
        log.warning("legacy_connection_closed_for_garbage", refused=proto.refused_frames, unread_bytes=len(rest))
        self.handler.on_legacy_garbage(rest, error)

    @property
    def connected(self) -> bool:
        return self.session is not None

    def send(self, payload: bytes) -> None:
        """Write one message to the LRM session (never to a probe, a refused peer or a garbage speaker)."""
        if self.session is None:
            raise LrmNotConnected("no LRM session is open")
        self.session.send_payload(payload)

    def listen(self, reactor, host: str, port: int):
        """Server mode: the LRM connects to the bridge."""
        factory = Factory.forProtocol(lambda: LegacyFrameProtocol(self))
        self.port = reactor.listenTCP(port, factory, interface=host)
        return self.port

    def connect(self, reactor, host: str, port: int) -> ReconnectingClientFactory:
        """Client mode: the bridge connects to the LRM and reconnects with backoff."""
        link = self
        self._client_mode = True

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

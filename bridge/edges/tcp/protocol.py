"""One legacy TCP connection: bytes in, frames out, replies back in order.

The protocol holds no translation logic. It cuts the byte stream into frames
with the sans-IO :mod:`bridge.core.framing` deframer, hands each frame to the
link's ``on_frame`` callback as soon as it is complete (so frames arriving
together share one group commit) and writes the replies strictly in the order
the frames arrived, each once its own processing is done.
A framing error (oversize frame, garbage) is the peer's fault: it is reported
to the link, which dead-letters the bytes, and the connection is closed because
the stream can no longer be trusted to be in sync.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import structlog
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from bridge.core.errors import InboundError
from bridge.core.framing import NEED_DATA

log = structlog.get_logger("bridge.legacy.tcp")

if TYPE_CHECKING:
    from bridge.edges.tcp.link import LegacyLink


class LegacyFrameProtocol(Protocol):
    """Frames a legacy TCP stream and serialises the handling of its frames."""

    def __init__(self, link: LegacyLink) -> None:
        self.link = link
        self.deframer = link.new_deframer()
        # replies in arrival order: [done, reply] per frame, written from the head as soon as the head is done
        # (a chain of Deferreds, each waiting on the previous one, cost four callbacks and a chained Deferred each)
        self._replies: deque[list[Any]] = deque()
        self._closing = False
        self.valid_frames = 0  # frames taken as valid messages (a health probe never sends one)
        self.refused_frames = 0  # frames dead-lettered since the last valid one
        self._noise_reported = 0

    def connectionMade(self) -> None:
        # acks and answers are small writes: do not let Nagle hold them for the LRM's delayed ACK
        if hasattr(self.transport, "setTcpNoDelay"):
            self.transport.setTcpNoDelay(True)
        if not self.link.connection_made(self):
            self._closing = True  # refused peer: nothing it sends is read

    def _report_noise(self) -> None:
        """Bytes outside any STX/ETX frame are skipped as line noise: never silently (they are never acked)."""
        skipped = self.deframer.skipped_bytes - self._noise_reported
        if skipped:
            self._noise_reported = self.deframer.skipped_bytes
            log.warning("legacy_noise_skipped", bytes=skipped, count=self.deframer.skipped_bytes)

    def connectionLost(self, reason: Failure = None) -> None:
        self._closing = True
        self.link.connection_lost(self)

    def close_for_garbage(self) -> None:
        """Too many refused frames: stop reading, park what is still queued as one dead letter, hang up."""
        self._closing = True
        self.link.garbage_collapsed(self, self.deframer.take_buffered())
        transport: Any = self.transport
        transport.loseConnection()

    def dataReceived(self, data: bytes) -> None:
        if self._closing:
            return
        try:
            self.deframer.feed(data)
            while True:
                frame = self.deframer.next_frame()
                if frame is NEED_DATA:
                    self._report_noise()
                    return
                handled = self.link.on_frame(frame, self)
                slot: list[Any] = [False, None]
                self._replies.append(slot)
                handled.addCallbacks(self._done, self._failed, callbackArgs=(slot,), errbackArgs=(slot, frame))
                if self._closing:  # closed for garbage while handling this frame
                    return
        except InboundError as exc:
            self._closing = True
            self.link.framing_error(self.deframer.refused or data, exc)  # all the refused bytes, not the last read
            self.transport.loseConnection()

    def _done(self, reply: bytes | None, slot: list[Any]) -> None:
        slot[0], slot[1] = True, reply
        self._write_ready()

    def _failed(self, failure: Failure, slot: list[Any], frame: bytes) -> None:
        # the link decides what a failure means; one frame never kills the stream (no reply for this one)
        slot[0] = True
        try:
            self.link.frame_failed(frame, failure.value)
        finally:
            self._write_ready()

    def _write_ready(self) -> None:
        """Write the replies that are ready, in arrival order: a reply waits for every earlier frame's."""
        replies = self._replies
        while replies and replies[0][0]:
            reply = replies.popleft()[1]
            if reply and not self._closing:
                self.send_payload(reply)

    def send_payload(self, payload: bytes) -> None:
        """Frame ``payload`` and write it to the LRM."""
        self.transport.write(self.link.frame(payload))

"""Framing of legacy 15-18 TCP links, sans-IO in the h11 style.

A legacy link is a byte stream; the LRM cuts it into messages with one of three
framings: a newline after each message, STX (0x02) ... ETX (0x03) around each
message, or a 4-byte big-endian length before each message. A
:class:`Deframer` is fed whatever bytes the socket produced and hands back
complete frames one by one; it never blocks, never reads a socket, and never
crashes on garbage: noise outside STX/ETX is skipped and counted, and a frame
over ``max_frame`` raises :class:`MessageTooLarge` (the link should then be
closed: the stream can no longer be trusted to be in sync).
"""

from __future__ import annotations

import struct
from typing import Final, Literal

from bridge.core.errors import Issue, MessageTooLarge

Framing = Literal["newline", "stx-etx", "length-prefix"]
FRAMINGS: Final = ("newline", "stx-etx", "length-prefix")
STX: Final = b"\x02"
ETX: Final = b"\x03"
DEFAULT_MAX_FRAME: Final = 1024 * 1024


class _NeedData:
    """Sentinel: no complete frame buffered yet."""

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = _NeedData()


def frame(payload: bytes, framing: Framing) -> bytes:
    """Wrap one message for the wire."""
    if framing == "newline":
        if b"\n" in payload:
            raise ValueError("a newline-framed payload cannot contain a newline")
        return payload + b"\n"
    if framing == "stx-etx":
        if STX in payload or ETX in payload:
            raise ValueError("an STX/ETX-framed payload cannot contain STX or ETX")
        return STX + payload + ETX
    if framing == "length-prefix":
        return struct.pack(">I", len(payload)) + payload
    raise ValueError(f"unknown framing {framing!r}; choose one of {', '.join(FRAMINGS)}")


class Deframer:
    """Cuts a byte stream into frames; feed it bytes, then call :meth:`next_frame` until NEED_DATA."""

    def __init__(self, framing: Framing, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        if framing not in FRAMINGS:
            raise ValueError(f"unknown framing {framing!r}; choose one of {', '.join(FRAMINGS)}")
        self.framing = framing
        self.max_frame = max_frame
        self.skipped_bytes = 0
        self.refused = b""
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        """Append bytes received from the link."""
        self._buffer += data

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as a frame (trailing partial data)."""
        return len(self._buffer)

    def take_buffered(self) -> bytes:
        """Remove and return the bytes not yet returned as a frame (what a link closing on a peer leaves unread)."""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    def next_frame(self) -> bytes | _NeedData:
        """The next complete frame's payload, or NEED_DATA."""
        if self.framing == "newline":
            return self._next_line()
        if self.framing == "stx-etx":
            return self._next_stx_etx()
        return self._next_length_prefixed()

    def frames(self) -> list[bytes]:
        """Every complete frame buffered now."""
        found: list[bytes] = []
        while not isinstance(payload := self.next_frame(), _NeedData):
            found.append(payload)
        return found

    def _too_large(self, size: int) -> MessageTooLarge:
        # Kept for the dead-letter entry: the refused bytes as received (at most max_frame + one read).
        self.refused = bytes(self._buffer)
        self._buffer.clear()
        return MessageTooLarge(
            f"{self.framing} frame of {size} bytes or more exceeds the limit of {self.max_frame}",
            [Issue("frame", f"size {size} > {self.max_frame}", "too-large")],
        )

    def _next_line(self) -> bytes | _NeedData:
        end = self._buffer.find(b"\n")
        if end < 0:
            if len(self._buffer) > self.max_frame:
                raise self._too_large(len(self._buffer))
            return NEED_DATA
        if end > self.max_frame:
            raise self._too_large(end)
        payload = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        return payload[:-1] if payload.endswith(b"\r") else payload

    def _next_stx_etx(self) -> bytes | _NeedData:
        # Iterative and linear: a frame starts at the last STX before the first ETX, so a run
        # of 100,000 STX bytes (each one cutting the frame before it) is one skip, not 100,000
        # resynchronisations (this used to recurse once per STX: RecursionError at ~1,000).
        while True:
            end = self._buffer.find(ETX)
            start = self._buffer.rfind(STX, 0, end if end >= 0 else len(self._buffer))
            if start >= 0:
                break
            # no frame has begun: everything up to and with the ETX (or everything) is noise
            noise = end + 1 if end >= 0 else len(self._buffer)
            self.skipped_bytes += noise
            del self._buffer[:noise]
            if end < 0:
                return NEED_DATA
        if start:
            self.skipped_bytes += start
            del self._buffer[:start]
            end = end - start if end >= 0 else -1
        if end < 0:
            if len(self._buffer) - 1 > self.max_frame:
                raise self._too_large(len(self._buffer) - 1)
            return NEED_DATA
        if end - 1 > self.max_frame:
            raise self._too_large(end - 1)
        payload = bytes(self._buffer[1:end])
        del self._buffer[: end + 1]
        return payload

    def _next_length_prefixed(self) -> bytes | _NeedData:
        if len(self._buffer) < 4:
            return NEED_DATA
        (size,) = struct.unpack_from(">I", self._buffer)
        if size > self.max_frame:
            raise self._too_large(size)
        if len(self._buffer) < 4 + size:
            return NEED_DATA
        payload = bytes(self._buffer[4 : 4 + size])
        del self._buffer[: 4 + size]
        return payload

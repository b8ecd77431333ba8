"""Legacy TCP framing: whole, byte by byte, with trailing data, oversize and garbage."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.core.errors import MessageTooLarge
from bridge.core.framing import FRAMINGS, NEED_DATA, Deframer, frame

PAYLOADS = [b"NUM=1\r\nNAT=INC", "R\xe9sum\xe9 caf\xe9".encode("cp1252"), b"", b"x" * 300]


@pytest.mark.parametrize("framing", FRAMINGS)
def test_whole_stream_gives_every_frame(framing):
    """Frames fed as one chunk come back in order, each one whole."""
    payloads = [p.replace(b"\n", b" ") for p in PAYLOADS]
    deframer = Deframer(framing)
    deframer.feed(b"".join(frame(p, framing) for p in payloads))
    assert deframer.frames() == payloads
    assert deframer.next_frame() is NEED_DATA


@pytest.mark.parametrize("framing", FRAMINGS)
def test_byte_by_byte_gives_every_frame(framing):
    """Frames fed one byte at a time come back identical."""
    payloads = [p.replace(b"\n", b" ") for p in PAYLOADS]
    deframer = Deframer(framing)
    got = []
    for byte in b"".join(frame(p, framing) for p in payloads):
        deframer.feed(bytes([byte]))
        got += deframer.frames()
    assert got == payloads


@pytest.mark.parametrize("framing", FRAMINGS)
def test_trailing_partial_frame_stays_buffered(framing):
    """A partial frame after a complete one waits for more data."""
    wire = frame(b"first", framing) + frame(b"second", framing)
    deframer = Deframer(framing)
    deframer.feed(wire[:-2])
    assert deframer.frames() == [b"first"]
    assert deframer.buffered > 0
    deframer.feed(wire[-2:])
    assert deframer.frames() == [b"second"]


@pytest.mark.parametrize("framing", FRAMINGS)
def test_oversize_frame_raises(framing):
    """A frame over max_frame raises MessageTooLarge naming the limit."""
    deframer = Deframer(framing, max_frame=10)
    deframer.feed(frame(b"y" * 11, framing))
    with pytest.raises(MessageTooLarge, match="limit of 10"):
        deframer.frames()


@pytest.mark.parametrize("framing", FRAMINGS)
def test_oversize_without_terminator_raises_early(framing):
    """An endless frame is refused before its end arrives, so memory stays bounded."""
    deframer = Deframer(framing, max_frame=10)
    start = frame(b"z" * 100, framing)
    deframer.feed(start[: 4 + 50] if framing == "length-prefix" else start[:-1])
    with pytest.raises(MessageTooLarge):
        deframer.frames()


def test_stx_etx_skips_noise_and_resynchronises():
    """Bytes outside STX/ETX are skipped and counted; a cut frame is abandoned for the next STX."""
    deframer = Deframer("stx-etx")
    deframer.feed(b"noise\x02cut-frame\x02good\x03more noise\x02ok\x03")
    assert deframer.frames() == [b"good", b"ok"]
    assert deframer.skipped_bytes == len(b"noise") + len(b"\x02cut-frame") + len(b"more noise")


def test_newline_strips_carriage_return():
    """CRLF-terminated lines come back without the CR."""
    deframer = Deframer("newline")
    deframer.feed(b"a\r\nb\n")
    assert deframer.frames() == [b"a", b"b"]


def test_frame_refuses_payload_containing_its_delimiter():
    """frame() will not produce an ambiguous wire form."""
    with pytest.raises(ValueError):
        frame(b"a\nb", "newline")
    with pytest.raises(ValueError):
        frame(b"a\x03b", "stx-etx")


def test_unknown_framing_is_refused():
    """An unknown framing name is a configuration error with the choices listed."""
    with pytest.raises(ValueError, match="newline"):
        Deframer("morse")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(framing=st.sampled_from(FRAMINGS), garbage=st.binary(max_size=300),
       cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=5))
def test_garbage_never_crashes(framing, garbage, cuts):
    """Any byte sequence, cut anywhere, yields frames or MessageTooLarge, nothing else."""
    deframer = Deframer(framing, max_frame=64)
    points = sorted({0, len(garbage), *[c % (len(garbage) + 1) for c in cuts]})
    try:
        for start, end in itertools.pairwise(points):
            deframer.feed(garbage[start:end])
            for payload in deframer.frames():
                assert len(payload) <= 64
    except MessageTooLarge:
        pass

"""Issue 12 item 8: the STX/ETX deframer is iterative, so no run of control bytes can crash a link.

It used to recurse once per STX met before an ETX: about 1,000 STX bytes in a row raised
``RecursionError`` inside ``dataReceived`` and the connection dropped.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.core.framing import ETX, STX, Deframer

RUN = 100_000


def _byte_by_byte(deframer: Deframer, data: bytes) -> list[bytes]:
    found: list[bytes] = []
    for position in range(len(data)):
        deframer.feed(data[position:position + 1])
        found += deframer.frames()
    return found


def test_100k_stx_fed_whole():
    """100,000 STX then a frame: one good frame, every STX before it counted as skipped."""
    deframer = Deframer("stx-etx")
    deframer.feed(STX * RUN + b"ok" + ETX)
    assert deframer.frames() == [b"ok"]
    assert deframer.skipped_bytes == RUN - 1
    assert deframer.buffered == 0


def test_100k_stx_fed_byte_by_byte():
    """The same stream one byte per read gives the same frame and the same count."""
    deframer = Deframer("stx-etx")
    assert _byte_by_byte(deframer, STX * RUN + b"ok" + ETX) == [b"ok"]
    assert deframer.skipped_bytes == RUN - 1


def test_100k_etx_and_alternations_fed_whole():
    """Stray ETX runs and STX/ETX-free noise runs are skipped without recursion either."""
    deframer = Deframer("stx-etx")
    deframer.feed(ETX * RUN + (STX + b"x") * RUN + STX + b"good" + ETX + ETX * 10)
    assert deframer.frames() == [b"good"]
    assert deframer.skipped_bytes == RUN + 2 * RUN + 10


def test_endless_stx_run_still_hits_the_frame_limit():
    """A run longer than max_frame with no ETX keeps only the last STX: memory stays bounded."""
    deframer = Deframer("stx-etx", max_frame=1000)
    deframer.feed(STX * RUN)
    assert deframer.frames() == []
    assert deframer.buffered == 1


def _reference(data: bytes) -> list[bytes]:
    """The framing rule stated plainly: a frame is the bytes between an STX and the next ETX
    with no STX in between."""
    frames, current = [], None
    for byte in data:
        if byte == STX[0]:
            current = bytearray()
        elif byte == ETX[0]:
            if current is not None:
                frames.append(bytes(current))
            current = None
        elif current is not None:
            current.append(byte)
    return frames


_RUNS = st.lists(st.tuples(st.sampled_from([STX, ETX, b"a", b"\n"]), st.integers(1, 3000)), max_size=12)


@settings(max_examples=150, deadline=None)
@given(runs=_RUNS, chunk=st.integers(1, 5000))
def test_long_runs_match_the_reference_rule(runs, chunk):
    """Random long runs of STX/ETX/noise, fed whole or in chunks: the reference rule's frames, never an error."""
    data = b"".join(byte * count for byte, count in runs)
    whole = Deframer("stx-etx")
    whole.feed(data)
    chunked = Deframer("stx-etx")
    found: list[bytes] = []
    for position in range(0, len(data), chunk):
        chunked.feed(data[position:position + chunk])
        found += chunked.frames()
    assert whole.frames() == found == _reference(data)

"""Framing attacks over a real loopback TCP connection to the legacy link (private reactor, bounded waits)."""

from __future__ import annotations

import socket

import pytest
from structlog.testing import capture_logs
from twisted.internet.selectreactor import SelectReactor

from bridge.core.framing import ETX, STX, frame
from bridge.edges.tcp.link import LegacyLink
from bridge.testing.hostile import Campaign
from bridge.testing.hostile_cases import hub_create_case, hub_delivery

ROUNDS = 400  # each round: one reactor iteration (<= 10 ms) and 10 ms of fake service time


class Wire:
    """A loopback client socket plus the private reactor serving the link; every wait is bounded."""

    def __init__(self, rig, reactor, port: int) -> None:
        self.rig, self.reactor = rig, reactor
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setblocking(False)
        self.received = b""
        self.closed = False

    def turn(self) -> None:
        self.reactor.iterate(0.01)
        self.rig.clock.advance(0.01)
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return
        except ConnectionResetError:
            chunk = b""
        self.received += chunk
        self.closed = self.closed or chunk == b""

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        for _ in range(ROUNDS):
            if not view:
                return
            try:
                view = view[self.sock.send(view):]
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                return  # the bridge closed the link: what it read is what counts
            self.turn()

    def until(self, condition) -> bool:
        for _ in range(ROUNDS):
            if condition():
                return True
            self.turn()
        return condition()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def link(rig):
    """The rig's service behind a real LegacyLink listening on 127.0.0.1 (a private, non-global reactor)."""
    reactor = SelectReactor()
    legacy = LegacyLink(rig.service, framing=rig.profile.framing, max_frame=rig.profile.max_frame)
    rig.service.attach(hub=rig.client, legacy=legacy)  # Hub messages go to the LRM session on this link
    port = legacy.listen(reactor, "127.0.0.1", 0)
    wires: list[Wire] = []

    def connect() -> Wire:
        before = list(legacy.connections)
        wire = Wire(rig, reactor, port.getHost().port)
        assert wire.until(lambda: any(proto not in before for proto in legacy.connections))
        wires.append(wire)
        return wire

    yield connect
    for wire in wires:
        wire.close()
    legacy.close()
    for _ in range(20):
        reactor.iterate(0.01)
    reactor.disconnectAll()


def test_oversize_frame_is_dead_lettered_and_the_link_closed(rig, link):
    """Past max_frame the bytes go to the dead-letter store as raw framing garbage and the stream is dropped."""
    wire = link()
    wire.send(STX + b"A" * (rig.profile.max_frame + 100) + ETX)
    assert wire.until(lambda: wire.closed), "the bridge should close a stream it can no longer trust"
    [entry] = rig.store.dlq_list()
    assert entry.source == "framing" and "exceeds the limit" in entry.error
    assert entry.original.startswith(STX + b"A" * 1000) and len(entry.original) > rig.profile.max_frame
    again = link()  # the next connection is served normally
    again.send(frame(Campaign(rig).good_frame_bytes(1), "stx-etx"))
    assert again.until(lambda: b"ACK=DEMO-" in again.received)


def test_noise_around_frames_does_not_stop_the_link(rig, link):
    """Binary noise, a cut frame and an empty frame on one connection: each parked, the good frame acked."""
    campaign = Campaign(rig)
    wire = link()
    good = campaign.good_frame_bytes(2)
    with capture_logs() as logs:
        wire.send(b"\xff\x00\x13noise" + STX + good[:60] + STX + b"\x00\x01" + ETX + b"\x07" + STX + ETX
                  + frame(good, "stx-etx"))
        assert wire.until(lambda: b"ACK=DEMO-500002" in wire.received)
    skipped = sum(e["bytes"] for e in logs if e["event"] == "legacy_noise_skipped")
    assert skipped == 8 + 61 + 1  # the noise, the frame cut by a new STX, the byte between frames
    assert not wire.closed
    errors = [entry.error_path for entry in rig.store.dlq_list()]
    assert errors == ["line 1", "NUM_DOSSIER"]  # the garbage frame and the empty frame, each located
    assert campaign.wait_finished("DEMO-500002")


def test_a_frame_cut_by_the_disconnect_is_not_acked(rig, link):
    """A frame the connection loss cut short gets no ack (the LRM keeps it and re-sends); nothing else is lost."""
    campaign = Campaign(rig)
    wire = link()
    wire.send(STX + campaign.good_frame_bytes(3)[:100])
    for _ in range(20):  # let the bridge read the partial frame
        wire.turn()
    wire.close()
    again = link()
    again.send(frame(campaign.good_frame_bytes(3), "stx-etx"))
    assert again.until(lambda: b"ACK=DEMO-500003" in again.received)
    assert wire.received == b""
    assert campaign.wait_finished("DEMO-500003")


def _hub_case_for_the_lrm(rig, n: int) -> None:
    """A createCase from the NexSIS peer reaches the service, to be handed to the LRM session."""
    rig.settled(rig.service.on_hub_message(hub_delivery(hub_create_case(n), tag=n)))


def test_answers_never_go_to_a_garbage_speaking_connection(rig, link):
    """The LRM spoke first; a second connection sending garbage frames is never handed a case (issue 12, item 3)."""
    campaign = Campaign(rig)
    lrm = link()
    lrm.send(frame(campaign.good_frame_bytes(20), "stx-etx"))
    assert lrm.until(lambda: b"ACK=DEMO-500020" in lrm.received)
    intruder = link()
    intruder.send(b"".join(frame(b"NUM_DOSSIER=X%d" % i, "stx-etx") for i in range(3)))
    assert intruder.until(lambda: rig.store.dlq_size() >= 3)
    _hub_case_for_the_lrm(rig, 21)
    assert lrm.until(lambda: b"DEMO-000021" in lrm.received)
    for _ in range(20):
        intruder.turn()
    assert b"DEMO-000021" not in intruder.received and b"NOM" not in intruder.received


def test_a_connection_that_only_sends_garbage_never_becomes_the_lrm(rig, link):
    """First to connect but speaking garbage: it loses the session and the case waits for a real LRM."""
    intruder = link()
    intruder.send(frame(b"garbage", "stx-etx"))
    assert intruder.until(lambda: rig.store.dlq_size() == 1)
    _hub_case_for_the_lrm(rig, 22)
    for _ in range(20):
        intruder.turn()
    assert b"DEMO-000022" not in intruder.received
    assert rig.states("in") == {"received": 1}
    lrm = link()
    lrm.send(frame(Campaign(rig).good_frame_bytes(22), "stx-etx"))
    assert lrm.until(lambda: b"DEMO-000022" in lrm.received)


def test_a_flood_of_garbage_frames_is_capped_and_collapsed(rig, link):
    """Thousands of garbage frames: max_refused_frames dead letters, one collapsed entry, the connection closed."""
    wire = link()
    flood = b"".join(STX + b"x%05d" % i + ETX for i in range(3000))
    wire.send(flood)
    assert wire.until(lambda: wire.closed)
    entries = rig.store.dlq_list()
    assert len(entries) == 20 + 1
    collapsed = entries[-1]
    assert collapsed.source == "framing" and "20 refused frames" in collapsed.error
    assert collapsed.original and collapsed.original in flood
    again = link()  # the link still serves the next connection
    again.send(frame(Campaign(rig).good_frame_bytes(23), "stx-etx"))
    assert again.until(lambda: b"ACK=DEMO-500023" in again.received)


def test_a_peer_outside_allowed_peers_is_closed_unread(rig):
    """legacy.allowed_peers: a connection from another address is closed before a byte is read."""
    reactor = SelectReactor()
    legacy = LegacyLink(rig.service, framing="stx-etx", max_frame=rig.profile.max_frame,
                        allowed_peers=["192.0.2.0/24"])
    port = legacy.listen(reactor, "127.0.0.1", 0)
    wire = Wire(rig, reactor, port.getHost().port)
    try:
        with capture_logs() as logs:
            wire.send(frame(Campaign(rig).good_frame_bytes(24), "stx-etx"))
            assert wire.until(lambda: wire.closed)
        assert any(e["event"] == "lrm_connection_refused" for e in logs)
        assert legacy.connections == [] and legacy.session is None
        assert rig.store.counts() == {} and rig.store.dlq_size() == 0
    finally:
        wire.close()
        legacy.close()
        for _ in range(20):
            reactor.iterate(0.01)
        reactor.disconnectAll()

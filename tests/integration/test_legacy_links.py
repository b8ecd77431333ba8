"""The other legacy link modes: file drop, and the bridge connecting to the LRM (tcp-client)."""

from __future__ import annotations

import socket
import time

import pytest

from bridge.core.framing import NEED_DATA, Deframer, frame
from bridge.runtime.demo import live_demo_frame
from bridge.testing.waiting import wait_until


def _config(tmp_path, legacy: dict):
    from bridge.runtime.config import BridgeConfig

    return BridgeConfig.model_validate({
        "legacy": {"profile": "lrm-alpha-text", **legacy},
        "store": {"path": str(tmp_path / "bridge.sqlite3")},
        "http": {"enabled": False},
        "mappings": {"reload_interval_seconds": 0},
    })


@pytest.fixture
def start(reactor_thread):
    started = []

    def _start(config):
        from bridge.runtime.runner import start_bridge

        running = reactor_thread.call(start_bridge, config, reactor_thread.reactor, timeout=30)
        started.append(running)
        return running

    yield _start
    for running in started:
        reactor_thread.call(running.stop, timeout=30)


def test_file_drop_takes_complete_files_and_writes_answers_atomically(start, tmp_path):
    """A file renamed into the inbox is stored and moved to done/; the answer appears whole in the outbox."""
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    start(_config(tmp_path, {"mode": "file", "inbox_dir": str(inbox), "outbox_dir": str(outbox)}))
    (inbox / ".case-1.tmp").write_bytes(live_demo_frame(4000))  # a writer still busy: not taken
    time.sleep(1.0)
    assert (inbox / ".case-1.tmp").exists()
    (inbox / ".case-1.tmp").rename(inbox / "case-1.txt")
    assert wait_until(lambda: (inbox / "done" / "case-1.txt").exists(), 10)
    assert wait_until(lambda: any(p.name.startswith("msg-") for p in outbox.iterdir()), 20)
    answers = [p for p in outbox.iterdir() if p.name.startswith("msg-")]
    assert all(not p.name.startswith(".") for p in outbox.iterdir())
    assert b"NUM_DOSSIER=DEMO-004000" in answers[0].read_bytes()
    assert (outbox / "case-1.txt.ack").read_bytes() == b"ACK=DEMO-004000"


def test_tcp_client_mode_connects_to_the_lrm(start, tmp_path):
    """In tcp-client mode the bridge dials the LRM, takes its frames and sends the answers back."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(20)
    port = server.getsockname()[1]
    try:
        start(_config(tmp_path, {"mode": "tcp-client", "host": "127.0.0.1", "port": port}))
        conn, _ = server.accept()
        conn.settimeout(0.5)
        conn.sendall(frame(live_demo_frame(4001), "stx-etx"))
        deframer, received = Deframer("stx-etx"), []
        end = time.monotonic() + 20
        while time.monotonic() < end and len(received) < 2:
            try:
                deframer.feed(conn.recv(65536))
            except TimeoutError:
                continue
            while (item := deframer.next_frame()) is not NEED_DATA:
                received.append(item)
        conn.close()
    finally:
        server.close()
    assert received[0] == b"ACK=DEMO-004001"
    assert b"NUM_DOSSIER=DEMO-004001" in received[1] and b"REPONSE=ACC" in received[1]


def test_answers_go_to_the_lrm_not_to_a_health_probe(start, tmp_path):
    """A probe that connects after the LRM (and never sends a frame) is not handed the LRM's answers."""
    from bridge.testing.lrm import LrmClient

    running = start(_config(tmp_path, {"mode": "tcp-server", "host": "127.0.0.1", "port": 0}))
    lrm = LrmClient("127.0.0.1", running.legacy_port)
    probe = socket.create_connection(("127.0.0.1", running.legacy_port), timeout=5)
    try:
        assert wait_until(lambda: len(running.link.connections) == 2, 5)
        lrm.send(live_demo_frame(4002))
        assert lrm.wait_for(lambda c: "DEMO-004002" in c.answers, timeout=20)
    finally:
        probe.close()
        lrm.close()

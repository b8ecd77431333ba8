"""``bridge send``: frames out like an LRM, ACK/NACK printed, exit code by outcome (a loopback fake bridge)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli.main import cli
from bridge.cli.send_cmd import classify
from bridge.core.framing import NEED_DATA, Deframer, frame


@pytest.mark.parametrize(("reply", "kind"), [
    ("ACK=DEMO-1", "ack"), ("NACK=DEMO-1;E1;bad", "nack"), ("NUM_DOSSIER=DEMO-1\r\nX=1", "message"),
])
def test_classify_by_the_profile_templates(reply: str, kind: str) -> None:
    assert classify(reply, "ACK={id}", "NACK={id};{code};{reason}") == kind


def test_classify_numeric_templates() -> None:
    assert classify("1;42;E2;refused", "0;{id}", "1;{id};{code};{reason}") == "nack"
    assert classify("0;42", "0;{id}", "1;{id};{code};{reason}") == "ack"


class FakeBridge:
    """Accepts one connection; answers each stx-etx frame with the next scripted replies (loopback, bounded)."""

    def __init__(self, replies: list[list[bytes]]) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.server.settimeout(10)
        self.port = self.server.getsockname()[1]
        self.replies = replies
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            deframer = Deframer("stx-etx")
            while self.replies:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                deframer.feed(data)
                while (item := deframer.next_frame()) is not NEED_DATA:
                    self.received.append(item)
                    for reply in self.replies.pop(0):
                        conn.sendall(frame(reply, "stx-etx"))

    def close(self) -> None:
        self.server.close()
        self.thread.join(timeout=10)


def _send(tmp_path: Path, port: int, *contents: bytes, timeout: str = "5"):
    files = []
    for n, content in enumerate(contents):
        path = tmp_path / f"frame-{n}.txt"
        path.write_bytes(content)
        files.append(str(path))
    return CliRunner().invoke(cli, ["send", *files, "--profile", "lrm-alpha-text", "--to", f"127.0.0.1:{port}",
                                    "--timeout", timeout])


def test_acked_frames_exit_0_and_handed_over_messages_are_shown(tmp_path: Path) -> None:
    fake = FakeBridge([[b"NUM_DOSSIER=X\r\nREPONSE=1", b"ACK=DEMO-1"], [b"ACK=DEMO-2"]])
    try:
        result = _send(tmp_path, fake.port, b"NUM_DOSSIER=DEMO-1", b"NUM_DOSSIER=DEMO-2")
    finally:
        fake.close()
    assert result.exit_code == 0, result.output
    assert "ACK   " in result.output and "ACK=DEMO-2" in result.output and "MSG" in result.output
    assert fake.received == [b"NUM_DOSSIER=DEMO-1", b"NUM_DOSSIER=DEMO-2"]


def test_a_nack_exits_1(tmp_path: Path) -> None:
    fake = FakeBridge([[b"NACK=DEMO-1;E9;outbox full"]])
    try:
        result = _send(tmp_path, fake.port, b"NUM_DOSSIER=DEMO-1")
    finally:
        fake.close()
    assert result.exit_code == 1 and "NACK" in result.output and "outbox full" in result.output


def test_no_reply_exits_4(tmp_path: Path) -> None:
    fake = FakeBridge([[]])
    try:
        result = _send(tmp_path, fake.port, b"NUM_DOSSIER=DEMO-1", timeout="0.5")
    finally:
        fake.close()
    assert result.exit_code == 4 and "no ACK/NACK" in result.output


def test_nobody_listening_exits_4(tmp_path: Path) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    holder.close()
    result = _send(tmp_path, port, b"X")
    assert result.exit_code == 4 and "cannot connect" in result.output


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["send", str(tmp_path / "missing.txt"), "--profile", "lrm-alpha-text",
                               "--to", "127.0.0.1:1"]).exit_code == 2
    (tmp_path / "f").write_bytes(b"x")
    unknown = runner.invoke(cli, ["send", str(tmp_path / "f"), "--profile", "lrm-gamma", "--to", "127.0.0.1:1"])
    assert unknown.exit_code == 2 and "lrm-alpha-text" in unknown.output
    bad_to = runner.invoke(cli, ["send", str(tmp_path / "f"), "--profile", "lrm-alpha-text", "--to", "nohost"])
    assert bad_to.exit_code == 2

"""The file-drop inbox takes only complete regular files, isolates each entry, and reports a stalled loop (issue 12, item 5)."""

from __future__ import annotations

import os

import pytest
from twisted.internet import defer, task

from bridge.edges.filedrop import NAME_MAX, FileDropLink


class Handler:
    """Records what the link hands over; answers an ack, or refuses names listed in ``refuse``."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.pending: defer.Deferred | None = None
        self.hang = False

    def on_legacy_frame(self, frame: bytes):
        self.frames.append(frame)
        if self.hang:
            self.pending = defer.Deferred()
            return self.pending
        return b"ACK"


@pytest.fixture
def drop(tmp_path):
    clock = task.Clock()
    handler = Handler()
    link = FileDropLink(handler, inbox=tmp_path / "in", outbox=tmp_path / "out", max_bytes=4096, interval=0.5,
                        settle_seconds=1.0)
    link.start(clock)
    yield link, handler, clock
    link.close()


def settle(clock, seconds: float = 3.0) -> None:
    for _ in range(int(seconds / 0.5)):
        clock.advance(0.5)


def test_a_plain_file_is_taken_once_it_settled(drop):
    link, handler, clock = drop
    (link.inbox / "case.txt").write_bytes(b"NUM_DOSSIER=1")
    settle(clock)
    assert handler.frames == [b"NUM_DOSSIER=1"]
    assert (link.inbox / "done" / "case.txt").exists()
    assert (link.outbox / "case.txt.ack").read_bytes() == b"ACK"


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/environ", "/proc/self/mem"])
def test_a_symlink_is_rejected_unread(drop, target):
    """Never followed: the link itself goes to rejected/, nothing of the target reaches the handler."""
    link, handler, clock = drop
    os.symlink(target, link.inbox / "evil.txt")
    (link.inbox / "good.txt").write_bytes(b"GOOD")
    settle(clock)
    assert handler.frames == [b"GOOD"]
    assert os.path.islink(link.inbox / "rejected" / "evil.txt")
    assert link.healthy()


def test_a_fifo_is_rejected_without_blocking(drop):
    link, handler, clock = drop
    os.mkfifo(link.inbox / "pipe.txt")
    settle(clock)
    assert handler.frames == []
    assert (link.inbox / "rejected" / "pipe.txt").exists()


def test_a_hard_link_is_rejected(drop, tmp_path):
    link, handler, clock = drop
    secret = tmp_path / "secret"
    secret.write_bytes(b"TOKEN=xyz")
    os.link(secret, link.inbox / "linked.txt")
    settle(clock)
    assert handler.frames == []
    assert (link.inbox / "rejected" / "linked.txt").exists()


def test_a_file_written_in_place_in_two_parts_is_taken_whole(drop):
    """Size and mtime must stay the same for settle_seconds: the first half alone is never taken."""
    link, handler, clock = drop
    path = link.inbox / "slow.txt"
    path.write_bytes(b"NUM_DOSSIER=1\n")
    clock.advance(0.5)
    clock.advance(0.5)
    with open(path, "ab") as handle:
        handle.write(b"NATURE=CHUT\n")
    settle(clock)
    assert handler.frames == [b"NUM_DOSSIER=1\nNATURE=CHUT\n"]


def test_long_names_work_and_replies_fit(drop):
    """250- and 255-byte names (legal) are taken; the reply's name is shortened to fit NAME_MAX."""
    link, handler, clock = drop
    for length in (250, NAME_MAX):
        (link.inbox / ("a" * (length - 4) + ".txt")).write_bytes(b"X%d" % length)
    settle(clock)
    assert sorted(handler.frames) == [b"X250", b"X255"]
    replies = [p.name for p in link.outbox.iterdir()]
    assert len(replies) == 2 and all(len(name.encode()) <= NAME_MAX and name.endswith(".ack") for name in replies)
    assert link.healthy()


def test_one_failing_entry_never_stops_the_loop(drop, monkeypatch):
    link, handler, clock = drop
    real = link._read

    def flaky(path):
        if path.name == "bad.txt":
            raise OSError(5, "Input/output error")
        return real(path)

    monkeypatch.setattr(link, "_read", flaky)
    (link.inbox / "bad.txt").write_bytes(b"BAD")
    (link.inbox / "good.txt").write_bytes(b"GOOD")
    settle(clock)
    assert handler.frames == [b"GOOD"]
    assert (link.inbox / "rejected" / "bad.txt").exists()
    (link.inbox / "later.txt").write_bytes(b"LATER")
    settle(clock)
    assert handler.frames == [b"GOOD", b"LATER"]
    assert link.healthy()


def test_an_oversize_file_is_rejected(drop):
    link, handler, clock = drop
    (link.inbox / "big.txt").write_bytes(b"x" * 5000)
    settle(clock)
    assert handler.frames == []
    assert (link.inbox / "rejected" / "big.txt").exists()


def test_health_reflects_a_stalled_loop(drop):
    """A poll that never completes (handler stuck) turns healthy() False; /healthz answers 503 from it."""
    link, handler, clock = drop
    settle(clock)
    assert link.healthy()
    handler.hang = True
    (link.inbox / "stuck.txt").write_bytes(b"STUCK")
    settle(clock, 30.0)
    assert handler.frames == [b"STUCK"]
    assert not link.healthy()
    handler.pending.callback(b"ACK")
    settle(clock)
    assert link.healthy()


def test_healthz_answers_503_naming_a_failing_liveness_check():
    from bridge.edges.http.health import HealthzResource

    class Request:
        code = 200

        def setHeader(self, *_):  # Twisted API
            pass

        def setResponseCode(self, code):
            self.code = code

    request = Request()
    body = HealthzResource({"legacy_file_polling": lambda: False}).render_GET(request)
    assert request.code == 503 and b"legacy_file_polling" in body


def test_health_reflects_an_inbox_that_cannot_be_listed(drop):
    """Every poll failing (the folder gone) is a stalled loop too, not a healthy one that logs errors."""
    import shutil

    link, _handler, clock = drop
    settle(clock)
    assert link.healthy()
    shutil.rmtree(link.inbox)
    settle(clock, 30.0)
    assert not link.healthy()
    link.inbox.mkdir()
    settle(clock)
    assert link.healthy()

"""Legacy file-drop link: watch an inbox directory, write to an outbox directory.

Some LRMs exchange files instead of TCP frames. A file is taken only once it
is complete: writers must drop it under a temporary name starting with ``.``
or ending with ``.tmp`` and rename it (the usual convention); the bridge does
the same when it writes, so the LRM never reads half a message. A file is
moved to ``done/`` once the handler has stored it durably, or to
``rejected/`` when the handler refuses it; it is never deleted unread.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import structlog
from twisted.internet import defer, task

log = structlog.get_logger("bridge.legacy.file")


def _is_complete(name: str) -> bool:
    return not (name.startswith(".") or name.endswith(".tmp"))


class FileDropLink:
    """Polls ``inbox`` and hands each complete file to ``handler.on_legacy_frame``."""

    def __init__(self, handler, *, inbox: Path, outbox: Path, max_bytes: int, interval: float = 0.5):
        self.handler = handler
        self.inbox, self.outbox = Path(inbox), Path(outbox)
        self.max_bytes = max_bytes
        self.interval = interval
        self._loop: task.LoopingCall | None = None
        self._counter = 0
        for directory in (self.inbox, self.outbox, self.inbox / "done", self.inbox / "rejected"):
            directory.mkdir(parents=True, exist_ok=True)

    connected = True  # a directory is always "connected"

    def start(self, reactor) -> None:
        self._loop = task.LoopingCall(self.poll)
        self._loop.clock = reactor
        self._loop.start(self.interval, now=True).addErrback(
            lambda f: log.error("file_poll_failed", error=f.getErrorMessage())
        )

    @defer.inlineCallbacks
    def poll(self):
        """Take every complete file in the inbox, oldest first."""
        entries = sorted(
            (entry for entry in os.scandir(self.inbox) if entry.is_file() and _is_complete(entry.name)),
            key=lambda entry: (entry.stat().st_mtime_ns, entry.name),
        )
        for entry in entries:
            path = Path(entry.path)
            if path.stat().st_size > self.max_bytes:
                self._move(path, "rejected")
                log.warning("legacy_file_too_large", file=path.name)
                continue
            data = path.read_bytes()
            try:
                reply = yield defer.maybeDeferred(self.handler.on_legacy_frame, data)
            except Exception as exc:  # noqa: BLE001 - stored nowhere: keep the file for the operator
                log.error("legacy_file_refused", file=path.name, error=str(exc))
                self._move(path, "rejected")
                continue
            self._move(path, "done")
            if reply:
                self.write_reply(path.name, reply)

    def _move(self, path: Path, folder: str) -> None:
        os.replace(path, self.inbox / folder / path.name)

    def write_reply(self, name: str, payload: bytes) -> None:
        self._write(f"{name}.ack", payload)

    def send(self, payload: bytes) -> None:
        """Write one message to the outbox atomically (temporary name, then rename)."""
        self._counter += 1
        # unique across restarts too: the LRM may not have read the previous run's files yet
        self._write(f"msg-{uuid.uuid4().hex[:12]}-{self._counter:08d}.txt", payload)

    def _write(self, name: str, payload: bytes) -> None:
        tmp = self.outbox / f".{name}.tmp"
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.outbox / name)

    def close(self) -> defer.Deferred:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        return defer.succeed(None)

"""Legacy file-drop link: watch an inbox directory, write to an outbox directory.

Some LRMs exchange files instead of TCP frames. What the bridge takes from the
inbox (docs/security.md, "File drop"):

- **only regular files, never links**: each entry is opened with ``O_NOFOLLOW``
  and ``O_NONBLOCK`` and checked with ``fstat`` (regular file, one hard link).
  A symlink (to ``/etc/passwd``, ``/proc/self/environ``...), a FIFO, a device, a
  socket or a hard link to another file is moved to ``rejected/`` unread;
- **only complete files**: a writer drops a file under a temporary name (starting
  with ``.`` or ending with ``.tmp``) and renames it (the usual convention), and
  on top of that a file is taken only once its size, mtime and inode were the same
  at two polls at least ``settle_seconds`` apart; a file written in place in two
  parts is therefore taken whole (or, if the writer pauses longer than the settle
  window, as two messages it wrote, never as half of one silently acked);
- at most ``max_bytes`` are read; a larger file goes to ``rejected/``;
- names up to 255 bytes work: the reply and temporary names are shortened with a
  digest when needed;
- a failure on one entry (unreadable, vanished, a bug) is logged and that entry is
  moved to ``rejected/`` (or skipped until it changes, when even the move fails):
  it never stops the poll loop. :meth:`healthy` says whether the loop has completed
  a poll recently; ``/healthz`` and ``/readyz`` report it.

A taken file is moved to ``done/`` once the handler has stored it durably, or to
``rejected/`` when the handler refuses it; it is never deleted unread. The bridge
writes its own files the same way (temporary name, fsync, rename).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import uuid
from pathlib import Path
from typing import Any

import structlog
from twisted.internet import defer, task

log = structlog.get_logger("bridge.legacy.file")

NAME_MAX = 255  # bytes, on every common Linux file system
STALL_POLLS = 10  # the loop counts as stalled after this many intervals without a completed poll
MIN_STALL_SECONDS = 5.0


def _is_complete(name: str) -> bool:
    return not (name.startswith(".") or name.endswith(".tmp"))


def fit_name(name: str, suffix: str = "", prefix: str = "") -> str:
    """``prefix + name + suffix`` within NAME_MAX bytes: a long name is cut and tagged with a digest of it."""
    whole = f"{prefix}{name}{suffix}"
    if len(whole.encode("utf-8", "surrogateescape")) <= NAME_MAX:
        return whole
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    room = NAME_MAX - len(f"{prefix}~{digest}{suffix}".encode())
    cut = name.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")
    return f"{prefix}{cut}~{digest}{suffix}"


class RefusedEntry(Exception):
    """An inbox entry that is not a plain complete file: moved to rejected/ unread."""


class FileDropLink:
    """Polls ``inbox`` and hands each complete file to ``handler.on_legacy_frame``."""

    def __init__(self, handler: Any, *, inbox: Path, outbox: Path, max_bytes: int, interval: float = 0.5,
                 settle_seconds: float = 1.0) -> None:
        self.handler = handler
        self.inbox, self.outbox = Path(inbox), Path(outbox)
        self.max_bytes = max_bytes
        self.interval = interval
        self.settle_seconds = settle_seconds
        self._loop: task.LoopingCall | None = None
        self._reactor: Any = None
        self._counter = 0
        self._seen: dict[str, tuple[tuple[int, int, int], float]] = {}  # name -> (size, mtime, inode), first seen
        self._stuck: dict[str, tuple[int, int, int]] = {}  # entries whose failure could not even be moved aside
        self.last_poll_done: float | None = None
        for directory in (self.inbox, self.outbox, self.inbox / "done", self.inbox / "rejected"):
            directory.mkdir(parents=True, exist_ok=True)

    connected = True  # a directory is always "connected"

    def start(self, reactor: Any) -> None:
        self._reactor = reactor
        self._loop = task.LoopingCall(self._poll_guarded)
        self._loop.clock = reactor
        self._loop.start(self.interval, now=True).addErrback(
            lambda f: log.error("file_poll_loop_stopped", error=f.getErrorMessage())
        )

    def _now(self) -> float:
        return self._reactor.seconds() if self._reactor is not None else 0.0

    def healthy(self) -> bool:
        """True while the poll loop runs and completed a poll within the last few intervals.

        A poll that fails as a whole (the inbox folder gone or unreadable) does not count.
        """
        if self._loop is None or not self._loop.running or self.last_poll_done is None:
            return False
        return self._now() - self.last_poll_done <= max(STALL_POLLS * self.interval, MIN_STALL_SECONDS)

    @defer.inlineCallbacks
    def _poll_guarded(self) -> Any:
        try:
            yield self.poll()
        except Exception as exc:  # noqa: BLE001 - one bad poll never stops the loop; health sees it
            log.error("file_poll_failed", error=f"{type(exc).__name__}: {exc}")
            return
        self.last_poll_done = self._now()

    @defer.inlineCallbacks
    def poll(self) -> Any:
        """Take every complete, settled regular file in the inbox, oldest first; each entry on its own."""
        now = self._now()
        ready = []
        present = set()
        with os.scandir(self.inbox) as entries:
            for entry in entries:
                present.add(entry.name)
                try:
                    candidate = self._candidate(entry, now)
                except Exception as exc:  # noqa: BLE001
                    self._entry_failed(entry.name, exc)
                    continue
                if candidate is not None:
                    ready.append(candidate)
        for name in set(self._seen) - present:
            del self._seen[name]
        for name in set(self._stuck) - present:
            del self._stuck[name]
        for _mtime, name in sorted(ready):
            try:
                yield self._take(name)
            except Exception as exc:  # noqa: BLE001
                self._entry_failed(name, exc)

    def _candidate(self, entry: os.DirEntry, now: float) -> tuple[int, str] | None:
        name = entry.name
        if not _is_complete(name) or entry.is_dir(follow_symlinks=False):
            return None
        st = entry.stat(follow_symlinks=False)
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        if self._stuck.get(name) == key:
            return None  # failed before and could not be moved aside: wait until it changes
        self._stuck.pop(name, None)
        if not stat.S_ISREG(st.st_mode):  # symlink, FIFO, device, socket: never opened
            raise RefusedEntry(f"not a regular file ({stat.filemode(st.st_mode)})")
        seen = self._seen.get(name)
        if seen is None or seen[0] != key:
            self._seen[name] = (key, now)  # new or still changing: look again later
            return None
        if now - seen[1] < self.settle_seconds:
            return None
        return st.st_mtime_ns, name

    @defer.inlineCallbacks
    def _take(self, name: str) -> Any:
        path = self.inbox / name
        data = self._read(path)
        self._seen.pop(name, None)
        try:
            reply = yield defer.maybeDeferred(self.handler.on_legacy_frame, data)
        except Exception as exc:  # noqa: BLE001 - stored nowhere: keep the file for the operator
            log.error("legacy_file_refused", file=name, error=str(exc))
            self._move(path, "rejected")
            return
        self._move(path, "done")
        if reply:
            self.write_reply(name, reply)

    def _read(self, path: Path) -> bytes:
        """The whole file, opened without following links or blocking, checked to be one plain regular file."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise RefusedEntry("a symbolic link (never followed)") from None
            raise
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise RefusedEntry(f"not a regular file ({stat.filemode(st.st_mode)})")
            if st.st_nlink != 1:
                raise RefusedEntry(f"a hard link ({st.st_nlink} names for one file): not the LRM's own file")
            if st.st_size > self.max_bytes:
                raise RefusedEntry(f"{st.st_size} bytes, over the limit of {self.max_bytes}")
            chunks, total = [], 0
            while chunk := os.read(fd, min(65536, self.max_bytes + 1 - total)):
                chunks.append(chunk)
                total += len(chunk)
                if total > self.max_bytes:
                    raise RefusedEntry(f"grew past the limit of {self.max_bytes} bytes while read")
            return b"".join(chunks)
        finally:
            os.close(fd)

    def _entry_failed(self, name: str, exc: Exception) -> None:
        path = self.inbox / name
        if isinstance(exc, RefusedEntry):
            log.warning("legacy_file_rejected", file=name[:NAME_MAX], reason=str(exc))
        else:
            log.error("legacy_file_failed", file=name[:NAME_MAX], error=f"{type(exc).__name__}: {exc}")
        self._seen.pop(name, None)
        try:
            self._move(path, "rejected")
        except OSError as move_exc:
            log.error("legacy_file_not_moved", file=name[:NAME_MAX], error=repr(move_exc))
            try:
                st = os.lstat(path)
                self._stuck[name] = (st.st_size, st.st_mtime_ns, st.st_ino)
            except OSError:
                pass

    def _move(self, path: Path, folder: str) -> None:
        target = self.inbox / folder / path.name
        if os.path.lexists(target):  # never overwrite an earlier file of the same name
            target = self.inbox / folder / fit_name(path.name, f".{uuid.uuid4().hex[:8]}")
        os.replace(path, target)

    def write_reply(self, name: str, payload: bytes) -> None:
        self._write(fit_name(name, ".ack"), payload)

    def send(self, payload: bytes) -> None:
        """Write one message to the outbox atomically (temporary name, then rename)."""
        self._counter += 1
        # unique across restarts too: the LRM may not have read the previous run's files yet
        self._write(f"msg-{uuid.uuid4().hex[:12]}-{self._counter:08d}.txt", payload)

    def _write(self, name: str, payload: bytes) -> None:
        tmp = self.outbox / f".{uuid.uuid4().hex}.tmp"
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.outbox / name)

    def close(self) -> defer.Deferred:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        return defer.succeed(None)

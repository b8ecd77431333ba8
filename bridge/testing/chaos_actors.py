"""The actors of the crash campaign (``bridge/testing/chaos.py``): the NexSIS peer, the LRM, the bridge process.

Each one counts what it saw so the campaign can judge exactly-once. Every wait
is bounded; the bridge subprocess is killed and stopped by PID only.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from datetime import UTC, datetime
from pathlib import Path

from bridge.core.framing import NEED_DATA, Deframer, frame

SAMU, SDIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"
VHOST = "/15-nexsis_v1.9"
CASE_RE = re.compile(r"CHAOS[0-9a-f]{6}-\d{5}")
REV_RE = re.compile(r"REV-(\d+)")


# ---------------------------------------------------------------------------------- the peer
class ChaosPeer:
    """A NexSIS peer that judges exactly-once: runs in the reactor thread, never crashes."""

    def __init__(self, reactor, own_id: str = SDIS) -> None:
        from bridge.sim.nexsis_rules import PeerRules

        self.reactor = reactor
        self.rules = PeerRules(own_id=own_id)
        self.client = None
        self.seen_ids: set[str] = set()
        self.redeliveries = 0
        self.redelivered_flags = 0
        self.by_key: dict[tuple, set[str]] = defaultdict(set)
        self.final_rev: dict[str, int] = {}
        self.out_of_order = 0
        self.rcrefs = 0
        self.rs_errors: list[str] = []
        self.invalid = 0
        self._outbox: dict[int, bytes] = {}
        self._in_flight: set[int] = set()
        self._next = 0
        self._loop = None

    def start(self, client) -> None:
        from twisted.internet import task

        self.client = client
        self._loop = task.LoopingCall(self.drain)
        self._loop.clock = self.reactor
        self._loop.start(0.5, now=False)

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()

    def on_message(self, delivery) -> None:
        from bridge.core.edxl import unwrap
        from bridge.core.errors import BridgeError
        from bridge.refdata.hub_bodies import decode_hub_body, encode_hub_body
        from bridge.sim.nexsis_rules import replies_for

        self.redelivered_flags += bool(delivery.redelivered)
        try:
            received = unwrap(decode_hub_body(delivery.body, delivery.content_type))
        except BridgeError:
            self.invalid += 1
            return
        if received.distribution_id in self.seen_ids:
            self.redeliveries += 1  # acked, not applied again
            return
        self.seen_ids.add(received.distribution_id)
        text = delivery.body.decode("utf-8", errors="replace")
        case, rev = CASE_RE.search(text), REV_RE.search(text)
        key = (case and case.group(0), rev and int(rev.group(1)), received.payload_name)
        self.by_key[key].add(received.distribution_id)
        if received.payload_name == "createCase" and key[0] and key[1]:
            if key[1] < self.final_rev.get(key[0], 0):
                self.out_of_order += 1
            self.final_rev[key[0]] = key[1]
        now = datetime.now(UTC)
        for reply in replies_for(received, self.rules, now=now, new_uuid=lambda: str(uuid.uuid4())):
            self._outbox[self._next] = encode_hub_body(reply.message, "application/json")
            self._next += 1
        self.drain()

    def on_ack(self, delivery) -> None:
        self.rcrefs += 1

    def on_info(self, delivery) -> None:
        self.rs_errors.append(delivery.body[:300].decode("utf-8", errors="replace"))

    def drain(self) -> None:
        """Publish every reply not yet confirmed (a broker restart fails some: they go again)."""
        from twisted.internet import defer

        if self.client is None or self.client.state != "connected":
            return
        for number, body in list(self._outbox.items()):
            if number in self._in_flight:
                continue
            self._in_flight.add(number)
            d = defer.maybeDeferred(self.client.publish, body, content_type="application/json")
            d.addCallbacks(lambda _, n=number: self._outbox.pop(n, None), lambda _f: None)
            d.addBoth(lambda _, n=number: self._in_flight.discard(n))

    @property
    def replies_pending(self) -> int:
        return len(self._outbox)


# ---------------------------------------------------------------------------------- the LRM
class LrmDriver(threading.Thread):
    """A blocking LRM: sends frames with a window, re-sends the unacked ones after a reconnect."""

    def __init__(self, port: int, frames: list[bytes], *, window: int, framing: str = "stx-etx",
                 encoding: str = "cp1252") -> None:
        super().__init__(name="chaos-lrm", daemon=True)
        self.port, self.frames, self.window = port, frames, window
        self.framing, self.encoding = framing, encoding
        self.pending: deque[int] = deque(range(len(frames)))
        self.in_flight: deque[int] = deque()
        self.acked: set[int] = set()
        self.answers: Counter[str] = Counter()
        self.sends = self.nacks = self.reconnects = self.ack_mismatches = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            except OSError:
                time.sleep(0.1)
                continue
            self.reconnects += 1
            try:
                self._session(sock)
            except OSError:
                pass
            finally:
                sock.close()
                with self.lock:  # not acked on that link: send again, in the same order
                    self.pending.extendleft(reversed(self.in_flight))
                    self.in_flight.clear()

    def _session(self, sock: socket.socket) -> None:
        sock.settimeout(0.1)
        deframer = Deframer(self.framing)
        while not self.stopping.is_set():
            try:
                self._send_window(sock)
            except OSError:  # the bridge died under us: what it sent before is still ours to read
                self._drain(sock, deframer)
                return
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            if not data or not self._feed(deframer, data):
                return

    def _send_window(self, sock: socket.socket) -> None:
        with self.lock:
            while self.pending and len(self.in_flight) < self.window:
                index = self.pending.popleft()
                self.in_flight.append(index)
                self.sends += 1
                sock.sendall(frame(self.frames[index], self.framing))

    def _feed(self, deframer: Deframer, data: bytes) -> bool:
        """Sort every complete frame; False on a nack (drop the link: all unacked goes again, dedup makes it safe)."""
        deframer.feed(data)
        while (item := deframer.next_frame()) is not NEED_DATA:
            if not self._sort(item.decode(self.encoding, errors="replace")):
                return False
        return True

    def _drain(self, sock: socket.socket, deframer: Deframer) -> None:
        """Read what is left in the socket (bounded) after a write failed."""
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data or not self._feed(deframer, data):
                return

    def _sort(self, text: str) -> bool:
        with self.lock:
            if text.startswith(("ACK=", "NACK=")):
                index = self.in_flight.popleft() if self.in_flight else None
                if index is None:
                    return True
                if text.startswith("NACK="):
                    self.nacks += 1
                    self.in_flight.appendleft(index)
                    return False
                if text[4:] not in self.frames[index].decode(self.encoding):
                    self.ack_mismatches += 1
                self.acked.add(index)
                return True
            case = CASE_RE.search(text)
            self.answers[case.group(0) if case else "?"] += 1
            return True


# ---------------------------------------------------------------------------------- the bridge
class BridgeProcess:
    """``bridge run --config`` as a subprocess, killed by PID."""

    def __init__(self, workdir: Path, broker, legacy_port: int) -> None:
        self.workdir, self.broker, self.legacy_port = workdir, broker, legacy_port
        self.store_path = workdir / "bridge.sqlite3"
        self.config_path = workdir / "bridge.toml"
        self.process: subprocess.Popen | None = None
        self.starts = 0
        workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self._config())

    def _config(self) -> str:
        ca, q = self.broker.ca, json.dumps
        return "\n".join([
            "[bridge]", f"client_id = {q(SAMU)}", f"peer_id = {q(SDIS)}",
            "[hub]", 'mode = "amqp"', 'host = "127.0.0.1"', f"port = {self.broker.amqps_port}",
            f"vhost = {q(VHOST)}", f"ca_file = {q(str(ca.ca_cert))}", f"cert_file = {q(str(ca.client_cert(SAMU)))}",
            f"key_file = {q(str(ca.client_key(SAMU)))}", "reconnect_min_seconds = 0.2",
            "reconnect_max_seconds = 1.0", "rcref_deadline_seconds = 120", "heartbeat = 10",
            "[legacy]", 'mode = "tcp-server"', 'host = "127.0.0.1"', f"port = {self.legacy_port}",
            'profile = "lrm-alpha-text"',
            "[store]", f"path = {q(str(self.store_path))}", "max_pending = 1000000",
            "[delivery]", "max_attempts = 100000", "backoff_base = 0.2", "backoff_max = 2.0",
            "[http]", "enabled = false",
            "[mappings]", "reload_interval_seconds = 0",
            "[logging]", 'format = "json"', 'level = "WARNING"', "",
        ])

    def start(self, timeout: float = 60) -> None:
        env = {**os.environ, "HUB_BRIDGE_HOME": str(self.workdir / "home")}
        self.starts += 1
        with open(self.workdir / f"bridge-{self.starts}.log", "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from bridge.cli.main import main; main()", "run", "--config",
                 str(self.config_path)], env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bridge exited with {self.process.returncode}: {self.log_tail()}")
            if _listening(self.legacy_port):
                return
            time.sleep(0.1)
        raise RuntimeError(f"bridge not listening after {timeout} s: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL, no goodbye: the crash under test."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (graceful: in-flight confirms and acks settle), SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 30) -> str:
        path = self.workdir / f"bridge-{self.starts}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def store_counts(self) -> tuple[dict[str, int], int]:
        """(messages by 'direction/state', dead letters), read from the store file (WAL allows it)."""
        if not self.store_path.exists():
            return {}, 0
        conn = sqlite3.connect(f"file:{self.store_path}?mode=ro", uri=True, timeout=10)
        try:
            rows = conn.execute("SELECT direction, state, COUNT(*) FROM messages GROUP BY 1, 2").fetchall()
            dead = conn.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0]
        except sqlite3.OperationalError:
            return {}, 0
        finally:
            conn.close()
        return {f"{d}/{s}": n for d, s, n in rows}, dead

    def count_events(self, event: str) -> int:
        """How many history lines of this kind the store holds."""
        conn = sqlite3.connect(f"file:{self.store_path}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute("SELECT COUNT(*) FROM events WHERE event = ?", (event,)).fetchone()[0]
        finally:
            conn.close()


def _listening(port: int) -> bool:
    """Whether something listens on loopback ``port``, read from /proc/net/tcp.

    Not by connecting: a probe connection is an LRM to the bridge, which would
    hand it the answers waiting in the inbox (and they would be lost with it).
    """
    wanted = f"0100007F:{port:04X}"
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return False
    return any(parts[1] == wanted and parts[3] == "0A" for parts in (line.split() for line in lines))

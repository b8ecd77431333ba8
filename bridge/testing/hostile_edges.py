"""The campaign's edges beyond the service entry points: the file-drop inbox, the HTTP server, a real TCP link.

:class:`Edges` is built by :class:`bridge.testing.hostile.Campaign` on the first
``file``, ``http`` or ``tcp`` case, on the campaign's rig (same service, store and
fake clock):

- ``file``: a :class:`~bridge.edges.filedrop.FileDropLink` on the rig's clock; the
  case's ``name`` says what to drop (``symlink:/etc/passwd``, ``fifo``, ``hardlink``,
  ``long-name:250``, ``two-part``...). Judged on what reached the store or the dead
  letters (a leak of the link's target is *accepted wrongly*), where the entry went,
  and whether the poll loop still takes a good file afterwards (else *crashed*).
- ``http``: the real HTTP resource tree (console API with replay enabled) over an
  in-memory transport; ``data`` is the request target, ``name`` the method. 5xx is
  *crashed*; a secret marker found in the access-log line is *accepted wrongly*.
- ``tcp``: a :class:`~bridge.edges.tcp.link.LegacyLink` on a private reactor and
  loopback sockets; ``name`` is the scenario (``flood``, ``intruder``, ``stream``).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from twisted.internet.address import IPv4Address
from twisted.internet.selectreactor import SelectReactor

from bridge.core.framing import frame
from bridge.testing.hostile import Case, Outcome, replay_logs
from bridge.testing.transport import MemoryTransport

if TYPE_CHECKING:
    from bridge.testing.hostile import Campaign

SECRET = b"HOSTILE-SECRET-7f3a"  # planted in link targets, URLs and environment: must never come back
ROUNDS = 400


class _Wire:
    """One loopback client socket driven together with the private reactor and the rig's clock."""

    def __init__(self, edges: Edges, port: int) -> None:
        self.edges = edges
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setblocking(False)
        self.received = b""
        self.closed = False

    def turn(self) -> None:
        self.edges.reactor.iterate(0.005)
        self.edges.campaign.rig.clock.advance(0.01)
        try:
            chunk = self.sock.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        self.received += chunk
        self.closed = self.closed or chunk == b""

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        for _ in range(ROUNDS * 4):
            if not view:
                return
            try:
                view = view[self.sock.send(view):]
            except BlockingIOError:
                pass
            except OSError:
                return  # the bridge closed the connection: what it read is what counts
            self.turn()

    def turns(self, n: int = 40) -> None:
        for _ in range(n):
            self.turn()

    def close(self) -> None:
        self.sock.close()


class Edges:
    """File drop, HTTP and TCP in front of one campaign's rig."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.rig = campaign.rig
        self.work = Path(self.rig.store.path).parent / "edges"
        self._file: Any = None
        self._site: Any = None
        self.reactor: Any = None
        self._link: Any = None
        self._port: Any = None
        self._n = 0

    # ------------------------------------------------------------------ dispatch
    def feed(self, case: Case) -> tuple[Outcome, str]:
        return {"file": self._feed_file, "http": self._feed_http, "tcp": self._feed_tcp}[case.entry](case)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._link is not None:
            self._link.close()
            for _ in range(20):
                self.reactor.iterate(0.005)
            self.reactor.disconnectAll()

    # ------------------------------------------------------------------ file drop
    def _drop(self) -> Any:
        if self._file is None:
            from bridge.edges.filedrop import FileDropLink

            self._file = FileDropLink(self.rig.service, inbox=self.work / "in", outbox=self.work / "out",
                                      max_bytes=self.rig.profile.max_frame, interval=0.5, settle_seconds=1.0)
            self._file.start(self.rig.clock)
        return self._file

    def _settle(self, seconds: float = 3.0) -> None:
        self.rig.run(seconds, step=0.25)

    def _feed_file(self, case: Case) -> tuple[Outcome, str]:
        drop = self._drop()
        store = self.rig.store
        dlq_before, stored_before = store.dlq_size(), sum(store.counts().values())
        self._n += 1
        kind, _, arg = case.name.partition(":")
        name = f"hostile-{self._n}.txt"
        if kind == "symlink":
            os.symlink(arg, drop.inbox / name)
        elif kind == "fifo":
            os.mkfifo(drop.inbox / name)
        elif kind == "hardlink":
            target = self.work / f"outside-{self._n}"
            target.write_bytes(SECRET)
            os.link(target, drop.inbox / name)
        elif kind == "long-name":
            name = f"{self._n:04d}" + "n" * (int(arg) - 8) + ".txt"
            (drop.inbox / name).write_bytes(case.data)
        elif kind == "two-part":
            half = len(case.data) // 2
            (drop.inbox / name).write_bytes(case.data[:half])
            self.rig.run(0.6, step=0.25)  # the bridge polls the first half
            with open(drop.inbox / name, "ab") as handle:
                handle.write(case.data[half:])
        else:
            (drop.inbox / name).write_bytes(case.data)
        self._settle()
        new_dead = [store.dlq_get(i) for i in range(dlq_before + 1, store.dlq_size() + 1)]
        leaked = [d for d in new_dead if SECRET in d.original or b"root:" in d.original]
        stored = sum(store.counts().values()) - stored_before
        if leaked:
            return Outcome.ACCEPTED_WRONGLY, f"the link's target reached the dead letters ({len(leaked)})"
        if not self._drop_still_takes_files():
            return Outcome.CRASHED, "the poll loop no longer takes a good file"
        if kind in ("symlink", "fifo", "hardlink"):
            if stored or new_dead:
                return Outcome.ACCEPTED_WRONGLY, f"not a plain file, yet {stored} stored / {len(new_dead)} parked"
            if not os.path.lexists(drop.inbox / "rejected" / name):
                return Outcome.LOST, "not in rejected/"
            return Outcome.REFUSED, "moved to rejected/ unread"
        if kind == "two-part":
            whole = [m for m in store.recent(5) if m.direction.value == "out" and m.original == case.data]
            partial = [m for m in store.recent(5) if m.direction.value == "out" and m.original == case.data[:half]]
            if partial:
                return Outcome.ACCEPTED_WRONGLY, "the first half was taken as a message"
            return (Outcome.ACCEPTED, "taken whole") if whole else (Outcome.LOST, "never taken")
        if new_dead:
            return Outcome.DEAD_LETTERED, f"[{new_dead[0].source}] {new_dead[0].error.splitlines()[0][:120]}"
        if stored:
            return Outcome.ACCEPTED, f"{name[:40]}... stored"
        return Outcome.LOST, "neither stored nor parked"

    def _drop_still_takes_files(self) -> bool:
        drop = self._drop()
        self._n += 1
        good = self.campaign.good_frame_bytes(900_000 + self._n)
        (drop.inbox / f"good-{self._n}.txt").write_bytes(good)
        self._settle()
        return (drop.inbox / "done" / f"good-{self._n}.txt").exists() and drop.healthy()

    # ------------------------------------------------------------------ HTTP
    def _http_site(self) -> Any:
        if self._site is None:
            from bridge.edges.http import StoreConsoleProvider, build_root, build_site
            from bridge.edges.metrics import BridgeMetrics

            provider = StoreConsoleProvider(self.rig.store, clock=self.rig.now)
            self._site = build_site(build_root(metrics=BridgeMetrics(), checks={"ok": lambda: True},
                                               provider=provider, allow_replay=True,
                                               replay_token=SECRET.decode()))
        return self._site

    def _feed_http(self, case: Case) -> tuple[Outcome, str]:
        site = self._http_site()
        method = case.name.split(" ", 1)[0] or "GET"
        protocol = site.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
        transport = MemoryTransport(IPv4Address("TCP", "127.0.0.1", 40000), IPv4Address("TCP", "127.0.0.1", 9180))
        protocol.makeConnection(transport)
        lines = [f"{method} ".encode() + case.data + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close",
                 b"Content-Length: 0", b"Referer: http://127.0.0.1/console?token=" + SECRET]
        protocol.dataReceived(b"\r\n".join(lines) + b"\r\n\r\n")
        raw = transport.value()
        protocol.connectionLost(None)
        status_line = raw.split(b"\r\n", 1)[0]
        if not raw and transport.disconnecting:
            return Outcome.REFUSED, "connection closed by the HTTP server (request line too long)"
        try:
            status = int(status_line.split()[1])
        except (IndexError, ValueError):
            return Outcome.CRASHED, f"no HTTP status line: {raw[:80]!r}"
        request = SimpleNamespace(getClientAddress=lambda: transport.peer, method=method.encode(), uri=case.data,
                                  clientproto=b"HTTP/1.1", code=status, sentLength=len(raw),
                                  getHeader=lambda n: {b"referer": lines[4][9:]}.get(n))
        line = site._logFormatter("[ts]", request)
        stalled = replay_logs([{"event": "access", "log_level": "info", "line": line}])
        if stalled is not None:
            return Outcome.HUNG, f"access-log line: {stalled}"
        if SECRET.decode() in line:
            return Outcome.ACCEPTED_WRONGLY, "a secret reached the access log in clear"
        if len(line) > 4096:
            return Outcome.ACCEPTED_WRONGLY, f"a {len(line)}-character access-log line"
        if status >= 500:
            return Outcome.CRASHED, f"HTTP {status}"
        if b"Traceback" in raw:
            return Outcome.ACCEPTED_WRONGLY, "a traceback was sent to the client"
        return (Outcome.REFUSED if status >= 400 else Outcome.ACCEPTED), f"HTTP {status}"

    # ------------------------------------------------------------------ TCP
    def _tcp_link(self) -> Any:
        if self._link is None:
            from bridge.edges.tcp.link import LegacyLink

            self.reactor = SelectReactor()
            self._link = LegacyLink(self.rig.service, framing=self.rig.profile.framing,
                                    max_frame=self.rig.profile.max_frame)
            self._port = self._link.listen(self.reactor, "127.0.0.1", 0)
        return self._link

    def _connect(self) -> _Wire:
        link = self._tcp_link()
        before = list(link.connections)
        wire = _Wire(self, self._port.getHost().port)
        for _ in range(ROUNDS):
            if any(proto not in before for proto in link.connections):
                break
            wire.turn()
        return wire

    def _feed_tcp(self, case: Case) -> tuple[Outcome, str]:
        link = self._tcp_link()
        store = self.rig.store
        framing: Any = self.rig.profile.framing
        dlq_before = store.dlq_size()
        service = self.rig.service
        saved_legacy = service.legacy
        service.legacy = link  # Hub messages now go to the LRM session on this link
        wires: list[_Wire] = []
        try:
            if case.name == "intruder":
                lrm = self._connect()
                wires.append(lrm)
                lrm.send(frame(self.campaign.good_frame_bytes(800_000 + dlq_before), framing))
                lrm.turns()
                intruder = self._connect()
                wires.append(intruder)
                intruder.send(case.data)
                intruder.turns()
                from bridge.testing.hostile_cases import hub_create_case, hub_delivery

                self._n += 1
                self.rig.settled(service.on_hub_message(hub_delivery(hub_create_case(700_000 + self._n))))
                lrm.turns()
                intruder.turns()
                marker = f"DEMO-{700_000 + self._n:06d}".encode()
                if marker in intruder.received:
                    return Outcome.ACCEPTED_WRONGLY, "the garbage-speaking connection was handed a case"
                if marker not in lrm.received:
                    return Outcome.LOST, "the LRM session did not get the case"
                return Outcome.REFUSED, "the intruder never became the LRM session"
            wire = self._connect()
            wires.append(wire)
            wire.send(case.data)
            wire.turns()
            new = store.dlq_size() - dlq_before
            if case.name == "flood":
                limit = link.max_refused_frames + 1
                if new > limit:
                    return Outcome.ACCEPTED_WRONGLY, f"{new} dead letters from one connection (cap {limit})"
                if not wire.closed:
                    return Outcome.HUNG, "the flooding connection is still open"
                return Outcome.REFUSED, f"{new} dead letters, connection closed"
            if new:
                entry = store.dlq_get(store.dlq_size())
                return Outcome.DEAD_LETTERED, f"[{entry.source}] {entry.error.splitlines()[0][:120]}"
            if wire.closed:
                return Outcome.LOST, "connection dropped with nothing parked"
            return Outcome.NOISE_SKIPPED, "nothing framed"
        finally:
            for wire in wires:
                wire.close()
            for _ in range(10):
                self.reactor.iterate(0.005)
            service.legacy = saved_legacy

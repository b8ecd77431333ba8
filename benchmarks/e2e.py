"""End-to-end benchmark on a real RabbitMQ: legacy TCP -> bridge -> Hub -> NexSIS sim -> RC-REF back.

Everything runs as separate processes on loopback, as in production: a private
RabbitMQ node (mTLS + EXTERNAL, test CA), the Hub emulator's dispatcher
(``bridge hub-emulator``, official-schema checks on every message), the
simulated NexSIS peer (``bridge nexsis-sim``) and the bridge itself (``bridge
run --config``, store with synchronous=FULL). This script plays the LRM. All
of them share this machine's cores: the figures are for the whole rig.

Two scenarios (``--scenario``):

- ``case-share``: each case sheet becomes one RC-EDA createCase, which the
  peer acknowledges with an RC-REF (the issue's path: legacy TCP -> bridge ->
  RabbitMQ -> NexSIS sim -> RC-REF back);
- ``assistance`` (the demo's sheets): each also asks for assistance, so it
  makes two Hub messages (createCase + EMSI), and the peer's EMSI answer comes
  back to the LRM (with our RC-REF for it): 6 Hub messages per sheet.

Phase 1 (latency): sheets at a steady rate giving ``--msg-rate`` outbound Hub
messages/s (default 100); per outbound message, the time from the frame's
arrival in the bridge to its end-to-end acknowledgement (RC-REF, or the EMSI
answer when that came first), read from the bridge's store afterwards
(p50/p99), and the bridge's CPU per sheet at that pace (each sheet mostly in reactor
turns of its own, so less dependent on batching than the throughput phase's figure). Phase 2 (throughput): frames as fast as the bridge acks them, with
a bounded window; outbound Hub messages acknowledged end to end per second.
A NACK (outbox full: ``--window`` above ``--max-pending``) is back-pressure:
the sheet it names is sent again after a short pause, as a real LRM would.
``--gap`` then runs ``benchmarks/hot_path.py``'s rounds in this process and prints the
end-to-end-only CPU per sheet (the bridge's throughput-phase CPU minus the in-process steps).
Each phase also prints the store's group COMMITs per sheet (``bridge_store_commits_total`` read from
the bridge's /metrics before and after it, outside the CPU reads; absent from a bridge without it).

    .venv/bin/python benchmarks/e2e.py [--scenario case-share|assistance] [--msg-rate 100]
        [--seconds 10] [--frames 2000] [--window 400] [--max-pending 10000] [--profile DIR [--profile-clock cpu]]
        [--gap]

Prints figures and ratios against the targets; never fails on a figure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bridge.runtime.demo import live_demo_frame
from bridge.testing.lrm import LrmClient
from bridge.testing.rabbitmq import free_port, start_broker

SAMU, SDIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"
VHOST = "/15-nexsis_v1.9"
BRIDGE = Path(sys.executable).with_name("bridge")
TARGETS = {"throughput_msg_s": 1000, "p99_ms": 25, "rss_mb": 150}


# cProfile with a chosen clock: "cpu" (time.process_time) leaves out the time spent waiting (epoll, fsync),
# so the profile says where the process's CPU goes; "wall" is cProfile's default clock.
_PROFILED = """
import cProfile, runpy, sys, time
path, clock = sys.argv[1], sys.argv[2]
sys.argv = ["bridge", *sys.argv[3:]]
profiler = cProfile.Profile(time.process_time if clock == "cpu" else time.perf_counter)
profiler.enable()
try:
    runpy.run_module("bridge.cli.main", run_name="__main__")
except SystemExit:
    pass
finally:
    profiler.disable()
    profiler.dump_stats(path)
"""


def _spawn(args: list[str], log: Path, env: dict, profile: Path | None = None, clock: str = "wall") -> subprocess.Popen:
    """Start ``bridge ARGS``; under cProfile (written at SIGTERM) when ``profile`` names a file."""
    out = open(log, "wb")  # noqa: SIM115 - the child process writes to it after this function returns
    command = [str(BRIDGE), *args] if profile is None else [sys.executable, "-c", _PROFILED, str(profile), clock, *args]
    return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True)


def _stop(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(5)


def _profile_file(directory: Path | None, name: str) -> Path | None:
    if directory is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{name}.prof"


def _wait_port(port: int, timeout: float, what: str) -> None:
    import socket

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} not listening on {port} after {timeout} s")


def _config(path: Path, broker, legacy_port: int, http_port: int, store: Path, max_pending: int = 10_000,
            log_level: str = "WARNING") -> None:
    certs = broker.ca
    path.write_text(f"""
[bridge]
client_id = "{SAMU}"
peer_id = "{SDIS}"
[hub]
mode = "amqp"
host = "127.0.0.1"
port = {broker.amqps_port}
vhost = "{VHOST}"
ca_file = "{certs.ca_cert}"
cert_file = "{certs.client_cert(SAMU)}"
key_file = "{certs.client_key(SAMU)}"
prefetch = 200
[legacy]
mode = "tcp-server"
port = {legacy_port}
profile = "lrm-alpha-text"
[store]
path = "{store}"
synchronous = "FULL"
max_pending = {max_pending}
[http]
port = {http_port}
[logging]
format = "json"
level = "{log_level}"
[mappings]
reload_interval_seconds = 0
""")


def _delivered(store: Path) -> int:
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT COUNT(*) FROM messages WHERE direction='out'"
                            " AND state IN ('delivered','answered')").fetchone()[0]
    finally:
        conn.close()


def _latencies(store: Path, first_id: int, last_id: int) -> list[float]:
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute(
            "SELECT m.created_at, MIN(e.ts) FROM messages m JOIN events e ON e.message_id = m.id"
            " WHERE m.direction='out' AND m.id BETWEEN ? AND ? AND e.to_state IN ('delivered', 'answered')"
            " GROUP BY m.id",
            (first_id, last_id)).fetchall()
    finally:
        conn.close()
    return [1000 * (datetime.fromisoformat(t1) - datetime.fromisoformat(t0)).total_seconds() for t0, t1 in rows]


def _max_id(store: Path) -> int:
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]
    finally:
        conn.close()


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_split(pid: int) -> tuple[float, float]:
    """User and system CPU seconds so far of one process (system: the kernel's work for it: sockets, fsync, epoll)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def _cpu_seconds(pid: int) -> float:
    return sum(_cpu_split(pid))


def _tree_cpu_seconds(root: int) -> float:
    """CPU of a process and all its descendants (rabbitmq-server is a shell wrapper around beam)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        with contextlib.suppress(OSError):
            total += _cpu_seconds(pid)
        todo.extend(children.get(pid, []))
    return total


def _cpu_by_process(processes: list[subprocess.Popen], broker) -> dict[str, float]:
    """CPU seconds so far of each process started (in this order; the bridge is absent with --null-bridge)."""
    cpu = {name: _cpu_seconds(p.pid) for name, p in zip(("emulator", "nexsis-sim", "bridge"), processes, strict=False)}
    cpu["rabbitmq"] = _tree_cpu_seconds(broker.server.pid)
    return cpu


def _commits(http_port: int) -> float | None:
    """The bridge's group COMMITs so far (``bridge_store_commits_total`` on /metrics); None if it has no such metric."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10) as response:
            text = response.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("bridge_store_commits_total "):
            return float(line.split()[1])
    return None


def _wait_delivered(store: Path, expected: int, timeout: float) -> int:
    end = time.monotonic() + timeout
    count = _delivered(store)
    while count < expected and time.monotonic() < end:
        time.sleep(0.2)
        count = _delivered(store)
    return count


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def _null_bridge(args, broker, processes: list[subprocess.Popen]) -> int:
    """The rig's ceiling: a client that only publishes ready-made messages and counts RC-REFs.

    Same broker, dispatcher (schema checks) and simulator as a real run; the
    client reuses one valid createCase payload, so what it costs is little more
    than pika's. Whatever rate this reaches, a bridge on the same machine cannot beat.
    """
    import json
    import threading

    from twisted.internet import defer

    from bridge.edges.amqp.client import HubClient
    from bridge.edges.amqp.settings import HubClientSettings
    from bridge.testing.messages import make_message
    from bridge.testing.reactor import ReactorThread

    example = ROOT.parent / "shared" / "hub-reference" / "examples" / "RC-EDA"
    payloads = sorted(example.glob("*.json")) if example.is_dir() else []
    if not payloads:
        print("--null-bridge needs the official RC-EDA examples (../shared/hub-reference)", file=sys.stderr)
        return 2
    payload = json.loads(payloads[0].read_text())
    now = datetime.now(UTC)
    bodies = [json.dumps(make_message(SAMU, SDIS, payload, now=now)).encode() for _ in range(args.frames)]
    acked = {"n": 0}
    done = threading.Event()
    window = threading.Semaphore(args.window)

    def on_ack(_delivery):
        acked["n"] += 1
        window.release()
        if acked["n"] >= len(bodies):
            done.set()

    settings = HubClientSettings(host="127.0.0.1", port=broker.amqps_port, vhost=VHOST, client_id=SAMU,
                                 ca_cert=broker.ca.ca_cert, cert=broker.ca.client_cert(SAMU),
                                 key=broker.ca.client_key(SAMU), prefetch=200)
    thread = ReactorThread().start()
    client = HubClient(settings, thread.reactor, on_ack=on_ack, stop_on_shutdown=False)
    try:
        thread.call(client.start)
        time.sleep(1.0)
        before = {**_cpu_by_process(processes, broker), "client": time.process_time()}
        start = time.perf_counter()
        for body in bodies:
            window.acquire(timeout=60)
            thread.reactor.callFromThread(lambda b=body: defer.maybeDeferred(client.publish, b).addErrback(
                lambda f: print("publish failed:", f.getErrorMessage(), file=sys.stderr)))
        done.wait(300)
        elapsed = time.perf_counter() - start
        after = {**_cpu_by_process(processes, broker), "client": time.process_time()}
        thread.call(client.stop)
    finally:
        thread.stop()  # the caller stops the processes and the broker
    rate = acked["n"] / elapsed
    print(f"null bridge: {acked['n']}/{len(bodies)} createCase messages acknowledged (RC-REF) in {elapsed:.1f} s:"
          f" {rate:.0f} msg/s   (target >= {TARGETS['throughput_msg_s']}: ratio {rate / TARGETS['throughput_msg_s']:.2f})")
    print("CPU ms per message: " + ", ".join(f"{name} {1000 * (after[name] - before[name]) / max(acked['n'], 1):.2f}"
                                             for name in after))
    return 0


NACK_CASE = re.compile(r"DEMO-(\d+)")


def _throughput_phase(lrm: LrmClient, frames: int, window: int, assistance: bool, timeout: float = 300) -> int:
    """Send ``frames`` sheets, at most ``window`` unanswered; resend each nacked one. Returns the resends.

    A NACK (``FULL``: the outbox is at store.max_pending, or ``STORE``) means the
    bridge did not keep the frame and the LRM must send it again, as a real LRM
    does: waiting for its ack would only wait for the time-out. Each nack names
    the sheet (its NUM_DOSSIER), which goes back to the front of the queue after
    a short pause (the outbox drains meanwhile).
    """
    acks0, nacks0 = len(lrm.acks), len(lrm.nacks)
    todo = list(range(frames))
    todo.reverse()  # pop() from the end: first sheet first
    sent = resends = 0
    seen_nacks = nacks0
    end = time.monotonic() + timeout
    while len(lrm.acks) - acks0 < frames and time.monotonic() < end:
        for text in lrm.nacks[seen_nacks:]:
            found = NACK_CASE.search(text)
            if found is None:
                raise RuntimeError(f"a NACK that names no sheet, cannot resend: {text[:120]!r}")
            todo.append(int(found.group(1)) - 100_000)
            resends += 1
        backed_off = len(lrm.nacks) > seen_nacks
        seen_nacks = len(lrm.nacks)
        if backed_off:
            lrm.poll(0.05)  # back-pressure: let the outbox drain a little before resending
        answered = len(lrm.acks) - acks0 + len(lrm.nacks) - nacks0
        while todo and sent - answered < window:
            lrm.send(live_demo_frame(100_000 + todo.pop(), assistance=assistance))
            sent += 1
        lrm.poll(0.01)
    return resends


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["case-share", "assistance"], default="case-share",
                        help="case-share: createCase + RC-REF; assistance: also EMSI request and answer")
    parser.add_argument("--msg-rate", type=float, default=100.0,
                        help="outbound Hub messages/s in the latency phase (the target is stated at 100)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency phase")
    parser.add_argument("--frames", type=int, default=2000, help="case sheets in the throughput phase")
    parser.add_argument("--window", type=int, default=400, help="frames sent but not yet acked, at most")
    parser.add_argument("--max-pending", type=int, default=10_000,
                        help="the bridge's store.max_pending: a --window above it makes the bridge NACK (resent)")
    parser.add_argument("--bridge-log-level", choices=["INFO", "WARNING"], default="WARNING",
                        help="the bridge's logging.level: WARNING (default: no line per message) or INFO (the"
                             " production default: 5 message-life lines per case sheet, written to the run's log file)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="directory for cProfile files of the bridge, emulator and simulator processes")
    parser.add_argument("--profile-clock", choices=["wall", "cpu"], default="wall",
                        help="cProfile's clock: wall (default; waits such as epoll and fsync count) or cpu"
                             " (time.process_time: where the CPU goes, the figure the per-sheet CPU row measures)")
    parser.add_argument("--schemas", type=Path, default=None,
                        help="official schema folder for the emulator's 300 check (default: the project's models)")
    parser.add_argument("--gap", action="store_true",
                        help="then run benchmarks/hot_path.py's rounds in this process (3 x 600 sheets, no broker) and"
                             " print the end-to-end-only CPU per sheet: the bridge's e2e CPU minus the in-process"
                             " hot path's (case-share only)")
    parser.add_argument("--null-bridge", action="store_true",
                        help="no bridge: publish pre-encoded createCase messages straight to the Hub and count"
                             " RC-REFs, to measure what the rig alone (broker, dispatcher, simulator) can carry")
    args = parser.parse_args()
    assistance = args.scenario == "assistance"
    per_sheet = 2 if assistance else 1  # outbound Hub messages per case sheet
    rate = args.msg_rate / per_sheet

    work = Path(tempfile.mkdtemp(prefix="bridge-e2e-"))
    env = {**os.environ, "HUB_BRIDGE_HOME": str(work / "home")}
    broker = start_broker(work / "rabbitmq", [SAMU, SDIS])
    processes: list[subprocess.Popen] = []
    quiet = ["--log-level", "WARNING", "--log-format", "json"]  # one line per message is the emulator's default
    try:
        emulator = _spawn(["hub-emulator", "--management-url", broker.management_url, "--amqp-port",
                           str(broker.amqp_port), "--vhost", VHOST, "--client", SAMU, "--client", SDIS, *quiet,
                           *(["--schemas", str(args.schemas)] if args.schemas else [])],
                          work / "emulator.log", env, _profile_file(args.profile, "emulator"), args.profile_clock)
        processes.append(emulator)
        end = time.monotonic() + 60
        while b"provisioned" not in (work / "emulator.log").read_bytes() and time.monotonic() < end:
            time.sleep(0.2)
        processes.append(_spawn(["nexsis-sim", "--port", str(broker.amqps_port), "--vhost", VHOST,
                                 "--client-id", SDIS, "--certs", str(broker.ca.directory), *quiet],
                                work / "sim.log", env, _profile_file(args.profile, "nexsis-sim"), args.profile_clock))
        if args.null_bridge:
            return _null_bridge(args, broker, processes)
        legacy_port, http_port, store = free_port(), free_port(), work / "bridge.sqlite3"
        _config(work / "bridge.toml", broker, legacy_port, http_port, store, args.max_pending, args.bridge_log_level)
        run_args = ["run", "--config", str(work / "bridge.toml")]
        bridge = _spawn(run_args, work / "bridge.log", env, _profile_file(args.profile, "bridge"), args.profile_clock)
        processes.append(bridge)
        _wait_port(legacy_port, 60, "bridge legacy listener")
        time.sleep(1.0)  # let the consumers settle
        lrm = LrmClient("127.0.0.1", legacy_port)

        # phase 1: latency at a steady rate
        first = _max_id(store) + 1
        count = int(rate * args.seconds)
        commits_paced = _commits(http_port)  # before the CPU read: the scrape is not the phase's work
        paced_before = _cpu_seconds(bridge.pid)
        start = time.perf_counter()
        for n in range(count):
            lrm.send(live_demo_frame(n, assistance=assistance))
            lrm.poll(0)
            delay = start + (n + 1) / rate - time.perf_counter()
            if delay > 0:
                lrm.poll(delay)
        _wait_delivered(store, per_sheet * count, 60)
        paced_cpu = _cpu_seconds(bridge.pid) - paced_before
        commits_before = _commits(http_port)
        latencies = _latencies(store, first, _max_id(store))
        if assistance:
            lrm.wait_for(lambda c: len(c.answers) >= count, 30)

        # phase 2: throughput, bounded window of unanswered frames; a NACK is back-pressure: resend
        done_before = _delivered(store)
        cpu_before = _cpu_by_process(processes, broker)
        split_before = _cpu_split(bridge.pid)
        start = time.perf_counter()
        resends = _throughput_phase(lrm, args.frames, args.window, assistance)
        delivered = _wait_delivered(store, done_before + per_sheet * args.frames, 300) - done_before
        elapsed = time.perf_counter() - start
        rss = _peak_rss_mb(bridge.pid)
        cpu = _cpu_by_process(processes, broker)
        split = [after - before for after, before in zip(_cpu_split(bridge.pid), split_before, strict=True)]
        cpu_phase = {name: seconds - cpu_before[name] for name, seconds in cpu.items()}
        commits_after = _commits(http_port)  # after the CPU reads: the scrape is not the phase's work
        lrm.close()
    finally:
        for process in reversed(processes):
            _stop(process)
        broker.stop()

    throughput = delivered / elapsed
    p50, p99 = _pct(latencies, 50), _pct(latencies, 99)
    print(f"scenario {args.scenario}: {per_sheet} outbound Hub message(s) per case sheet"
          + (", plus the EMSI answer back to the LRM" if assistance else ""))
    print(f"latency phase: {count} sheets at {rate:.0f}/s ({args.msg_rate:.0f} outbound Hub msg/s)"
          f" -> {len(latencies)} messages acknowledged end to end")
    print(f"  frame -> RC-REF latency p50 {p50:.1f} ms, p99 {p99:.1f} ms   (target p99 <= {TARGETS['p99_ms']} ms:"
          f" ratio {p99 / TARGETS['p99_ms']:.2f})")
    print(f"  bridge CPU per sheet in this paced phase: {1000 * paced_cpu / count:.2f} ms (each sheet mostly in"
          " reactor turns of its own: the figure depends less on how well commits and acks batch than the"
          " throughput phase's, but includes the idle loops' share)")
    if commits_paced is not None and commits_before is not None:
        print(f"  group COMMITs (synchronous=FULL) per sheet in this paced phase: "
              f"{(commits_before - commits_paced) / count:.2f}")
    print(f"throughput phase: {args.frames} sheets, {delivered} outbound Hub messages acknowledged in {elapsed:.1f} s"
          f" ({resends} sheets resent after a NACK)")
    print(f"  sustained {throughput:.0f} Hub msg/s with confirms and RC-REF ({throughput / per_sheet:.0f} sheets/s)"
          f"   (target >= {TARGETS['throughput_msg_s']}: ratio {throughput / TARGETS['throughput_msg_s']:.2f})")
    if commits_before is not None and commits_after is not None:
        print(f"  group COMMITs (synchronous=FULL) per sheet in this phase: "
              f"{(commits_after - commits_before) / args.frames:.2f}")
    print("CPU seconds used per process over both phases: "
          + ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu.items()))
    print(f"CPU ms per case sheet in the throughput phase ({2 * elapsed:.1f} core-seconds available): "
          + ", ".join(f"{name} {1000 * seconds / args.frames:.2f}" for name, seconds in cpu_phase.items())
          + f"; total {1000 * sum(cpu_phase.values()) / args.frames:.2f}")
    print(f"  of which the bridge's user {1000 * split[0] / args.frames:.2f}, system {1000 * split[1] / args.frames:.2f}"
          " (system: the kernel's work for it: sockets, epoll, fsync)")
    print(f"bridge peak RSS {rss:.0f} MB   (target <= {TARGETS['rss_mb']} MB: ratio {rss / TARGETS['rss_mb']:.2f})")
    if args.gap and not assistance:
        _print_gap(1000 * cpu_phase["bridge"] / args.frames)
    return 0


def _print_gap(bridge_ms: float, sheets: int = 600, rounds: int = 3) -> None:
    """The end-to-end-only CPU: what the bridge spent per sheet here minus the in-process hot path's steps."""
    import io

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import hot_path

    from bridge.runtime.logging import configure_logging

    configure_logging("json", "WARNING", stream=io.StringIO())  # as the bridge ran
    totals = [1000 * sum(hot_path.one_round(sheets, 500_000 + r * sheets).values()) for r in range(rounds)]
    in_process = min(totals)
    print(f"in-process hot path (benchmarks/hot_path.py steps, best of {rounds} x {sheets} sheets): {in_process:.3f} ms"
          f" per sheet; end-to-end only: {bridge_ms:.2f} - {in_process:.2f} = {bridge_ms - in_process:.2f} ms per sheet")


if __name__ == "__main__":
    raise SystemExit(main())

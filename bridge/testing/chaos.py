"""Crash and broker-restart campaign: kill -9 the bridge and restart RabbitMQ while cases flow both ways.

Shared by ``benchmarks/chaos.py`` (the full campaign) and
``tests/integration/test_chaos.py`` (a short one in CI). The driver process runs:

- a private RabbitMQ (or one given) with the Hub topology, and the emulator's
  dispatcher in the driver's reactor thread;
- :class:`ChaosPeer`, a NexSIS peer that counts what it receives by
  distributionID (a repeat is counted, never applied) and by (case, revision,
  payload), and answers like the simulator, re-publishing its replies until
  the broker confirms them;
- the bridge as a SUBPROCESS (``bridge run --config``, AMQP + mTLS, its own
  SQLite store), killed with SIGKILL at random moments and restarted;
- :class:`LrmDriver`, a blocking LRM (thread) sending case sheets with several
  revisions per case, re-sending every frame not acked when the link drops.

At the end it waits (bounded) for quiescence and returns a :class:`CampaignReport`.
Only loopback; every wait is bounded; processes are stopped by PID.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from bridge.app.clock import utc_now
from bridge.runtime.demo import demo_stamp
from bridge.testing.chaos_actors import SAMU, SDIS, VHOST, BridgeProcess, ChaosPeer, LrmDriver

__all__ = ["BridgeProcess", "Campaign", "CampaignPlan", "CampaignReport", "ChaosPeer", "LrmDriver", "case_frames"]

PENDING_OUT = ("received", "translated", "published")
PENDING_IN = ("received", "translated", "handed_over")

TEMPLATE = (
    "NUM_DOSSIER={case}\r\nDATE_APPEL={stamp}\r\nNATURE=CHUT\r\nLIEU=DOM\r\nMOTIF=RELEV\r\n"
    "NB_VICTIMES=V1\r\nTYPE_VICTIME=SEN\r\nNUMERO={number}\r\nVOIE=Rue de la Fosse\r\nCOMMUNE=Nantes\r\n"
    "INSEE=44109\r\nAPPELANT=Voisin\r\nTEL=0611223344\r\nQUALITE_APPELANT=TEM\r\n"
    "OBS=Personne au sol REV-{rev}\r\nDEMANDE_SP=O\r\nTYPE_CONCOURS=REL\r\n"
    "MOTIF_CONCOURS=Relevage\r\nMOYEN=VSAV"
)


@dataclass(frozen=True)
class CampaignPlan:
    """How big and how hostile the campaign is."""

    messages: int = 500
    revisions: int = 4  # updates per case: messages / revisions cases, the last revision is the final state
    kills: int = 5
    broker_restarts: int = 1
    seed: int = 1
    window: int = 20  # frames the LRM sends ahead of their acks
    timeout: float = 600.0  # the whole run, bounded
    quiet_seconds: float = 3.0  # nothing pending for this long = quiescent


@dataclass
class CampaignReport:
    """What the campaign counted; ``ok`` when nothing was lost or applied twice."""

    plan: dict
    sent_frames: int = 0
    frame_sends: int = 0  # including re-sends after a dropped link
    acked: int = 0
    nacks: int = 0
    lrm_reconnects: int = 0
    kills: int = 0
    broker_restarts: int = 0
    expected_hub_messages: int = 0
    peer_unique: int = 0
    peer_redeliveries: int = 0  # same distributionID again: deduplicated, not applied
    peer_applied_twice: int = 0  # one frame became two Hub messages (distinct distributionIDs)
    peer_lost: int = 0
    peer_out_of_order: int = 0
    case_final_mismatches: int = 0
    peer_rs_errors: int = 0
    lrm_answers: int = 0
    lrm_answers_unique: int = 0
    lrm_answer_duplicates: int = 0
    lrm_answers_lost: int = 0
    bridge_states: dict = field(default_factory=dict)
    dead_letters: int = 0
    answers_before_confirm: int = 0  # EMSI answer arrived before our broker confirm was recorded
    resent_frames_recognised: int = 0  # LRM re-sends the bridge's intake knew (acked again, nothing new)
    quiescent: bool = False
    seconds: float = 0.0
    events: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.quiescent and self.acked == self.sent_frames and self.peer_lost == 0
                and self.peer_applied_twice == 0 and self.case_final_mismatches == 0
                and self.lrm_answers_lost == 0 and self.dead_letters == 0 and self.peer_rs_errors == 0)

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}

    def summary(self) -> str:
        lines = [f"{k:24} {v}" for k, v in self.as_dict().items() if k not in ("events", "plan")]
        return "\n".join([f"plan                     {self.plan}", *self.events, *lines])


def case_frames(plan: CampaignPlan, tag: str, rng: random.Random,
                clock: Callable[[], datetime] | None = None) -> list[tuple[str, int, bytes]]:
    """(case, revision, frame bytes): revisions of a case in order, cases interleaved at random.

    Called in now by ``clock`` (the bridge under test runs on the wall clock: a fixed date would
    leave its date window some day).
    """
    stamp = demo_stamp((clock or utc_now)())
    cases = max(1, plan.messages // plan.revisions)
    names = [f"CHAOS{tag}-{k:05d}" for k in range(cases)]
    out = []
    for rev in range(1, plan.revisions + 1):
        batch = [(name, rev) for name in names]
        rng.shuffle(batch)
        out.extend(batch)
    out = out[: plan.messages]
    return [(case, rev, TEMPLATE.format(case=case, rev=rev, number=1 + k % 120, stamp=stamp).encode("cp1252"))
            for k, (case, rev) in enumerate(out)]


def _pending(states: dict[str, int]) -> int:
    return sum(n for key, n in states.items()
               if (key.startswith("out/") and key[4:] in PENDING_OUT) or (key.startswith("in/") and key[3:] in PENDING_IN))


# ---------------------------------------------------------------------------------- the campaign
def _peer_settings(broker, client_id: str):
    from bridge.edges.amqp.settings import HubClientSettings

    ca = broker.ca
    return HubClientSettings(host="127.0.0.1", port=broker.amqps_port, vhost=VHOST, client_id=client_id,
                             ca_cert=ca.ca_cert, cert=ca.client_cert(client_id), key=ca.client_key(client_id),
                             reconnect_initial=0.2, reconnect_max=1.0, heartbeat=10, shutdown_timeout=10)


def _admin_settings(broker):
    from bridge.edges.amqp.settings import AmqpConnectionSettings

    return AmqpConnectionSettings(host="127.0.0.1", port=broker.amqp_port, vhost=VHOST, tls=False,
                                  username=broker.admin_user, password=broker.admin_password,
                                  reconnect_initial=0.2, reconnect_max=1.0)


def _hub_validator():
    """The emulator's schema check: bridge.validate when present, else none (the campaign is about delivery)."""
    from bridge.core.errors import BridgeError
    from bridge.sim.hub_emulator.schemas import default_validator

    try:
        return default_validator(None)
    except BridgeError:
        return lambda body: []


class Campaign:
    """One campaign run; ``run()`` returns the report; every process it started is stopped by PID."""

    def __init__(self, plan: CampaignPlan, workdir: Path, reactor_thread, *, broker=None,
                 log: Callable[[str], None] = lambda line: None) -> None:
        self.plan, self.workdir, self.rt, self.log = plan, workdir, reactor_thread, log
        self.rng = random.Random(plan.seed)
        self.broker, self.own_broker = broker, broker is None
        self.report = CampaignReport(plan=asdict(plan))
        self.dispatcher = self.peer = self.peer_client = self.bridge = self.lrm = None
        self.started = time.monotonic()

    def run(self) -> CampaignReport:
        try:
            self._set_up()
            self._drive()
            self._settle()
        finally:
            self._tear_down()
        self._judge()
        self.report.seconds = round(time.monotonic() - self.started, 1)
        return self.report

    # -- setting up ----------------------------------------------------------------------
    def _set_up(self) -> None:
        from bridge.edges.amqp.client import HubClient
        from bridge.sim.hub_emulator.dispatcher_service import DispatcherService
        from bridge.sim.hub_emulator.provision import ManagementApi, provision
        from bridge.testing.rabbitmq import free_port, start_broker

        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.broker is None:
            self.broker = start_broker(self.workdir / "rabbitmq", [SAMU, SDIS])
        provision(ManagementApi(self.broker.management_url, self.broker.admin_user, self.broker.admin_password),
                  VHOST, [SAMU, SDIS])
        self.dispatcher = DispatcherService(_admin_settings(self.broker), self.rt.reactor,
                                            known_clients=[SAMU, SDIS], validate=_hub_validator())
        self.rt.call(self.dispatcher.start, timeout=60)
        self.peer = ChaosPeer(self.rt.reactor)
        self.peer_client = HubClient(_peer_settings(self.broker, SDIS), self.rt.reactor,
                                     on_message=self.peer.on_message, on_ack=self.peer.on_ack,
                                     on_info=self.peer.on_info, stop_on_shutdown=False)
        self.rt.call(self.peer_client.start, timeout=60)
        self.rt.call(self.peer.start, self.peer_client)
        self.frames = case_frames(self.plan, uuid.uuid4().hex[:6], self.rng)
        self.report.sent_frames = len(self.frames)
        self.bridge = BridgeProcess(self.workdir / "bridge", self.broker, free_port())
        self.bridge.start()
        self.lrm = LrmDriver(self.bridge.legacy_port, [f for _, _, f in self.frames], window=self.plan.window)
        self.lrm.start()

    # -- chaos -----------------------------------------------------------------------------
    def _progress(self) -> float:
        """Share of the work done: frames acked plus answers back, over twice the frames."""
        return (len(self.lrm.acked) + sum(self.lrm.answers.values())) / (2 * len(self.frames))

    def _drive(self) -> None:
        plan = self.plan
        events = [(self.rng.uniform(0.02, 0.95), "kill") for _ in range(plan.kills)]
        events += [(self.rng.uniform(0.1, 0.85), "broker") for _ in range(plan.broker_restarts)]
        deadline = self.started + plan.timeout
        for point, kind in sorted(events):
            while self._progress() < point:
                if time.monotonic() > deadline:
                    self.log(f"timeout before {kind} at progress {point:.2f} (now {self._progress():.2f})")
                    return
                time.sleep(0.02)
            time.sleep(self.rng.uniform(0, 0.3))  # land anywhere in the work, not on a progress step
            if kind == "kill":
                self._kill_and_restart()
            else:  # in a thread: kills may land while the broker is away
                self._join_broker()
                self._broker_thread = threading.Thread(target=self._restart_broker, name="chaos-broker")
                self._broker_thread.start()
        self._join_broker()

    def _join_broker(self) -> None:
        thread = getattr(self, "_broker_thread", None)
        if thread is not None:
            thread.join(300)

    def _kill_and_restart(self) -> None:
        at = round(self._progress(), 3)
        self.bridge.kill()
        self.report.kills += 1
        self.report.events.append(f"{time.strftime('%H:%M:%S')} kill -9 bridge at progress {at}")
        self.log(f"kill -9 #{self.report.kills} at progress {at}")
        time.sleep(self.rng.uniform(0, 0.5))
        self.bridge.start()

    def _restart_broker(self) -> None:
        at = round(self._progress(), 3)
        self.broker.rabbitmqctl("stop_app", timeout=120)
        time.sleep(self.rng.uniform(0.5, 2.0))
        self.broker.rabbitmqctl("start_app", timeout=120)
        self.report.broker_restarts += 1
        self.report.events.append(f"{time.strftime('%H:%M:%S')} broker stop_app/start_app at progress {at}")
        self.log(f"broker restart #{self.report.broker_restarts} at progress {at}")

    # -- the end ---------------------------------------------------------------------------
    def _done(self) -> bool:
        expected = 2 * len(self.frames)
        states, _dead = self.bridge.store_counts()
        return (len(self.lrm.acked) == len(self.frames) and len(self.peer.seen_ids) >= expected
                and sum(self.lrm.answers.values()) >= len(self.frames) and _pending(states) == 0
                and self.rt.call(lambda: self.peer.replies_pending) == 0)

    def _settle(self) -> None:
        """Wait (bounded) until nothing is pending for ``quiet_seconds``; log progress now and then."""
        deadline = self.started + self.plan.timeout
        quiet_since, last_log = None, 0.0
        while time.monotonic() < deadline:
            if self._done():
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= self.plan.quiet_seconds:
                    self.report.quiescent = True
                    return
            else:
                quiet_since = None
            if time.monotonic() - last_log > 10:
                last_log = time.monotonic()
                self.log(f"waiting: acked {len(self.lrm.acked)}/{len(self.frames)}, peer {len(self.peer.seen_ids)},"
                         f" answers {sum(self.lrm.answers.values())}, store {self.bridge.store_counts()[0]}")
            time.sleep(0.5)
        self.log("not quiescent before the timeout")

    def _tear_down(self) -> None:
        if self.lrm is not None:
            self.lrm.stopping.set()
            self.lrm.join(10)
        if self.bridge is not None:
            self.bridge.stop()
            self.report.bridge_states, self.report.dead_letters = self.bridge.store_counts()
            if self.bridge.store_path.exists():
                self.report.answers_before_confirm = self.bridge.count_events("answer_out_of_sequence")
                self.report.resent_frames_recognised = self.bridge.count_events("duplicate_frame")
        for stop in (self.peer and self.peer.stop, self.peer_client and self.peer_client.stop,
                     self.dispatcher and self.dispatcher.stop):
            if stop is not None:
                try:
                    self.rt.call(stop, timeout=30)
                except Exception as exc:  # noqa: BLE001 - keep stopping the rest
                    self.log(f"stop failed: {exc!r}")
        if self.own_broker and self.broker is not None:
            self.broker.stop()

    def _judge(self) -> None:
        r, peer, lrm = self.report, self.peer, self.lrm
        if peer is None or lrm is None:
            return
        r.frame_sends, r.acked, r.nacks, r.lrm_reconnects = lrm.sends, len(lrm.acked), lrm.nacks, lrm.reconnects
        expected = {(case, rev, kind) for case, rev, _ in self.frames for kind in ("createCase", "emsi")}
        r.expected_hub_messages = len(expected)
        r.peer_unique = len(peer.seen_ids)
        r.peer_redeliveries = peer.redeliveries
        r.peer_applied_twice = sum(len(ids) - 1 for ids in peer.by_key.values() if len(ids) > 1)
        r.peer_lost = len(expected - set(peer.by_key))
        r.peer_out_of_order = peer.out_of_order
        last = {}
        for case, rev, _ in self.frames:
            last[case] = max(rev, last.get(case, 0))
        r.case_final_mismatches = sum(1 for case, rev in last.items() if peer.final_rev.get(case) != rev)
        r.peer_rs_errors = len(peer.rs_errors)
        per_case = Counter(case for case, _, _ in self.frames)  # one EMSI answer per revision sent
        r.lrm_answers = sum(lrm.answers.values())
        r.lrm_answers_unique = sum(min(n, per_case[c]) for c, n in lrm.answers.items())
        r.lrm_answer_duplicates = sum(max(0, n - per_case.get(c, 0)) for c, n in lrm.answers.items())
        r.lrm_answers_lost = sum(max(0, n - lrm.answers.get(c, 0)) for c, n in per_case.items())

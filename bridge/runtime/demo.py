"""``bridge demo``: the whole chain on one machine, end to end, in a few seconds.

A simulated LRM speaks the ``lrm-alpha-text`` dialect (STX/ETX frames,
cp1252) over TCP to the bridge; the bridge translates each case sheet into an
RC-EDA ``createCase`` plus an EMSI request for assistance, stores and
publishes them; the Hub (in-process emulator by default, or a real broker
with ``--hub``) routes them to a simulated NexSIS peer, which acknowledges
each with an RC-REF and answers the request; the answer comes back to the LRM
in its own format. The summary counts what happened and how long it took.
"""

from __future__ import annotations

import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from twisted.internet import defer, protocol, task

from bridge.app.clock import utc_now
from bridge.core.framing import NEED_DATA, Deframer, frame

PROFILE = "lrm-alpha-text"

# One case sheet of the demo dialect; {n} makes every case unique. Fictional content.
TEMPLATE = (
    "NUM_DOSSIER=DEMO-{n:06d}\r\nDATE_APPEL={stamp}\r\nNATURE=CHUT\r\nLIEU=DOM\r\nMOTIF=RELEV\r\n"
    "NB_VICTIMES=V1\r\nTYPE_VICTIME=SEN\r\nNUMERO={number}\r\nVOIE=Rue de la Fosse\r\nCOMMUNE=Nantes\r\n"
    "INSEE=44109\r\nAPPELANT=Voisin\r\nTEL=0611223344\r\nQUALITE_APPELANT=TEM\r\n"
    "OBS=Personne âgée au sol, porte fermée\r\n"
)
ASSISTANCE = "DEMANDE_SP=O\r\nTYPE_CONCOURS=REL\r\nMOTIF_CONCOURS=Relevage et ouverture de porte\r\nMOYEN=VSAV"


#: The fixed call date of :func:`demo_frame` (local time of the dialect): for a bridge on a fixed test
#: clock (``bridge.testing.rig.START``). A bridge on the wall clock refuses it once it is more than
#: ``[dates] max_past_days`` old (2036): give such a bridge :func:`live_demo_frame`.
DEMO_STAMP = "20261125100000"
DEMO_TIMEZONE = "Europe/Paris"  # the lrm-alpha-text profile's timezone: its dates carry no offset


def demo_frame(n: int, stamp: str = DEMO_STAMP, *, assistance: bool = True) -> bytes:
    """The n-th demo case sheet, encoded as the dialect says (cp1252), called in at ``stamp``.

    With ``assistance`` (the demo's default) it asks the fire service for help, so
    it becomes a createCase plus an EMSI request; without, only the createCase.
    """
    tail = ASSISTANCE if assistance else "DEMANDE_SP=N"
    return (TEMPLATE + tail).format(n=n, stamp=stamp, number=1 + n % 120).encode("cp1252")


def demo_stamp(moment: datetime) -> str:
    """``DATE_APPEL`` of a demo sheet called in at ``moment`` (an aware time), in the dialect's local time."""
    return moment.astimezone(ZoneInfo(DEMO_TIMEZONE)).strftime("%Y%m%d%H%M%S")


def live_demo_frame(n: int, *, clock: Callable[[], datetime] | None = None, assistance: bool = True) -> bytes:
    """The n-th demo sheet called in now by ``clock`` (the app clock): what a bridge on the wall clock is sent.

    The demo and the tests of a live bridge use it, so their frames stay inside the bridge's date
    window (``[dates]``, 3650 days back) whatever the year they run in.
    """
    return demo_frame(n, demo_stamp((clock or utc_now)()), assistance=assistance)


@dataclass
class Summary:
    messages: int
    sent: int = 0
    stored: int = 0
    acknowledged: int = 0
    answered: int = 0
    resource_updates: int = 0
    expected_updates: int = 0
    failed: int = 0
    hub_messages: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    answer_p50_ms: float | None = None
    seconds: float = 0.0
    accepted: int = 0
    refused: int = 0
    cases: list[dict] = field(default_factory=list)  # the story of each case sheet, see case_story()

    @property
    def ok(self) -> bool:
        """Every sheet acknowledged and answered (a refusal is an answer: the chain worked)."""
        return (self.failed == 0 and self.acknowledged == self.answered == self.messages
                and self.resource_updates >= self.expected_updates)

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


@dataclass
class CaseTrace:
    """What the simulated LRM saw of one case sheet."""

    sent: bool = False
    link: str | None = None  # the bridge's ACK/NACK frame
    answer: dict[str, str] | None = None  # the answer's fields as the LRM received them


def case_story(dossier: str, trace: CaseTrace, hub_states: list[tuple[str, str, str | None]], *,
               waited: float, answer_codes: dict[str, str] | None = None) -> dict:
    """One case in words: sent, acknowledged by the bridge and by NexSIS (RC-REF), answered or why not.

    ``hub_states`` lists ``(direction, state, last_error)`` of the case's Hub messages in the store.
    """
    out = [(state, error) for direction, state, error in hub_states if direction == "out"]
    inbound = [(state, error) for direction, state, error in hub_states if direction == "in"]
    steps = ["sent"] if trace.sent else []
    outcome, reason = "pending", None
    if trace.link is not None and not trace.link.startswith("ACK"):
        outcome, reason = "refused by the bridge", trace.link
    elif trace.link is not None:
        steps.append("stored by the bridge (LRM ACK)")
    failed = [f"Hub message {state}: {_first_line(error)}" for state, error in out if state in ("failed", "dead_lettered")]
    failed += [f"NexSIS's answer could not be given to the LRM: {_first_line(error)}"
               for state, error in inbound if state in ("failed", "dead_lettered")]
    if out and all(state in ("delivered", "answered") for state, _ in out):
        steps.append(f"acknowledged by NexSIS (RC-REF for {len(out)} Hub messages)")
    if trace.answer is not None:
        status = (answer_codes or {}).get(trace.answer.get("REPONSE", ""), trace.answer.get("REPONSE", "?"))
        text = trace.answer.get("REPONSE_TXT")
        steps.append(f"answered: {status}" + (f" ({text})" if text else ""))
        outcome = "refused by NexSIS" if status.startswith("REF") else "answered"
        reason = text if outcome == "refused by NexSIS" else None
    elif failed:
        outcome, reason = "failed", failed[0]
    elif outcome == "pending":
        reason = (f"no answer from NexSIS within {waited:.0f} s" if out else "never reached the Hub")
        outcome = "unanswered"
    return {"case": dossier, "steps": steps, "outcome": outcome, **({"reason": reason} if reason else {})}



def _answer_codes(profile: Any, mappings: Any) -> dict[str, str]:
    """The LRM's answer codes -> the canonical ones (``REF`` -> ``REFUS``), from its table or inline codes."""
    spec = next((spec for spec in profile.fields if spec.key == "REPONSE"), None)
    if spec is None:
        return {}
    if spec.table is None:
        return dict(spec.codes or {})
    table = mappings.tables.get(spec.table)
    rows = [] if table is None else table.rows
    codes = {}
    for row in rows:
        mapped = mappings.forward(spec.table, row.source)
        if mapped.code is not None:
            codes[row.source] = mapped.code
    return codes

class SimulatedLrm(protocol.Protocol):
    """Sends the demo frames and records the bridge's acks and the answers it receives."""

    def __init__(self, framing: str, on_frame) -> None:
        self.deframer = Deframer(framing)
        self.framing = framing
        self.on_frame = on_frame

    def dataReceived(self, data: bytes) -> None:
        self.deframer.feed(data)
        while (item := self.deframer.next_frame()) is not NEED_DATA:
            self.on_frame(item)

    def send(self, payload: bytes) -> None:
        self.transport.write(frame(payload, self.framing))


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 2)


@defer.inlineCallbacks
def run_demo(reactor, *, messages: int = 20, config=None, progress=None, timeout: float | None = None,
             rate: float = 0.0, peer_rules=None, hub_url: str | None = None, certs: Path | None = None):
    """Run the scenario; fires with a :class:`Summary`. ``rate`` > 0 paces frames (messages/second).

    Its store lives in a temporary folder that is removed at the end, whatever happened.
    """
    workdir = Path(tempfile.mkdtemp(prefix="bridge-demo-"))
    try:
        summary = yield _run_demo(reactor, workdir, messages=messages, config=config, progress=progress,
                                  timeout=timeout, rate=rate, peer_rules=peer_rules, hub_url=hub_url, certs=certs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # the demo's store and nothing else lives there
    return summary


@defer.inlineCallbacks
def _run_demo(reactor, workdir: Path, *, messages: int, config, progress, timeout: float | None, rate: float,
              peer_rules, hub_url: str | None, certs: Path | None):
    from bridge.refdata.profiles import load_profile
    from bridge.runtime.config import BridgeConfig, with_overrides
    from bridge.runtime.runner import start_bridge

    if config is None:
        config = BridgeConfig()
    overrides = {
        "legacy.mode": "tcp-server", "legacy.host": "127.0.0.1", "legacy.port": 0, "legacy.profile": PROFILE,
        "store.path": str(workdir / "demo.sqlite3"), "http.enabled": False,
    }
    if hub_url is not None:
        overrides.update(amqp_overrides(hub_url, certs, config.bridge.client_id))
    config = with_overrides(config, overrides)
    profile = load_profile(PROFILE)
    peer = None
    if hub_url is not None:  # the simulated NexSIS peer is a second client of the same broker
        peer = yield _start_amqp_peer(reactor, config, certs, peer_rules)
    running = yield start_bridge(config, reactor, peer_rules=peer_rules)
    summary = Summary(messages=messages, expected_updates=messages * _updates_per_case(peer_rules))
    sent_at: dict[str, float] = {}
    answers: dict[str, float] = {}
    traces: dict[str, CaseTrace] = {}
    started = time.perf_counter()

    def lrm_received(payload: bytes) -> None:
        text = payload.decode(profile.encoding, errors="replace")
        if text.startswith(("ACK", "NACK")):
            dossier = text.split("=", 1)[-1].split(";", 1)[0]
            traces.setdefault(dossier, CaseTrace()).link = text
            if text.startswith("ACK"):
                summary.stored += 1
            else:
                summary.failed += 1
            return
        if RESOURCE_MARK.search(text):  # a resource status update merged onto the case sheet
            summary.resource_updates += 1
        fields = dict(line.split("=", 1) for line in text.replace("\r\n", "\n").split("\n") if "=" in line)
        answered = fields.get("NUM_DOSSIER")
        if answered is not None:
            answers.setdefault(answered, time.perf_counter())
            trace = traces.setdefault(answered, CaseTrace())
            if trace.answer is None or "REPONSE" in fields:  # a later status update does not hide the answer
                trace.answer = {key: value for key, value in fields.items() if key in ("REPONSE", "REPONSE_TXT")}

    from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol

    lrm = yield connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", running.legacy_port),
                                SimulatedLrm(profile.framing, lrm_received))
    for n in range(messages):
        sent_at[f"DEMO-{n:06d}"] = time.perf_counter()
        traces.setdefault(f"DEMO-{n:06d}", CaseTrace()).sent = True
        lrm.send(live_demo_frame(n))
        summary.sent += 1
        if rate > 0:
            yield task.deferLater(reactor, 1.0 / rate, lambda: None)
        elif n % 50 == 49:
            yield task.deferLater(reactor, 0, lambda: None)  # let the reactor breathe
    waited = timeout if timeout is not None else 30 + messages * 0.05
    deadline = time.perf_counter() + waited
    while time.perf_counter() < deadline:
        _update_from_store(summary, running.store, answers)
        if progress is not None:
            progress(summary)
        if summary.ok or summary.failed:
            break
        yield task.deferLater(reactor, 0.1, lambda: None)
    _update_from_store(summary, running.store, answers)
    summary.seconds = round(time.perf_counter() - started, 3)
    latencies = _delivery_latencies(running.store)
    summary.p50_ms, summary.p99_ms = _percentile(latencies, 50), _percentile(latencies, 99)
    answer_latencies = [1000 * (answers[k] - sent_at[k]) for k in answers if k in sent_at]
    summary.answer_p50_ms = _percentile(answer_latencies, 50)
    answer_codes = _answer_codes(profile, running.reloader.current())
    _tell_stories(summary, traces, running.store, config.bridge.client_id, waited, answer_codes)
    lrm.transport.loseConnection()
    yield running.stop()
    if peer is not None:
        yield peer.stop()
    return summary


def amqp_overrides(hub_url: str, certs: Path | None, client_id: str) -> dict:
    """Config keys for ``--hub amqps://HOST:PORT/VHOST`` with the test CA's files in ``certs``."""
    from urllib.parse import unquote, urlsplit

    url = urlsplit(hub_url)
    if url.scheme != "amqps" or not url.hostname:
        raise ValueError(f"--hub must look like amqps://HOST:PORT/VHOST, got {hub_url!r}")
    if certs is None:
        raise ValueError("--hub needs --certs DIR (ca.crt and <client-id>.crt/.key)")
    vhost = unquote(url.path[1:]) if len(url.path) > 1 else "/15-nexsis_v1.9"
    return {
        "hub.mode": "amqp", "hub.host": url.hostname, "hub.port": url.port or 5671, "hub.vhost": vhost,
        "hub.ca_file": str(Path(certs) / "ca.crt"), "hub.cert_file": str(Path(certs) / f"{client_id}.crt"),
        "hub.key_file": str(Path(certs) / f"{client_id}.key"),
        "hub.server_hostname": "localhost" if url.hostname in ("127.0.0.1", "::1") else None,
    }


@defer.inlineCallbacks
def _start_amqp_peer(reactor, config, certs: Path, peer_rules):
    from bridge.edges.amqp.client import HubClient
    from bridge.sim.nexsis_rules import PeerRules
    from bridge.sim.nexsis_sim import NexsisSimulator

    rules = peer_rules or PeerRules(own_id=config.bridge.peer_id)
    settings = config.hub_client_settings().model_copy(update={
        "client_id": rules.own_id, "cert": Path(certs) / f"{rules.own_id}.crt",
        "key": Path(certs) / f"{rules.own_id}.key"})
    simulator = NexsisSimulator(rules, reactor)
    client = HubClient(settings, reactor, on_message=simulator.on_message, on_ack=simulator.on_ack,
                       on_info=simulator.on_info, stop_on_shutdown=False)
    simulator.attach(client)
    yield client.start()
    return client


RESOURCE_MARK = re.compile(r"MOYEN_1_|<moyen>|<MOYEN>")


def _updates_per_case(peer_rules) -> int:
    """RC-RI status updates the simulated peer sends per accepted request (see nexsis_rules)."""
    from bridge.sim.nexsis_rules import STATUS_STEPS, Behaviour, Engagement

    if peer_rules is None or peer_rules.behaviour in (Behaviour.REFUSE, Behaviour.NO_ANSWER, Behaviour.MALFORMED):
        return 0
    return {Engagement.NONE: 0, Engagement.ONE: 1, Engagement.SEVERAL: len(STATUS_STEPS)}[peer_rules.engagement]


def _first_line(text: str | None) -> str:
    return (text or "no detail").splitlines()[0] if text else "no detail"


def _tell_stories(summary: Summary, traces: dict[str, CaseTrace], store, client_id: str, waited: float,
                  answer_codes: dict[str, str] | None = None) -> None:
    """Fill ``summary.cases`` (one story per sheet) and the accepted/refused counts, from one store read."""
    states: dict[str, list[tuple[str, str, str | None]]] = {}
    prefix = f"{client_id}."
    for msg in store.search(limit=None):
        if msg.case_id and msg.case_id.startswith(prefix):
            states.setdefault(msg.case_id[len(prefix):], []).append(
                (str(msg.direction), str(msg.state), msg.last_error))
    for dossier in sorted(traces):
        story = case_story(dossier, traces[dossier], states.get(dossier, []), waited=waited, answer_codes=answer_codes)
        summary.cases.append(story)
        summary.refused += story["outcome"] == "refused by NexSIS"
        summary.accepted += story["outcome"] == "answered"


def _update_from_store(summary: Summary, store, answers: dict) -> None:
    counts: dict[str, int] = {}
    for (direction, state), count in store.counts().items():
        if direction == "out":
            counts[state] = counts.get(state, 0) + count
    summary.hub_messages = sum(counts.values())
    done = counts.get("delivered", 0) + counts.get("answered", 0)
    # two Hub messages per case sheet (createCase + EMSI request): a case is acknowledged when both are
    summary.acknowledged = min(summary.stored, done // 2)
    summary.failed = counts.get("failed", 0) + counts.get("dead_lettered", 0)
    summary.answered = len(answers)


def _delivery_latencies(store) -> list[float]:
    """Milliseconds from the frame's arrival to the RC-REF, per outbound Hub message."""
    values = []
    for msg in store.recent(100_000):
        if msg.direction != "out":
            continue
        for event in store.history(msg.id):
            if str(event.to_state) == "delivered":
                values.append(1000 * (event.ts - msg.created_at).total_seconds())
                break
    return values

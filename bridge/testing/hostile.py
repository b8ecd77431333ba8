"""The hostile-input campaign engine: feed one bad input, judge what the bridge did, prove it still works.

Shared by ``tests/hostile`` (small, CI-sized) and ``benchmarks/hostile.py``
(thousands of generated cases). Each :class:`Case` goes through a real service
entry point of a :class:`~bridge.testing.rig.Rig` (``on_hub_message`` with a
:class:`~bridge.edges.amqp.consumer.Delivery`, ``on_legacy_frame``, or
``on_legacy_garbage`` for bytes the deframer refused); :meth:`Campaign.feed`
then sorts the result into an :class:`Outcome` and sends one good frame end to
end (stored, published, RC-REF'd) to prove nothing else was lost.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from structlog.testing import capture_logs
from twisted.internet import defer

from bridge.core.errors import InboundError
from bridge.core.framing import NEED_DATA, Deframer
from bridge.core.pipeline import hub_to_legacy, legacy_to_hub
from bridge.edges.amqp.consumer import Delivery
from bridge.refdata.profiles import build_context, load_profile
from bridge.runtime.demo import demo_frame
from bridge.testing.rig import SAMU, SDIS, Rig

JSON, XML = "application/json", "application/xml"
GOOD_FRAMES_FROM = 500_000  # good frames use DEMO-5xxxxx; hostile cases built from demo frames stay below
FINISHED = {"delivered", "answered"}
APPLIED_EVENTS = {"rcref_for_unknown_message", "rs_error", "rcref_out_of_sequence"}  # valid ack/info bodies
HUB_QUEUES = {"hub": "message", "hub-ack": "ack", "hub-info": "info"}  # entry point -> our queue suffix
EDGE_ENTRIES = frozenset({"file", "http", "tcp"})


LONG_LOG_VALUE = 10_000  # characters: log entries with a longer value are replayed in a child process
LOG_REPLAY_BUDGET = 5.0  # seconds the production log pipeline may take on one input's log lines


_PIPELINE: list[Any] = []


def _run_pipeline(entries: Sequence[Mapping[str, Any]]) -> None:
    if not _PIPELINE:
        import io

        from bridge.runtime.logging import build_processors

        _PIPELINE.extend(build_processors("json", False, io.StringIO()))
    processors = _PIPELINE
    for entry in entries:
        event: Any = dict(entry)
        for processor in processors:
            event = processor(None, str(event.get("log_level", "info")), event)


def replay_logs(entries: Sequence[Mapping[str, Any]], budget: float = LOG_REPLAY_BUDGET) -> str | None:
    """Push what an input made the bridge log through the production log pipeline (redaction...).

    Returns None when that took under ``budget`` seconds, else why not. ``capture_logs``
    skips the processors, and a quadratic redaction regex froze the reactor on a 200 kB
    value (issue 12, item 1): entries with a long value are replayed in a forked child
    that is killed past the budget, so a hang is reported, never suffered.
    """
    def longest(value: Any) -> int:
        return len(value) if isinstance(value, (str, bytes)) else 0

    if not any(longest(v) > LONG_LOG_VALUE for entry in entries for v in entry.values()):
        _run_pipeline(entries)
        return None
    import multiprocessing

    child = multiprocessing.get_context("fork").Process(target=_run_pipeline, args=(entries,), daemon=True)
    started = time.perf_counter()
    child.start()
    child.join(budget)
    if child.is_alive():
        child.kill()
        child.join(5)
        return f"the production log pipeline was still busy after {budget:.0f} s on this input's log lines"
    if child.exitcode != 0:
        return f"the production log pipeline failed (exit {child.exitcode})"
    seconds = time.perf_counter() - started
    return None if seconds <= budget else f"log pipeline took {seconds:.1f} s"


class Outcome(str, Enum):  # noqa: UP042 - StrEnum would change str()/format() of members in reports
    """What the bridge did with one hostile input; the last three must never happen."""

    DEAD_LETTERED = "dead-lettered with error"
    REFUSED_AT_FRAMING = "refused at framing (raw bytes dead-lettered)"
    MAPPED_WITH_WARNING = "mapped with warning"
    ACCEPTED = "accepted (valid after all)"
    DUPLICATE = "re-sent valid frame: acked again, stored once"
    NOISE_SKIPPED = "line noise outside STX/ETX skipped (counted, logged, never acked)"
    INCOMPLETE = "incomplete frame held in the buffer (never acked: the LRM re-sends)"
    REFUSED = "refused at the edge (peer closed, entry rejected, HTTP 4xx), nothing stored or leaked"
    UNCLEAR = "dead-lettered WITHOUT original bytes or error path"
    LOST = "LOST (neither stored nor dead-lettered)"
    CRASHED = "CRASHED (exception escaped the service, HTTP 500, loop dead)"
    HUNG = "HUNG (over the per-input budget, or the edge stopped serving)"
    ACCEPTED_WRONGLY = "ACCEPTED WRONGLY (taken, applied or leaked although it must be refused)"


BAD_OUTCOMES = frozenset({Outcome.UNCLEAR, Outcome.LOST, Outcome.CRASHED, Outcome.HUNG, Outcome.ACCEPTED_WRONGLY})
REFUSED_CLEANLY = frozenset({Outcome.DEAD_LETTERED, Outcome.REFUSED_AT_FRAMING, Outcome.NOISE_SKIPPED,
                             Outcome.INCOMPLETE, Outcome.REFUSED})
TAKEN = frozenset({Outcome.ACCEPTED, Outcome.MAPPED_WITH_WARNING, Outcome.DUPLICATE})


@dataclass(frozen=True)
class Case:
    """One hostile input and its entry point.

    ``entry``: ``hub`` (``hub-ack``, ``hub-info``), ``legacy``, ``framing`` (the service
    entry points), or an edge of :mod:`bridge.testing.hostile_edges`: ``file`` (the
    file-drop inbox; ``name`` says what to drop), ``http`` (``data`` is the request
    target), ``tcp`` (a real loopback connection; ``name`` says the scenario).
    ``must_refuse``: taking it (storing, applying, handing it to the LRM) is a defect.
    ``prepare``: builds ``data`` at feed time from the campaign (e.g. an answer to a
    request the bridge has just sent).
    """

    category: str
    data: bytes
    entry: str = "hub"
    content_type: str | None = JSON
    name: str = ""
    must_refuse: bool = False
    prepare: Callable[[Campaign], bytes] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one case, what the bridge said about it, and whether the next good frame got through."""

    case: Case
    outcome: Outcome
    detail: str
    good_message_ok: bool
    answer_dead_letters: tuple[str, ...] = ()  # the reply to an accepted input, parked on its way back
    seconds: float = 0.0  # wall time of the input itself (not of the good frame after it)


@dataclass
class Tally:
    """Counts per category and outcome, for the benchmark's table."""

    counts: Counter = field(default_factory=Counter)
    lost_good: int = 0
    examples: dict[tuple[str, Outcome], str] = field(default_factory=dict)
    answer_dead_letters: Counter = field(default_factory=Counter)
    slowest: dict[str, float] = field(default_factory=dict)  # category -> longest single input, seconds

    def add(self, verdict: Verdict) -> None:
        category = verdict.case.category
        self.slowest[category] = max(self.slowest.get(category, 0.0), verdict.seconds)
        key = (verdict.case.category, verdict.outcome)
        self.counts[key] += 1
        self.examples.setdefault(key, verdict.detail[:160])
        self.lost_good += not verdict.good_message_ok
        self.answer_dead_letters.update(verdict.answer_dead_letters)

    @property
    def bad(self) -> int:
        return sum(n for (_, outcome), n in self.counts.items() if outcome in BAD_OUTCOMES)


def good_frame(profile, n: int, ctx) -> bytes:
    """A valid frame of ``profile`` for case DEMO-n (the demo sheet, re-rendered for other dialects)."""
    frame = demo_frame(n)
    if profile.name == "lrm-alpha-text":
        return frame
    items = legacy_to_hub(frame, load_profile("lrm-alpha-text"), ctx)
    return hub_to_legacy("createCase", items[0].payload, profile, ctx)


class Campaign:
    """Feeds cases to one rig and checks, after each, that a good frame still flows end to end."""

    def __init__(self, rig: Rig, *, check_every: int = 1, hung_after: float | None = None) -> None:
        self.rig = rig
        self.check_every = check_every
        self.hung_after = hung_after  # seconds; None: never judged on time (CI tests, no timed assertions)
        self.edges: Any = None  # bridge.testing.hostile_edges.Edges, built on first use
        self._numbers = itertools.count(GOOD_FRAMES_FROM + 100_000)  # below: for tests' own good frames
        self._fed = 0
        self._ctx = build_context(sender_id=SAMU, recipient_id=SDIS)

    # ------------------------------------------------------------------ one case
    def feed(self, case: Case) -> Verdict:
        """Send ``case`` through its entry point; classify; then prove a good message still gets through."""
        if case.prepare is not None:
            case = replace(case, data=case.prepare(self), prepare=None)
        if case.entry in EDGE_ENTRIES:
            return self._feed_edge(case)
        store = self.rig.store
        dlq_before, stored_before, sent_before = store.dlq_size(), self._stored(), len(self.rig.lrm.sent)
        started = time.perf_counter()
        try:
            with capture_logs() as logs:  # only what the input itself caused, not the replies it leads to
                reply = self._enter(case)
            self.rig.settled(reply)
            crash = None
        except Exception as exc:  # noqa: BLE001 - that is exactly what the campaign looks for
            crash = f"{type(exc).__name__}: {exc}"
        stalled = replay_logs(logs, self.hung_after or LOG_REPLAY_BUDGET)
        seconds = time.perf_counter() - started
        outcome, detail = self._judge(case, crash, dlq_before, stored_before, logs)
        if stalled is not None and outcome not in BAD_OUTCOMES:
            outcome, detail = Outcome.HUNG, f"{stalled}; {detail}"
        self.rig.run(0.2)
        if case.must_refuse and (outcome in TAKEN or len(self.rig.lrm.sent) > sent_before and case.entry == "hub"):
            outcome, detail = Outcome.ACCEPTED_WRONGLY, f"must be refused; {detail}"
        outcome, detail = self._over_budget(outcome, detail, seconds)
        answers = self._answer_dead_letters(case, dlq_before)
        self._fed += 1
        good = self.good_message_flows() if self._fed % self.check_every == 0 else True
        return Verdict(case, outcome, detail, good, answers, seconds)

    def _over_budget(self, outcome: Outcome, detail: str, seconds: float) -> tuple[Outcome, str]:
        if self.hung_after is not None and seconds > self.hung_after and outcome not in BAD_OUTCOMES:
            return Outcome.HUNG, f"{seconds:.1f} s > {self.hung_after} s; {detail}"
        return outcome, detail

    def _feed_edge(self, case: Case) -> Verdict:
        """File drop, HTTP and TCP cases: judged by :mod:`bridge.testing.hostile_edges`."""
        from bridge.testing.hostile_edges import Edges

        if self.edges is None:
            self.edges = Edges(self)
        started = time.perf_counter()
        try:
            outcome, detail = self.edges.feed(case)
        except Exception as exc:  # noqa: BLE001
            outcome, detail = Outcome.CRASHED, f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - started
        if case.entry == "http":  # file and TCP cases spend their time in the harness's polling turns
            outcome, detail = self._over_budget(outcome, detail, seconds)
        self._fed += 1
        good = self.good_message_flows() if self._fed % self.check_every == 0 else True
        return Verdict(case, outcome, detail, good, (), seconds)

    def close(self) -> None:
        if self.edges is not None:
            self.edges.close()

    def _answer_dead_letters(self, case: Case, dlq_before: int) -> tuple[str, ...]:
        """Errors of dead letters in the other direction: the Hub's reply to an input the bridge accepted."""
        if case.entry in HUB_QUEUES:
            return ()
        store = self.rig.store
        return tuple(f"{entry.error_path}: {entry.error.splitlines()[0]}"
                     for entry in (store.dlq_get(i) for i in range(dlq_before + 1, store.dlq_size() + 1))
                     if entry.direction.value == "in")

    def _enter(self, case: Case):
        """Call the entry point; return what it returned (maybe a Deferred, settled by the caller)."""
        service = self.rig.service
        if case.entry in HUB_QUEUES:
            queue = f"{SAMU}.{HUB_QUEUES[case.entry]}"
            callback = {"hub": service.on_hub_message, "hub-ack": service.on_hub_ack,
                        "hub-info": service.on_hub_info}[case.entry]
            return callback(Delivery(body=case.data, queue=queue, routing_key=queue, content_type=case.content_type,
                                     delivery_mode=2, redelivered=False, delivery_tag=self._fed + 1))
        if case.entry == "legacy":
            return service.on_legacy_frame(case.data)
        if case.entry == "framing":
            return self._deframe(case.data)
        raise ValueError(f"unknown entry point {case.entry!r}")

    def _deframe(self, data: bytes) -> defer.Deferred:
        """What the TCP protocol does with a byte stream, without the socket (see tests/hostile for the socket)."""
        profile = self.rig.profile
        deframer = self._deframer = Deframer(profile.framing, max_frame=profile.max_frame)
        replies = []
        try:
            deframer.feed(data)
            while (frame := deframer.next_frame()) is not NEED_DATA:
                replies.append(defer.maybeDeferred(self.rig.service.on_legacy_frame, frame))
        except InboundError as exc:
            self.rig.service.on_legacy_garbage(data, exc)
        return defer.gatherResults(replies, consumeErrors=True)

    def _stored(self) -> int:
        return sum(self.rig.store.counts().values())

    def _judge(self, case: Case, crash: str | None, dlq_before: int, stored_before: int, logs) -> tuple[Outcome, str]:
        if crash is not None:
            return Outcome.CRASHED, crash
        store = self.rig.store
        direction = "in" if case.entry in HUB_QUEUES else "out"  # not the dead-lettered *answer* to an accepted input
        entries = [entry for entry in (store.dlq_get(i) for i in range(dlq_before + 1, store.dlq_size() + 1))
                   if entry.direction.value == direction]
        if entries:
            return self._judge_dead_letters(case, entries)
        warnings = [e for e in logs if e.get("event") == "mapping_warning"]
        if warnings:
            return Outcome.MAPPED_WITH_WARNING, f"{warnings[0].get('error_path')}: {warnings[0].get('error')}"
        if any(e.get("event") == "legacy_frame_resent" for e in logs):
            return Outcome.DUPLICATE, "same bytes as a frame already stored"
        if self._stored() > stored_before:
            return Outcome.ACCEPTED, "stored as a valid message"
        applied = [e["event"] for e in logs if e.get("event") in APPLIED_EVENTS]
        if case.entry in ("hub-ack", "hub-info") and applied:
            return Outcome.ACCEPTED, f"valid {case.entry} body, applied ({applied[0]})"
        if case.entry == "framing" and self._deframer.buffered:
            return Outcome.INCOMPLETE, f"{self._deframer.buffered} bytes wait for the rest of their frame"
        if case.entry == "framing" and self._deframer.skipped_bytes:
            return Outcome.NOISE_SKIPPED, f"{self._deframer.skipped_bytes} bytes outside any frame"
        return Outcome.LOST, "no dead letter, no stored message, no warning"

    @staticmethod
    def _judge_dead_letters(case: Case, entries) -> tuple[Outcome, str]:
        first = entries[0]
        detail = f"[{first.source}] {first.error_path}: {first.error.splitlines()[0]}"
        if first.source == "framing":
            ok = first.original == case.data and bool(first.error)
            return (Outcome.REFUSED_AT_FRAMING if ok else Outcome.UNCLEAR), detail
        # A framing case whose frames reached translation: the frame is a slice of the stream.
        original_ok = first.original == case.data or case.entry == "framing" and first.original in case.data
        clear = bool(first.error.strip()) and bool(first.error_path)
        return (Outcome.DEAD_LETTERED if original_ok and clear else Outcome.UNCLEAR), detail

    # ------------------------------------------------------------------ the good message
    def good_frame_bytes(self, offset: int) -> bytes:
        """The valid frame of case DEMO-(500000 + offset) in the rig's dialect."""
        return good_frame(self.rig.profile, GOOD_FRAMES_FROM + offset, self._ctx)

    def good_message_flows(self, max_seconds: float = 5.0) -> bool:
        """One valid frame: acked, stored, published, RC-REF'd (and answered when it asks for help)."""
        n = next(self._numbers)
        frame = good_frame(self.rig.profile, n, self._ctx)
        reply = self.rig.settled(self.rig.service.on_legacy_frame(frame))
        if not isinstance(reply, bytes) or f"DEMO-{n:06d}".encode() not in reply:
            return False
        return self.wait_finished(f"DEMO-{n:06d}", max_seconds)

    def wait_finished(self, sender_case: str, max_seconds: float = 5.0) -> bool:
        """Advance the fake clock until every outbound message of the case is delivered (or answered)."""
        case_id = f"{SAMU}.{sender_case}"
        for _ in range(int(max_seconds / 0.1)):
            self.rig.run(0.1)
            out = [m for m in self.rig.store.by_case(case_id) if m.direction.value == "out"]
            if out and all(m.state.value in FINISHED for m in out):
                return True
        return False

    def run(self, cases) -> Tally:
        """Feed every case; count outcomes."""
        tally = Tally()
        for case in cases:
            tally.add(self.feed(case))
        return tally

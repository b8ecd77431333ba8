"""``bridge run``: one Twisted reactor joining the legacy link, the store and the Hub.

The service holds no translation logic and no SQL: it moves each message
through the durable store (``bridge.edges.store``) with the pure pipeline
(behind :class:`Translator`) and the transports (``bridge.edges``).

Legacy -> Hub: a frame is translated (pure, fast) and stored with its
original bytes in one transaction *before* the LRM gets its ack; a frame that
cannot be translated is dead-lettered with its original bytes (still acked:
the bridge has taken responsibility, the operator replays it after a mapping
fix); only a full store makes the bridge answer the profile's nack. The
publish pump then sends what the store says is publishable (per-case FIFO,
retry times honoured), records the broker confirm, and RC-REF / RS-ERROR from
the Hub close the loop.

Hub -> legacy: a message is stored in the inbox (deduplicated on
distributionID) before the broker ack, handed to the LRM when one is
connected, and only then acknowledged end to end with an RC-REF.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

import structlog
from twisted.internet import defer, task
from twisted.python.failure import Failure

from bridge.app import lifelog
from bridge.app.clock import utc_now
from bridge.app.ports import (
    FrameHandled,
    HubDelivery,
    HubPayload,
    LegacyUnavailable,
    Nack,
    Scheduler,
    StoreFull,
    StoreUnavailable,
    Translation,
)
from bridge.app.records import Message, translation_notes
from bridge.core.adapters.rc_eda import local_case_id
from bridge.core.delivery import IllegalTransition, RetryPolicy
from bridge.core.edxl import Unwrapped, make_error, make_reference, unwrap, wrap, wrap_json
from bridge.core.errors import BridgeError, HubErrorCode, InboundError, Issue
from bridge.refdata.hub_bodies import dumps_hub

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

log = structlog.get_logger("bridge.app.service")

JSON = "application/json"
MAX_EVIDENCE_BYTES = 1_048_576  # of an unreferenced RS-ERROR searched for our distributionIDs
MAX_PENDING_ERRORS = 1000  # RS-ERRORs kept for a retry while the Hub is away (the dead letters keep the rest)
MAX_ERROR_CAUSE = 1000  # characters of our own reason quoted in an RS-ERROR we send
# what may arrive on each of our queues: RC-REF on .ack, RS-ERROR on .info, anything else on .message
QUEUE_PAYLOADS = {"message": frozenset({"reference", "error"}), "ack": frozenset({"reference"}),
                  "info": frozenset({"error"})}
RETENTION_CHECK_SECONDS = 3600.0


class Translator(Protocol):
    """What the service needs from the translation pipeline (pure functions)."""

    adapter: str
    profile: str

    def to_hub(self, frame: bytes, linked_case: Callable[[str], str | None] | None = None) -> list[HubPayload]: ...

    def to_legacy(self, message: Unwrapped, original_frame: bytes | None = None,
                  earlier: Sequence[Unwrapped] = ()) -> bytes | None: ...

    def ack_for(self, frame: bytes, reference: str | None = None, warnings: list[Issue] | None = None
                ) -> bytes | None: ...

    def nack_for(self, frame: bytes, code: str, reason: str, reference: str | None = None) -> bytes | None: ...

    def encode_hub(self, message: dict[str, Any], content_type: str) -> bytes: ...

    def decode_hub(self, body: bytes, content_type: str | None) -> dict[str, Any]: ...


class HubLink(Protocol):
    client_id: str
    state: str

    def publish(self, body: bytes, *, content_type: str | None = None,
                message_id: str | None = None) -> defer.Deferred[Any]: ...


class LegacySide(Protocol):
    connected: bool

    def send(self, payload: bytes) -> None: ...


@dataclass
class ServiceSettings:
    client_id: str
    recipient_id: str
    content_type: str = JSON
    rcref_deadline: timedelta = timedelta(seconds=60)
    # a Hub message not handed to the LRM this long after its last transition raises the
    # inbound-overdue alarm (ERROR log, metric, console); it keeps waiting for the LRM
    handover_deadline: timedelta = timedelta(seconds=60)
    pump_interval: float = 0.2
    batch: int = 200
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    retention: timedelta = timedelta(days=30)
    # seconds a group commit stays open to gather writes. 0 = until the end of the current
    # reactor turn: everything read from the sockets in one turn shares one fsync, and an idle
    # bridge commits at once (a fixed 2 ms window cost latency and measured no throughput gain)
    commit_window: float = 0.0


# An inbound update is merged onto the LRM's sheet with the case's earlier Hub messages; past this
# many, only the first (the case itself) and the latest are re-read (RC-RI lists every vehicle anew).
MAX_CASE_HISTORY = 100
CASE_STATE_READS = 5  # newest RC-EDA bodies of a case read for an RS-EDA-MAJ's earlier state (one that reads back wins)


class BridgeService:
    """The running bridge; every callback returns quickly and never raises into Twisted."""

    # store: bridge.edges.store.Store and metrics: bridge.edges.metrics.BridgeMetrics (edges the app cannot import)
    def __init__(self, settings: ServiceSettings, *, reactor: Scheduler, store: Any, translator: Translator,
                 metrics: Any = None, clock: Callable[[], datetime] = utc_now,
                 new_uuid: Callable[[], str] | None = None, rng: Callable[[], float] = random.random) -> None:
        import uuid

        self.settings = settings
        self.reactor = reactor
        self.store = store
        self.translator = translator
        self.metrics = metrics
        self.clock = clock
        self.new_uuid = new_uuid or (lambda: str(uuid.uuid4()))
        self.rng = rng
        self.hub: HubLink | None = None
        self.legacy: LegacySide | None = None
        self._in_flight: set[int] = set()
        self._pump_loop: task.LoopingCall | None = None
        self._retention_loop: task.LoopingCall | None = None
        self._pumping = False
        self._kicked = False
        self._outbox_grew = False  # the open group holds an accepted frame's messages: its commit calls a pass
        # what waits for the next commit: (Deferred, value it fires with, value if the commit fails or _ERRBACK)
        self._waiters: list[tuple[defer.Deferred[Any], Any, Any]] = []
        self._rcref_retry: dict[int, Unwrapped] = {}  # inbound messages whose RC-REF publish failed
        self._error_retry: list[tuple[bytes, str, str]] = []  # RS-ERRORs we send whose publish failed
        self._handing_over: set[int] = set()  # written to the LRM, not yet marked handed over
        self._overdue_alarmed: set[int] = set()  # inbound messages already reported as waiting too long
        self._stopped = False  # after stop() no delayed callback touches the store (it may be closed)

    # ------------------------------------------------------------------ lifecycle
    def attach(self, *, hub: HubLink, legacy: LegacySide) -> None:
        self.hub, self.legacy = hub, legacy

    def start(self) -> None:
        clock = cast("IReactorTime", self.reactor)  # LoopingCall uses only callLater and seconds
        self._pump_loop = task.LoopingCall(self.pump)
        self._pump_loop.clock = clock
        self._pump_loop.start(self.settings.pump_interval, now=True).addErrback(self._pump_crashed)
        self._retention_loop = task.LoopingCall(self.purge_expired)
        self._retention_loop.clock = clock
        self._retention_loop.start(RETENTION_CHECK_SECONDS, now=False).addErrback(self._pump_crashed)

    def stop(self) -> None:
        """Stop the loops and commit what is open; later callbacks leave the store alone.

        Hand-over marks, RC-REF confirms and publish confirms that land after this
        are not recorded: the store is about to close. Each is redone after the
        restart (a repeat hand-over or publish is at-least-once, never a loss).
        """
        for loop in (self._pump_loop, self._retention_loop):
            if loop is not None and loop.running:
                loop.stop()
        self.commit()
        self._stopped = True

    def purge_expired(self) -> int:
        """Retention: delivered/answered/acked messages older than the retention period go; failed ones stay."""
        purged = self.store.purge_delivered(self.clock() - self.settings.retention)
        if purged:
            log.info("store_purged", count=purged)
        return int(purged)

    def _pump_crashed(self, failure: Failure) -> None:
        log.error("pump_crashed", error=failure.getErrorMessage())

    # ------------------------------------------------------------------ legacy -> hub
    def on_legacy_frame(self, frame: bytes) -> FrameHandled | bytes | None:
        """Store the frame (translated, or dead-lettered) durably, then answer the LRM.

        The returned :class:`FrameHandled` says at once whether the frame was a valid
        message (``accepted``); it fires with the reply once that is durable.
        """
        now = self.clock()
        started = time.perf_counter()
        try:
            items = self._to_hub(frame)
            messages = [self._wrap(item) for item in items]
        except BridgeError as exc:
            self._open_group()
            self._dead_letter_frame(frame, exc, now)
            self._count("out", "dead_lettered")
            # parked with its bytes, and refused to the LRM: a NACK with the Hub error code and the failing field
            nack = self.translator.nack_for(frame, str(int(exc.hub_code)), _refusal_reason(exc),
                                            _reference_of(self.translator, frame))
            return self._reply_when_durable(nack, nack, accepted=False)
        if self.metrics is not None:
            self.metrics.observe_translation(time.perf_counter() - started)
        reference = _sender_case_id(items)
        if not items:  # a health LRM's RS-SR repeating a status the fire side already has: nothing to send
            reference = _reference_of(self.translator, frame)
            log.info("resource_status_unchanged", case_id=reference)
            self._count("out", "duplicate")
            return self.translator.ack_for(frame, reference)
        self._open_group()
        try:
            # idempotent: the LRM re-sends a frame whose ack it never saw (we crashed after the commit)
            intake = self.store.accept_legacy_frame(frame, messages, adapter=self.translator.adapter,
                                                    profile=self.translator.profile, received_at=now)
        except StoreUnavailable as exc:  # disk full, locked, a group lost: not back-pressure
            log.error("store_unavailable_nack", error=exc.message, case_id=reference)
            self._count("out", "refused")
            return self.translator.nack_for(frame, "STORE", "bridge store failed, retry", reference)
        except StoreFull as exc:
            log.warning("outbox_full_nack", error=exc.message)
            self._count("out", "refused")
            return self.translator.nack_for(frame, "FULL", "bridge outbox full, retry later", reference)
        # what the LRM should hear about: values altered (fallbacks...); documented derivations stay in the logs
        warnings = [w for item in items for w in item.warnings if w.code == "value-altered"]
        if intake.duplicate:
            log.info("legacy_frame_resent", case_id=reference, messages=len(intake.ids))
            self._count("out", "duplicate")
        else:
            self._count("out", "received", len(intake.ids))
            self._record_alterations("out", list(intake.ids), warnings, now)
            lifelog.outbound_stored(messages, items, self.translator.adapter)
        ack = (self.translator.ack_for(frame, reference, warnings) if warnings
               else self.translator.ack_for(frame, reference))
        # the LRM's ack leaves only once the frame is committed; a failed commit answers the nack (built then)
        return self._reply_when_durable(
            ack, lambda: self.translator.nack_for(frame, "STORE", "bridge store failed, retry", reference),
            accepted=True)

    def on_legacy_garbage(self, data: bytes, error: InboundError) -> None:
        """Bytes that do not even form a frame: park them for the operator."""
        self._dead_letter_frame(data, error, self.clock(), source="framing")

    def on_lrm_connected(self) -> None:
        """An LRM (re)connected: hand it what the Hub sent while it was away."""
        self.reactor.callLater(0, self.flush_inbox)

    def _translate_frame(self, frame: bytes) -> list[Translation]:
        return [self._wrap(item) for item in self._to_hub(frame)]

    def _to_hub(self, frame: bytes) -> list[HubPayload]:
        """The frame's Hub payloads: a health LRM's RS-SR is merged onto the case's resources the store knows;
        a legacy dossier number linked to a partner's case goes out under that case's id."""
        if getattr(self.translator, "reads_case_resources", False):
            return self.translator.to_hub(frame, known=self.known_resources,  # type: ignore[call-arg]
                                          known_case=self.known_case)
        if getattr(self.store, "case_link", None) is None:
            return self.translator.to_hub(frame)
        return self.translator.to_hub(frame, linked_case=self._linked_case)

    def known_resources(self, case_id: str) -> Any:
        """The case's resources as the bridge told the fire side (its stored RC-RI, folded by the translator).

        Read inside the open group commit, so a status that arrived in the same reactor
        turn as the RS-RI it follows sees it (per-case order is the arrival order).
        """
        bodies = self.store.case_resource_messages(case_id, limit=MAX_CASE_HISTORY)
        return self.translator.known_resources(bodies)  # type: ignore[attr-defined]

    def known_case(self, case_id: str) -> Any:
        """The case as the bridge last sent it to the fire side (its newest stored RC-EDA, decoded), or None.

        Read inside the open group commit like :meth:`known_resources`: an RS-EDA-MAJ right after
        its RS-EDA, or after another update, merges onto the one before.
        """
        bodies = self.store.case_sent_messages(case_id, "createCase", limit=CASE_STATE_READS)
        return self.translator.known_case(bodies)  # type: ignore[attr-defined]

    def _linked_case(self, reference: str) -> str | None:
        """The partner's Hub case id the LRM's dossier ``reference`` stands for (docs/fidelity.md), if linked."""
        link = self.store.case_link(reference)
        if link is None:
            return None
        if link.ambiguous:
            log.warning("case_link_ambiguous", reference=reference, case_id=link.hub_case_id,
                        error="this dossier number was handed to the LRM for more than one Hub case: "
                              "its frames go out under the LRM's own case id, not linked")
            return None
        hub_case_id: str = link.hub_case_id
        return hub_case_id

    def _wrap(self, item: HubPayload) -> Translation:
        message_uuid = self.new_uuid()
        distribution_id = f"{self.settings.client_id}_{message_uuid}"
        payload = item.payload
        if item.name == "emsi":
            # EMSI convention: CONTEXT.ID repeats the RC-DE messageId, so answers can point back at it.
            payload = {**payload, "CONTEXT": {**payload["CONTEXT"], "ID": distribution_id}}
        # as built: the encoders' dict, checked by its model's schema here (the one payload check when no schema
        # bundle is installed) and sent as it is, not as the model's dump of it (tests/unit/test_wrap_as_built.py)
        kind = "Update" if self._case_shared(item.case_id) else "Report"
        if self.settings.content_type == JSON:
            # the Hub JSON writer (the translator's for JSON) fills in an envelope written once per addressing
            # around the payload's JSON: the same bytes as writing the whole message (tests/unit/test_wrap_json.py)
            body = wrap_json(item.name, payload, sender_id=self.settings.client_id,
                             recipient_id=self.settings.recipient_id, now=self.clock(), message_uuid=message_uuid,
                             kind=kind, dumps=dumps_hub)
        else:
            message = wrap(item.name, payload, sender_id=self.settings.client_id,
                           recipient_id=self.settings.recipient_id, now=self.clock(), message_uuid=message_uuid,
                           kind=kind, as_built=True)
            body = self.translator.encode_hub(message, self.settings.content_type)
        return Translation(translated=body, distribution_id=distribution_id, case_id=item.case_id,
                           case_version=item.case_version, content_type=self.settings.content_type,
                           notes=translation_notes(item.mapped, item.dropped, item.warnings))

    def _case_shared(self, case_id: str | None) -> bool:
        """Whether the case is already on the Hub: a frame of this dossier went out, or the partner sent it
        (a case the partner created, linked to the LRM's dossier): a later message is an update (docs/operations.md)."""
        if case_id is None:
            return False
        return bool(self.store.has_case(case_id))

    def _dead_letter_frame(self, frame: bytes, exc: BridgeError, now: datetime, source: str = "translation") -> None:
        first = exc.issues[0] if exc.issues else None
        log.warning("legacy_frame_dead_lettered", error=exc.message, path=first and first.path, source=source)
        self.store.dead_letter(frame, error=str(exc), error_path=first and first.path, source=source, at=now,
                               direction="out", adapter=self.translator.adapter, profile=self.translator.profile)

    # ------------------------------------------------------------------ publish pump
    def kick(self) -> None:
        """Ask for a publish soon (coalesced: many frames, one pass)."""
        if not self._kicked:
            self._kicked = True
            self.reactor.callLater(0, self._publish_pass)

    def _publish_pass(self) -> None:
        """What a commit or a confirm may have made publishable, now; the periodic pump does the rest.

        Replays, overdue RC-REF flags and RC-REF retries are not urgent: doing them
        on every commit cost a write transaction per commit for nothing.
        """
        self._kicked = False
        if self._stopped:
            return
        self._run_pass(self._publish_ready)

    def pump(self) -> None:
        """The periodic pass: replays, publishing, overdue RC-REF flags, RC-REF retries."""
        self._run_pass(self._retranslate_replays, self._publish_ready, self._housekeeping, self._retry_references)

    def _run_pass(self, *steps: Callable[[], None]) -> None:
        """Commit, then run ``steps`` in order; a pass never starts inside another one."""
        if self._pumping:
            return
        self.commit()  # publish only what is committed
        self._pumping = True
        try:
            for step in steps:
                step()
        finally:
            self._pumping = False

    def _retranslate_replays(self) -> None:
        """Messages back in RECEIVED (dead-letter replays) go through the current tables again."""
        for msg in self.store.pending_translation(self.settings.batch):
            now = self.clock()
            try:
                results = self._translate_frame(msg.original)
            except BridgeError as exc:
                first = exc.issues[0] if exc.issues else None
                self.store.mark_translation_failed(msg.id, error=str(exc), error_path=first and first.path, at=now)
                continue
            self.store.record_translations(msg.id, results, at=now)

    def _publish_ready(self) -> None:
        hub = self.hub
        if hub is None or hub.state != "connected":
            return
        budget = self.settings.batch - len(self._in_flight)
        if budget <= 0:
            return
        for msg in self.store.next_publishable(self.clock(), budget, in_flight=self._in_flight):
            self._in_flight.add(msg.id)
            started = self.clock()
            # a link that raises takes the same retry path as a failed publish
            d = defer.maybeDeferred(hub.publish, msg.translated, content_type=msg.content_type,
                                    message_id=msg.distribution_id)
            lifelog.of_message("message_published", msg, self.translator.adapter, attempt=msg.attempts + 1)
            d.addCallbacks(self._confirmed, self._publish_failed, callbackArgs=(msg, started),
                           errbackArgs=(msg,))
            d.addErrback(lambda f: log.error("publish_bookkeeping_failed", error=f.getErrorMessage()))

    def _confirmed(self, _result: object, msg: Message, started: datetime) -> None:
        now = self.clock()
        if self.metrics is not None:
            self.metrics.observe_publish((now - started).total_seconds())

        self._in_flight.discard(msg.id)
        if self._stopped:  # the store may be closed: the message is published again after the restart
            return
        self._open_group()  # a confirm lost in a crash only means a re-publish, same distributionID
        try:
            self.store.mark_published(msg.id, at=now, rcref_deadline=now + self.settings.rcref_deadline)
        except IllegalTransition as exc:  # the RC-REF overtook the confirm: already delivered
            log.info("confirm_after_rcref", distribution_id=msg.distribution_id, detail=str(exc))
            return
        self._count("out", "published")
        lifelog.of_message("message_confirmed", msg, self.translator.adapter)
        self.kick()  # the next message of the same case may go now

    # ------------------------------------------------------------------ group commit
    def _open_group(self) -> None:
        """Writes from now until the commit window closes share one transaction (one fsync).

        Nothing that depends on a write leaves the bridge before that commit:
        LRM acks and broker acks wait on :meth:`durable`, and the publish pump
        commits first so it only ever publishes committed messages.
        """
        if not self._stopped and not self.store.grouping:  # stopped: each write commits on its own
            self.store.begin_group()
            self.reactor.callLater(self.settings.commit_window, self.commit)

    def durable(self) -> defer.Deferred[None]:
        """A Deferred firing once everything written so far is committed (at once if nothing is pending)."""
        if not self.store.grouping:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._waiters.append((waiter, None, _ERRBACK))
        return waiter

    def _reply_when_durable(self, ack: bytes | None, nack: bytes | None | Callable[[], bytes | None], *,
                            accepted: bool) -> FrameHandled:
        """The LRM's reply, firing once everything written so far is committed: ``ack``, or ``nack`` if that
        commit fails (a callable: built only then). One Deferred per frame (a waiter with the reply chained onto it
        made two and three callbacks)."""
        handled = FrameHandled()
        handled.accepted = accepted
        if not self.store.grouping:
            handled.callback(ack)
        else:
            self._waiters.append((handled, ack, nack))
            self._outbox_grew = self._outbox_grew or accepted
        return handled

    def commit(self) -> None:
        """Close the group: COMMIT, then release every ack that waited for it."""
        if self._stopped or not self.store.grouping:
            return
        waiters, self._waiters = self._waiters, []
        outbox_grew, self._outbox_grew = self._outbox_grew, False
        try:
            self.store.commit_group()
        except Exception as exc:  # noqa: BLE001 - nothing of the group is durable: every waiter learns it
            log.error("group_commit_failed", error=repr(exc), waiting=len(waiters))
            for waiter, _done, failed in waiters:
                if failed is _ERRBACK:
                    waiter.errback(exc)
                    continue
                try:
                    reply = failed() if callable(failed) else failed
                except Exception as nack_exc:  # noqa: BLE001 - no reply then; the LRM resends after its timeout
                    log.error("nack_not_built", error=repr(nack_exc))
                    reply = None
                waiter.callback(reply)
            return
        if self.metrics is not None:
            self.metrics.group_committed()
        for waiter, done, _failed in waiters:
            waiter.callback(done)
        if outbox_grew:
            # what this commit made publishable goes now; nothing else a group writes does (a confirm kicks on its
            # own: the next message of its case; RC-REFs, inbound messages, dead letters free no outbox message;
            # retry times, replays and the rest are the periodic pump's)
            self.kick()

    def _publish_failed(self, failure: Failure, msg: Message) -> None:
        self._in_flight.discard(msg.id)
        if self._stopped:
            return
        error = failure.getErrorMessage() or failure.type.__name__
        try:
            retry_at = self.store.mark_publish_failed(msg.id, error=error, now=self.clock(),
                                                      policy=self.settings.retry, rng_value=self.rng())
        except IllegalTransition as exc:  # e.g. an RC-REF arrived although the confirm was lost
            log.info("publish_failure_after_delivery", distribution_id=msg.distribution_id, detail=str(exc))
            return
        log.warning("publish_failed", distribution_id=msg.distribution_id, error=error,
                    retry_at=retry_at and retry_at.isoformat())
        if retry_at is None:
            self._count("out", "dead_lettered")
            lifelog.of_message("message_dead_lettered", msg, self.translator.adapter, error=error)

    def _housekeeping(self) -> None:
        now = self.clock()
        for msg in self.store.flag_overdue_rcref(now):
            log.warning("rcref_overdue", distribution_id=msg.distribution_id, case_id=msg.case_id)
            if self.metrics is not None:
                self.metrics.rcref_overdue()
        self._alarm_inbound_overdue(now)

    def _alarm_inbound_overdue(self, now: datetime) -> None:
        """No Hub message waits for the LRM in silence: past the deadline, one ERROR line and a metric each.

        The message keeps waiting (it is handed over as soon as the LRM can take it);
        the console and ``bridge_inbound_overdue`` show how many wait, the log says which.
        """
        waiting = self.store.inbound_waiting_since(now - self.settings.handover_deadline, self.settings.batch)
        if len(waiting) < self.settings.batch:  # a complete list: forget the ones no longer waiting
            self._overdue_alarmed &= {msg.id for msg in waiting}
        for msg in waiting:
            if msg.id in self._overdue_alarmed:
                continue
            self._overdue_alarmed.add(msg.id)
            connected = self.legacy is not None and self.legacy.connected
            log.error("inbound_not_handed_over", distribution_id=msg.distribution_id, case_id=msg.case_id,
                      state=msg.state.value, waiting_since=msg.updated_at.isoformat(), lrm_connected=connected)
            if self.metrics is not None:
                self.metrics.inbound_overdue()
        if waiting and self.legacy is not None and self.legacy.connected:
            self.flush_inbox()  # the LRM is there: whatever made them wait, try again (each isolated)

    # ------------------------------------------------------------------ hub -> us
    def on_hub_message(self, delivery: HubDelivery) -> defer.Deferred[None] | None:
        """A functional message for us: inbox first, then the LRM, then RC-REF, in one group commit.

        The broker ack follows this return, so it comes only after the commit:
        a crash before it makes the broker redeliver, and the inbox deduplicates.
        """
        self._open_group()
        try:
            self._on_hub_message(delivery)
        except Nack:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug on one message must not requeue it for ever
            self._park_unexpected(delivery, exc, source="hub")
        return self.durable()

    def _park_unexpected(self, delivery: HubDelivery, exc: Exception, *, source: str) -> None:
        """An unexpected error while taking a Hub delivery: dead-letter its bytes (or requeue if even that fails)."""
        error = f"internal error while receiving: {type(exc).__name__}: {exc}"
        log.error("hub_delivery_failed", queue=getattr(delivery, "queue", None), error=error)
        try:
            self.store.dead_letter(delivery.body, error=error, error_path="/", source=source, at=self.clock(),
                                   direction="in", content_type=delivery.content_type)
        except Exception as store_exc:  # noqa: BLE001 - not stored anywhere: the broker must keep it
            raise Nack(f"{error}; and it could not be dead-lettered: {store_exc!r}") from None
        self._count("in", "dead_lettered")

    def _on_hub_message(self, delivery: HubDelivery) -> defer.Deferred[None] | None:
        now = self.clock()
        try:
            received = self._read(delivery.body, delivery.content_type)
        except BridgeError as exc:
            first = exc.issues[0] if exc.issues else None
            self.store.dead_letter(delivery.body, error=str(exc), error_path=first and first.path,
                                   source="hub", at=now, direction="in", content_type=delivery.content_type)
            self._count("in", "dead_lettered")
            return None  # acked: parked in our dead-letter table, not lost
        problem = self._addressing_problem(received, "message") or self._answer_problem(received)
        if problem is not None:
            self._refuse_delivery(delivery, received, problem, source="hub")
            return None  # acked: parked in our dead-letter table with the reason, never handed to the LRM
        case_id, case_version = _case_identity(received)
        try:
            message_id, duplicate = self.store.record_inbound(
                delivery.body, distribution_id=received.distribution_id, case_id=case_id,
                case_version=case_version, received_at=now, adapter="hub", content_type=delivery.content_type)
        except StoreFull as exc:  # includes StoreUnavailable: not stored, so not acked
            log.error("inbox_unavailable_requeue", distribution_id=received.distribution_id, error=exc.message)
            raise Nack(exc.message) from None
        if duplicate:
            self._count("in", "duplicate")
            return None
        self._count("in", "received")
        lifelog.inbound("message_received", received, case_id, self.translator.adapter, kind=received.payload_name)
        self._note_answer(received, now)
        self._hand_over(message_id, received)
        return None

    # ------------------------------------------------------------------ who may send what
    def _addressing_problem(self, received: Unwrapped, queue: str) -> tuple[str, str, str] | None:
        """Why this delivery is not ours to take, as (reason key, path, message); None when it is.

        The dispatcher checks that the envelope sender is the publisher; we check the
        rest: the message is for us, does not claim to come from us, its RC-DE header
        agrees with its envelope, and its kind belongs on the queue it came from.
        """
        us = self.settings.client_id
        if received.recipient_id != us:
            return ("misaddressed", "/descriptor/explicitAddress/explicitAddressValue",
                    f"addressed to {received.recipient_id!r}, not to us ({us})")
        if received.sender_id == us:
            return ("spoofed-sender", "/senderID", f"claims to come from us ({us})")
        header_sender = received.header_sender  # the checked RC-DE header's, "hubex:" removed (no model built)
        if header_sender is not None:
            if header_sender != received.sender_id:
                return ("spoofed-sender", "/message/sender/URI",
                        f"RC-DE sender {header_sender!r} differs from the envelope senderID {received.sender_id!r}")
            recipients = set(received.header_recipients)
            if us not in recipients:
                return ("misaddressed", "/message/recipient",
                        f"RC-DE recipients {sorted(recipients)} do not include us ({us})")
        expected = QUEUE_PAYLOADS[queue]
        if (received.payload_name in expected) != (queue != "message"):
            return ("wrong-queue", f"/{received.payload_name}",
                    f"a {received.payload_name} message on our .{queue} queue")
        return None

    def _answer_problem(self, received: Unwrapped) -> tuple[str, str, str] | None:
        """An EMSI answer must come from the client our request was sent to."""
        if received.payload_name != "emsi":
            return None
        for link in received.payload.get("CONTEXT", {}).get("LINK") or ():
            request = self.store.find(str(link.get("ID", "")), direction="out")
            if request is None:
                continue
            recipient = self._recipient_of(request.translated, request.content_type)
            if recipient is not None and recipient != received.sender_id:
                return ("answer-from-stranger", "/emsi/CONTEXT/LINK",
                        f"answers our {link.get('ID')} sent to {recipient!r}, but comes from {received.sender_id!r}")
        return None

    def _recipient_of(self, translated: bytes | None, content_type: str | None) -> str | None:
        """The client a stored outbound body (``translated``) was addressed to."""
        if translated is None:  # not translated yet: our one peer
            return self.settings.recipient_id
        recipient = _built_recipient(translated, content_type)
        if recipient is not None:
            return recipient
        try:
            return self._read(translated, content_type).recipient_id
        except Exception:  # noqa: BLE001 - unreadable: fall back on our one peer
            return self.settings.recipient_id

    def _refuse_delivery(self, delivery: HubDelivery, received: Unwrapped, problem: tuple[str, str, str], *,
                         source: str) -> None:
        key, path, reason = problem
        log.warning("hub_delivery_refused", queue=getattr(delivery, "queue", None), reason=key, error=reason, path=path,
                    distribution_id=received.distribution_id, sender=received.sender_id)
        self.store.dead_letter(delivery.body, error=f"refused: {reason}", error_path=path, source=source,
                               at=self.clock(), direction="in", content_type=delivery.content_type)
        self._count("in", "dead_lettered")
        if self.metrics is not None:
            self.metrics.inbound_refused(key)

    def _note_answer(self, received: Unwrapped, now: datetime) -> None:
        if received.payload_name != "emsi":
            return
        for link in received.payload.get("CONTEXT", {}).get("LINK") or ():
            original = self.store.mark_answered(link.get("ID", ""), at=now, detail="EMSI answer received")
            if original is not None:
                self._count("out", "answered")
                lifelog.of_message("message_answered", original, self.translator.adapter,
                                   answer_id=received.distribution_id)

    def _hand_over(self, message_id: int, received: Unwrapped) -> bool:
        """Translate and write one message to the LRM; False only when the LRM is not there (stop flushing).

        Any other failure (a mapping error, a payload the link's framing cannot
        carry, a bug) belongs to this message alone: it is dead-lettered with its
        bytes and the reason, alarmed, and the sender gets an RS-ERROR.
        """
        try:
            legacy_bytes = self._to_legacy(message_id, received, self.clock())
            lifelog.inbound("message_translated", received, _case_identity(received)[0], self.translator.adapter)
            if legacy_bytes is None:
                self._handed_over(message_id, received)
                return True
            if self.legacy is None or not self.legacy.connected:
                return False  # stays RECEIVED; flush_inbox retries when the LRM is back
            self.legacy.send(legacy_bytes)
        except LegacyUnavailable:
            return False
        except Exception as exc:  # noqa: BLE001 - isolate this message, whatever the cause
            self._hand_over_failed(message_id, received, exc)
            return True
        # Twisted writes on its next loop turn: marking now, a kill -9 before that write would
        # lose the answer (marked handed over, never sent). Two hops put one I/O turn between
        # the write and the mark; a kill in that gap re-sends it after restart (at-least-once).
        self._handing_over.add(message_id)
        self.reactor.callLater(0, self.reactor.callLater, 0, self._handed_over, message_id, received)
        return True

    def _hand_over_failed(self, message_id: int, received: Unwrapped, exc: Exception) -> None:
        if isinstance(exc, BridgeError):
            error, path = str(exc), _first_path(exc) or "/"
        else:  # e.g. the framing refused the payload: STX/ETX inside an STX/ETX-framed link
            error, path = f"hand-over to the LRM failed: {type(exc).__name__}: {exc}", "/hand-over"
        log.error("inbound_hand_over_failed", distribution_id=received.distribution_id, sender=received.sender_id,
                  error=error, error_path=path)
        if self.metrics is not None:
            self.metrics.hand_over_failed()
        try:
            self.store.mark_inbound_failed(message_id, error=error, error_path=path, at=self.clock())
        except Exception as store_exc:  # noqa: BLE001 - it stays RECEIVED: the overdue alarm names it
            log.error("inbound_dead_letter_failed", distribution_id=received.distribution_id, error=repr(store_exc))
            return
        self._count("in", "dead_lettered")
        lifelog.inbound("message_dead_lettered", received, _case_identity(received)[0], self.translator.adapter,
                        error=error)
        self._send_error(received, _error_code(exc),
                         f"message received but not delivered to the legacy system: {error}")

    def _send_error(self, received: Unwrapped, code: HubErrorCode, reason: str) -> None:
        """Tell the sender (RS-ERROR on its ``.info`` queue) that its message went no further than our dead letters.

        Best effort: the dead letter holds the message whatever happens to this answer.
        """
        if self.hub is None or self._stopped:
            return
        try:
            message_uuid = self.new_uuid()
            error = make_error(code, reason[:MAX_ERROR_CAUSE], None, received.distribution_id)
            message = wrap("error", error, sender_id=self.settings.client_id, recipient_id=received.sender_id,
                           now=self.clock(), message_uuid=message_uuid, kind="Error")
            body = self.translator.encode_hub(message, self.settings.content_type)
        except Exception as exc:  # noqa: BLE001
            log.error("rs_error_not_built", distribution_id=received.distribution_id, error=repr(exc))
            return
        self._publish_error(body, f"{self.settings.client_id}_{message_uuid}", received.distribution_id)

    def _publish_error(self, body: bytes, message_id: str, about: str) -> None:
        def failed(failure: Any) -> None:  # e.g. the Hub link still connecting: the periodic pump retries it
            log.warning("rs_error_publish_failed", distribution_id=about, error=failure.getErrorMessage())
            if len(self._error_retry) < MAX_PENDING_ERRORS:
                self._error_retry.append((body, message_id, about))

        if self.hub is None:  # no Hub link attached yet: the periodic pump sends it once there is one
            if len(self._error_retry) < MAX_PENDING_ERRORS:
                self._error_retry.append((body, message_id, about))
            return
        d = defer.maybeDeferred(self.hub.publish, body, content_type=self.settings.content_type, message_id=message_id)
        d.addErrback(failed)

    def _to_legacy(self, message_id: int, received: Unwrapped, now: datetime) -> bytes | None:
        """The LRM's bytes; alterations made on the way (degraded codes...) go into the message history."""
        sheet = self._case_sheet(message_id, received)
        with_warnings = getattr(self.translator, "to_legacy_result", None)
        if with_warnings is None:
            return self.translator.to_legacy(received, *sheet)
        result = with_warnings(received, *sheet)
        if result is None:
            return None
        self._record_alterations("in", [message_id], list(result.warnings), now)
        data: bytes = result.data
        self._link_partner_case(message_id, received, data, now)
        return data

    def _link_partner_case(self, message_id: int, received: Unwrapped, legacy: bytes, now: datetime) -> None:
        """Remember which Hub case the dossier number written for the LRM stands for (docs/fidelity.md).

        A case the partner created reaches the LRM under the number its sheet carries (the
        partner's ``senderCaseId``); the LRM's later frames carry only that number. Linked here,
        they go out under the partner's caseId as updates. When the sheet carries the Hub case
        id itself nothing is needed; when it carries no number, or a number that is already
        the LRM's own case or another Hub case's, the gap is declared (log + message history),
        never guessed.
        """
        case_id, _ = _case_identity(received)
        us = self.settings.client_id
        read_back = getattr(self.translator, "case_reference", None)
        if (case_id is None or case_id.startswith(us + ".") or read_back is None
                or getattr(self.store, "link_case", None) is None
                or getattr(self.translator, "reads_case_resources", False)):  # the health model carries caseId
            return
        carried, reference = read_back(legacy)
        if carried == case_id:
            return  # the dialect carries the Hub case id itself
        problem = None
        if carried is not None:
            problem = f"the LRM's sheet names another case ({carried})"
        elif not reference:
            problem = "the LRM's sheet has no dossier number to link"
        elif self.store.has_case(f"{us}.{local_case_id(reference)}", direction="out"):
            problem = f"dossier {reference!r} is already one of the LRM's own cases"
        else:
            outcome = self.store.link_case(reference, case_id, profile=self.translator.profile, at=now)
            if outcome == "linked":
                log.info("partner_case_linked", case_id=case_id, reference=reference)
                self._note(message_id, "case_linked", f"the LRM's dossier {reference!r} is this case ({case_id})", now)
            if outcome == "ambiguous":
                problem = f"dossier {reference!r} was already handed to the LRM for another case"
        if problem is not None:
            error = (f"{problem}: the LRM's later frames about {case_id} will go out under another case id "
                     "(a new case on the partner's side), not as updates")
            log.warning("partner_case_not_linked", case_id=case_id, reference=reference, error=error)
            self._note(message_id, "case_not_linked", error, now)

    def _note(self, message_id: int, event: str, detail: str, now: datetime) -> None:
        note = getattr(self.store, "note_events", None)
        if note is not None:
            note(message_id, event, [detail], at=now)

    def _record_alterations(self, direction: str, message_ids: list[int], warnings: list[Issue],
                            now: datetime) -> None:
        """Every value-altered warning: in the message history (console), the metrics (per table) and the log."""
        altered = [w for w in warnings if w.code == "value-altered"]
        if not altered:
            return
        note = getattr(self.store, "note_events", None)
        if note is not None:
            for message_id in message_ids:
                note(message_id, "value_altered", [f"{w.path}: {w.message}" for w in altered], at=now)
        for warning in altered:
            table = _table_of(warning.message)
            log.warning("value_altered", direction=direction, table=table, path=warning.path, error=warning.message)
            if self.metrics is not None and hasattr(self.metrics, "value_altered"):
                self.metrics.value_altered(direction=direction, table=table)

    def _original_frame(self, received: Unwrapped) -> bytes | None:
        """The LRM frame an EMSI answer answers (its CONTEXT.LINK names our request's distributionID)."""
        if received.payload_name != "emsi":
            return None
        for link in received.payload.get("CONTEXT", {}).get("LINK") or ():
            request = self.store.find(str(link.get("ID", "")), direction="out")
            if request is not None:
                original: bytes | None = request.original
                return original
        return None

    def _case_sheet(self, message_id: int, received: Unwrapped) -> tuple[bytes | None, list[Unwrapped]]:
        """What the LRM holds for the message's case: its own last frame, and the Hub messages since.

        An update (EMSI operation, RC-RI status) is merged onto that, in arrival order per
        case (docs/operations.md). Only the case's rows are read (indexed by case id).
        """
        answered = self._original_frame(received)
        case_id, _ = _case_identity(received)
        if received.payload_name == "createCase" or case_id is None:
            return answered, []
        rows = [m for m in self.store.by_case(case_id) if m.id != message_id]
        own = [m for m in rows if m.direction == "out"]
        base = answered or (own[-1].original if own else None)
        since = own[-1].id if own and answered is None else 0
        inbound = [row for row in rows if row.direction == "in" and since < row.id < message_id]
        if len(inbound) > MAX_CASE_HISTORY:  # budget: one update never re-reads more than this many messages
            log.warning("case_history_truncated", case_id=case_id, messages=len(inbound), kept=MAX_CASE_HISTORY)
            inbound = inbound[:1] + inbound[-(MAX_CASE_HISTORY - 1):]  # the first (createCase) and the latest
        earlier = []
        for row in inbound:
            try:
                earlier.append(self._read(row.original, row.content_type))
            except BridgeError:
                continue  # dead-lettered when it came; not part of the sheet
        return base, earlier

    def _handed_over(self, message_id: int, received: Unwrapped) -> None:
        self._handing_over.discard(message_id)
        if self._stopped:  # the store may be closed: handed over again after the restart (at-least-once)
            return
        self._open_group()
        try:
            self.store.mark_inbound_handed_over(message_id, at=self.clock())
        except Exception as exc:  # noqa: BLE001 - e.g. store closed by a shutdown: it is handed over again later
            log.warning("hand_over_not_recorded", distribution_id=received.distribution_id, error=repr(exc))
            return
        self._count("in", "handed_over")
        lifelog.inbound("message_handed_over", received, _case_identity(received)[0], self.translator.adapter)
        self._send_reference(message_id, received)

    def _send_reference(self, message_id: int, received: Unwrapped) -> None:
        message_uuid = self.new_uuid()
        message = wrap("reference", make_reference(received.distribution_id), sender_id=self.settings.client_id,
                       recipient_id=received.sender_id, now=self.clock(), message_uuid=message_uuid, kind="Ack")
        body = self.translator.encode_hub(message, self.settings.content_type)
        ref_id = f"{self.settings.client_id}_{message_uuid}"

        def acked(_: object) -> None:
            if self._stopped:  # the RC-REF is sent again after the restart (a repeat is harmless)
                return
            self._open_group()
            self.store.mark_inbound_acked(message_id, at=self.clock(), rcref_distribution_id=ref_id)
            lifelog.inbound("rcref_sent", received, _case_identity(received)[0], self.translator.adapter, rcref_id=ref_id)

        def failed(failure: Failure) -> None:
            log.warning("rcref_publish_failed", error=failure.getErrorMessage(),
                        distribution_id=received.distribution_id)
            self._rcref_retry[message_id] = received

        if self.hub is None:  # no Hub link attached (yet): the RC-REF retry sends it once one is
            defer.fail(RuntimeError("no Hub link attached")).addErrback(failed)
            return
        d = defer.maybeDeferred(self.hub.publish, body, content_type=self.settings.content_type, message_id=ref_id)
        d.addCallbacks(acked, failed)

    def _retry_references(self) -> None:
        """RC-REFs whose publish failed (broker restarting) go again once the Hub is back.

        Without this they waited for the next LRM reconnect or bridge restart, and the
        peer saw its message as never acknowledged. A repeat RC-REF is harmless.
        """
        if self.hub is None or self.hub.state != "connected":
            return
        errors, self._error_retry = self._error_retry, []
        for body, error_id, about in errors:
            self._publish_error(body, error_id, about)
        if not self._rcref_retry:
            return
        retry, self._rcref_retry = self._rcref_retry, {}
        for message_id, received in retry.items():
            self._send_reference(message_id, received)

    def flush_inbox(self) -> None:
        """Hand over inbound messages that waited for the LRM; resend RC-REFs that never left."""
        if self._stopped:
            return
        for msg in self.store.pending_inbound(self.settings.batch):
            if msg.id in self._handing_over:
                continue  # written already, its mark is on the way
            try:
                received = self._read(msg.original, msg.content_type)
            except Exception as exc:  # noqa: BLE001 - stored once, unreadable now (schemas changed?): park it
                self._stored_inbound_unreadable(msg.id, exc)
                continue
            if not self._hand_over(msg.id, received):
                break
        for msg in self.store.handed_over_unacked(self.settings.batch):
            try:
                received = self._read(msg.original, msg.content_type)
            except Exception as exc:  # noqa: BLE001 - the LRM has it; no RC-REF can be built
                log.error("rcref_not_built", message_id=msg.id, error=repr(exc))
                continue
            self._send_reference(msg.id, received)

    def _stored_inbound_unreadable(self, message_id: int, exc: Exception) -> None:
        error = f"stored inbound message no longer readable: {type(exc).__name__}: {exc}"
        log.error("inbound_hand_over_failed", message_id=message_id, error=error)
        try:
            self.store.mark_inbound_failed(message_id, error=error, error_path="/", at=self.clock())
        except Exception as store_exc:  # noqa: BLE001
            log.error("inbound_dead_letter_failed", message_id=message_id, error=repr(store_exc))

    def on_hub_ack(self, delivery: HubDelivery) -> defer.Deferred[None] | None:
        """RC-REF: the recipient has the message; mark ours delivered (broker ack once that is durable)."""
        now = self.clock()
        try:
            received = self._read(delivery.body, delivery.content_type)
        except BridgeError as exc:
            self.store.dead_letter(delivery.body, error=str(exc), error_path=_first_path(exc), source="hub-ack", at=now,
                                   direction="in", content_type=delivery.content_type)
            return None
        self._open_group()
        problem = self._addressing_problem(received, "ack") or self._ack_problem(received)
        if problem is not None:
            self._refuse_delivery(delivery, received, problem, source="hub-ack")
            return self.durable()
        reference = received.payload.get("distributionID")
        msg = self.store.mark_delivered(reference, at=now) if reference else None
        if msg is None:
            log.warning("rcref_for_unknown_message", distribution_id=reference)
        else:
            self._count("out", "delivered")
            lifelog.of_message("rcref_received", msg, self.translator.adapter)
        return self.durable()  # the broker ack waits for the commit

    def _ack_problem(self, received: Unwrapped) -> tuple[str, str, str] | None:
        """An RC-REF must come from the client the acknowledged message was sent to."""
        request = self.store.outbound_body(str(received.payload.get("distributionID", "")))
        if request is None:
            return None
        recipient = self._recipient_of(*request)
        if recipient is not None and recipient != received.sender_id:
            return ("ack-from-stranger", "/reference/distributionID",
                    f"acknowledges our message sent to {recipient!r}, but comes from {received.sender_id!r}")
        return None

    def on_hub_info(self, delivery: HubDelivery) -> None:
        """RS-ERROR: the Hub (or the peer) refused one of our messages."""
        now = self.clock()
        try:
            received = self._read(delivery.body, delivery.content_type)
        except BridgeError as exc:
            self.store.dead_letter(delivery.body, error=str(exc), error_path=_first_path(exc), source="hub-info",
                                   at=now, direction="in", content_type=delivery.content_type)
            return
        problem = self._addressing_problem(received, "info")
        if problem is not None:
            self._refuse_delivery(delivery, received, problem, source="hub-info")
            return
        error = received.payload
        code = int((error.get("errorCode") or {}).get("statusCode", 700))
        reason = str(error.get("errorCause", ""))
        source = error.get("sourceMessage") or {}
        referenced = error.get("referencedDistributionID") or source.get("distributionID")
        log.error("rs_error", distribution_id=referenced, code=code, reason=reason)
        if self.metrics is not None:
            self.metrics.rs_error(code)
        if referenced:
            failed = self.store.mark_failed(referenced, hub_code=code, reason=reason, at=now)
            self._count("out", "failed")
            if failed is not None:
                lifelog.of_message("message_failed", failed, self.translator.adapter, code=code, reason=reason)
            return
        self._unreferenced_error(delivery, code, reason, now)

    def _unreferenced_error(self, delivery: Any, code: int, reason: str, now: datetime) -> None:
        """An RS-ERROR naming no distributionID (the Hub could not read our body): find ours by evidence.

        Our distributionIDs quoted anywhere in the body (cause, source message) are
        failed with the Hub's code. With no such evidence, nothing is guessed: the
        RS-ERROR is dead-lettered for the operator, logged at ERROR with the messages
        published in the last RC-REF window (the candidates), and those keep waiting
        for their RC-REF (the overdue alarm flags them if none comes).
        """
        pattern = re.compile(re.escape(self.settings.client_id.encode()) + rb"_[0-9a-fA-F-]{36}")
        matched = []
        for found in dict.fromkeys(pattern.findall(delivery.body[:MAX_EVIDENCE_BYTES])):
            msg = self.store.mark_failed(found.decode(), hub_code=code, reason=reason, at=now)
            if msg is not None:
                matched.append(msg.distribution_id)
                self._count("out", "failed")
        if matched:
            log.error("rs_error_matched_by_evidence", code=code, distribution_ids=matched)
            return
        candidates = [m.distribution_id for m in self.store.published_between(now - self.settings.rcref_deadline, now)
                      if m.state.value == "published"]
        log.error("rs_error_unreferenced", code=code, candidates=candidates[:20], candidate_count=len(candidates))
        self.store.dead_letter(delivery.body, error=f"RS-ERROR {code} names none of our messages: {reason[:1000]}",
                               error_path="/referencedDistributionID", source="hub-info", at=now, direction="in",
                               content_type=delivery.content_type, hub_error_code=code)

    def _read(self, body: bytes, content_type: str | None) -> Unwrapped:
        """A Hub body (as received, or as stored in the inbox) checked and split into envelope and payload.

        An RC-REF laid out as the Hub's clients write it is read by :func:`_plain_reference` (the same
        document as the strict JSON reader gives); any other body by the translator's strict reader.
        """
        document = _plain_reference(body, content_type)
        return unwrap(document if document is not None else self.translator.decode_hub(body, content_type))

    def _count(self, direction: str, state: str, n: int = 1) -> None:
        if self.metrics is not None:
            self.metrics.message(direction=direction, adapter=self.translator.adapter, state=state, count=n)


_ERRBACK = object()  # a durable() waiter: errback with the commit's error


def _error_code(exc: Exception) -> HubErrorCode:
    """The RS-ERROR code for a message the LRM could not be given: the refusal's own when it is a
    client-side code (7xx, e.g. 704 INSUFFICIENT_DATA: the LRM requires a field the message lacks),
    else 700 INTERNAL_CLIENT_ERROR (1xx-6xx describe the Hub dispatcher's checks, not a recipient's)."""
    if isinstance(exc, BridgeError) and int(exc.hub_code) >= 700:
        return exc.hub_code
    return HubErrorCode.INTERNAL_CLIENT_ERROR


def _refusal_reason(exc: BridgeError) -> str:
    """One line for a NACK or an RS-ERROR: the failing field first, then why."""
    first = exc.issues[0] if exc.issues else None
    if first is None:
        return " ".join(exc.message.split())
    return " ".join(f"{first.path}: {first.message}".split())


def _reference_of(translator: Any, frame: bytes) -> str | None:
    finder = getattr(translator, "reference_of", None)
    return finder(frame) if finder is not None else None


def _table_of(message: str) -> str:
    """The table a mapping warning names (``table 'lrm-alpha-nature': ...``), for the per-table metric."""
    match = re.search(r"table '([^']+)'", message)
    return match.group(1) if match else "-"


def _built_recipient(body: bytes, content_type: str | None) -> str | None:
    """The recipient of a JSON envelope the bridge built, checked and stored itself, read without re-validating it.

    Every RC-REF is checked against the recipient of the message it acknowledges;
    unwrapping our own stored message again (strict JSON, pydantic) cost more than
    the rest of the RC-REF's handling, and so did parsing its whole JSON for one field.
    The envelope fields come first in the bodies the bridge writes (:func:`wrap`), so one
    anchored pattern over them finds the recipient; their values are plain text (no
    quote, no escape), so nothing in the payload can be taken for them. ``None`` (not
    JSON, or not laid out that way): the caller reads it the full way.
    """
    if content_type not in (None, JSON):
        return None
    match = _BUILT_ENVELOPE.match(body)
    if match is None:
        return None
    try:
        return match[1].decode()
    except UnicodeDecodeError:
        return None


# the envelope of a body wrap() built, up to its content, as encode_hub writes it (compact, keys in model order)
_PLAIN_TEXT = rb'"[^"\\]{0,512}"'
_BUILT_ENVELOPE = re.compile(
    rb'\{"distributionID":' + _PLAIN_TEXT + rb',"senderID":' + _PLAIN_TEXT
    + rb',"dateTimeSent":' + _PLAIN_TEXT + rb',"dateTimeExpires":' + _PLAIN_TEXT
    + rb',"distributionStatus":' + _PLAIN_TEXT + rb',"distributionKind":' + _PLAIN_TEXT
    + rb',"descriptor":\{"language":' + _PLAIN_TEXT + rb',"explicitAddress":\{"explicitAddressScheme":' + _PLAIN_TEXT
    + rb',"explicitAddressValue":"([^"\\]{1,512})"\}\},"content":\[')


def _plain_reference(body: bytes, content_type: str | None) -> dict[str, Any] | None:
    """The JSON document of an RC-REF written compactly in the envelope's order with plain strings, else None.

    Every RC-REF of a sheet's life is read on the hot path; the strict JSON reader
    (``bridge.core.jsonstrict``) spends most of its time in the hooks that refuse duplicate
    keys and bound numbers. For a body that is exactly this layout, neither can occur: each
    object's keys are fixed and distinct, there is no number, no nesting beyond the envelope's,
    and every string is plain (no quote, backslash or control character, so its text is its
    value). The body must decode as UTF-8 as a whole, as the strict reader requires, and a
    leading BOM does not match. The document is then the one the strict reader returns (same
    keys in the same order, same strings), and unwrap() checks it as it checks any other:
    tests/unit/test_rcref_path.py compares both on generated bodies. Anything else (other
    order, spacing, escapes, optional RC-REF fields) is None: the strict reader reads it.
    """
    if content_type not in (None, JSON) or body.__class__ is not bytes or body[:1] != b"{":
        return None
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    match = _PLAIN_REFERENCE.fullmatch(text)
    if match is None:
        return None
    (distribution_id, sender_id, sent, expires, status, kind, language, scheme, recipient_id, message_id, sender_name,
     sender_uri, sent_at, header_kind, header_status, recipient_name, recipient_uri, reference) = match.groups()
    return {"distributionID": distribution_id, "senderID": sender_id, "dateTimeSent": sent, "dateTimeExpires": expires,
            "distributionStatus": status, "distributionKind": kind,
            "descriptor": {"language": language,
                           "explicitAddress": {"explicitAddressScheme": scheme, "explicitAddressValue": recipient_id}},
            "content": [{"jsonContent": {"embeddedJsonContent": {"message": {
                "messageId": message_id, "sender": {"name": sender_name, "URI": sender_uri}, "sentAt": sent_at,
                "kind": header_kind, "status": header_status,
                "recipient": [{"name": recipient_name, "URI": recipient_uri}],
                "reference": {"distributionID": reference}}}}}]}


_VALUE = r'"([^"\\\x00-\x1f]*)"'  # a JSON string whose text is its value: no quote, backslash or control character
_PLAIN_REFERENCE = re.compile(
    r'\{"distributionID":' + _VALUE + r',"senderID":' + _VALUE + r',"dateTimeSent":' + _VALUE
    + r',"dateTimeExpires":' + _VALUE + r',"distributionStatus":' + _VALUE + r',"distributionKind":' + _VALUE
    + r',"descriptor":\{"language":' + _VALUE + r',"explicitAddress":\{"explicitAddressScheme":' + _VALUE
    + r',"explicitAddressValue":' + _VALUE + r'\}\},"content":\[\{"jsonContent":\{"embeddedJsonContent":\{"message":'
    + r'\{"messageId":' + _VALUE + r',"sender":\{"name":' + _VALUE + r',"URI":' + _VALUE + r'\},"sentAt":' + _VALUE
    + r',"kind":' + _VALUE + r',"status":' + _VALUE + r',"recipient":\[\{"name":' + _VALUE + r',"URI":' + _VALUE
    + r'\}\],"reference":\{"distributionID":' + _VALUE + r'\}\}\}\}\}\]\}')


def _first_path(exc: BridgeError) -> str | None:
    """Where the first problem is (JSON pointer, XPath, line), for the dead-letter entry."""
    return exc.issues[0].path if exc.issues else None


def _sender_case_id(items: list[HubPayload]) -> str | None:
    for item in items:
        if item.name == "createCase":
            return item.payload.get("senderCaseId") or item.payload.get("caseId")
    # a health LRM's resources message (RC-RI for NexSIS): the Hub case id it names
    return next((item.payload.get("caseId") for item in items if item.name == "resourcesInfoCisu"), None)


def _case_identity(received: Unwrapped) -> tuple[str | None, str | None]:
    payload = received.payload
    if received.payload_name == "createCase":
        return payload.get("caseId"), None
    if received.payload_name == "emsi":
        return payload.get("EVENT", {}).get("MAIN_EVENT_ID") or payload.get("EVENT", {}).get("ID"), None
    if received.payload_name == "resourcesInfoCisu":
        return payload.get("caseId"), None
    return None, None

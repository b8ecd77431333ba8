"""Replay: send dead-lettered messages again, or re-publish a time window.

Used by ``bridge dlq replay`` / ``bridge replay`` and by the ops console. The
expected workflow after a mapping-table fix: fix the CSV, let the bridge reload
it, then replay the dead letters the fix concerns. Replaying never deletes
the dead-letter entry: it is marked replayed and points to the message that
carries it on, so the history of both stays readable.

Two ways to replay a dead-lettered outbound message:

* without ``reprocess`` (the CLI): it goes back to the outbox as a new RECEIVED
  message and the running service translates it with its current tables;
* with ``reprocess`` (in-process callers such as the console): it is
  translated now; a translation that still fails leaves the entry in the
  dead-letter queue with the new error recorded, and no message is created.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bridge.app.ports import DeadLetterStore as Store
from bridge.app.records import DeadLetter, MessageId, StoreFull, Translation
from bridge.core.delivery import Direction, IllegalTransition
from bridge.core.errors import BridgeError

__all__ = ["ReplayMeta", "ReplayOutcome", "Reprocess", "replay_all", "replay_dead_letter", "replay_window"]


@dataclass(frozen=True, slots=True)
class ReplayMeta:
    """What a re-translation needs to know besides the original bytes."""

    dlq_id: int
    direction: Direction
    adapter: str | None
    profile: str | None
    content_type: str | None
    source: str

    @classmethod
    def of(cls, entry: DeadLetter) -> ReplayMeta:
        return cls(entry.id, entry.direction, entry.adapter, entry.profile, entry.content_type, entry.source)


#: Translate original bytes again into one or more Hub messages (a BridgeError when they still cannot be).
Reprocess = Callable[[bytes, ReplayMeta], "Translation | Sequence[Translation]"]


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """Result of replaying one entry: the message carrying it on, or why it stayed."""

    dlq_id: int
    message_id: MessageId | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, object]:
        return {"dlq_id": self.dlq_id, "message_id": self.message_id, "ok": self.ok, "error": self.error}


def replay_dead_letter(store: Store, dlq_id: int, *, now: datetime, reprocess: Reprocess | None = None) -> ReplayOutcome:
    """Replay one dead-letter entry; never raises for a refusal, says it in the outcome.

    :class:`StoreFull` is the exception: back-pressure must stop a bulk replay.
    """
    entry = store.dlq_get(dlq_id)
    translations: Sequence[Translation] = ()
    if reprocess is not None and entry.direction is Direction.OUT and entry.replayed_at is None:
        try:
            result = reprocess(entry.original, ReplayMeta.of(entry))
        except BridgeError as exc:
            store.note_replay_failed(dlq_id, error=str(exc), at=now)
            return ReplayOutcome(dlq_id, error=str(exc))
        translations = [result] if isinstance(result, Translation) else list(result)
        if not translations:
            error = "translation produced no Hub message"
            store.note_replay_failed(dlq_id, error=error, at=now)
            return ReplayOutcome(dlq_id, error=error)
    try:
        return ReplayOutcome(dlq_id, store.requeue_dead_letter(dlq_id, at=now, translations=translations))
    except StoreFull:
        raise
    except IllegalTransition as exc:
        return ReplayOutcome(dlq_id, error=str(exc))


def replay_all(
    store: Store, *, now: datetime, since: datetime | None = None, reprocess: Reprocess | None = None
) -> list[ReplayOutcome]:
    """Replay every pending entry created at or after ``since``, oldest first.

    Stops early, without losing anything, when the outbox is full: the entries
    not reached stay in the dead-letter queue and the last outcome says why.
    """
    outcomes: list[ReplayOutcome] = []
    for entry in store.dlq_list(since):
        try:
            outcomes.append(replay_dead_letter(store, entry.id, now=now, reprocess=reprocess))
        except StoreFull as exc:
            outcomes.append(ReplayOutcome(entry.id, error=str(exc)))
            break
    return outcomes


def replay_window(store: Store, t0: datetime, t1: datetime, *, now: datetime) -> list[MessageId]:
    """Re-queue outbound messages published in ``[t0, t1)`` for a new publish with the SAME distributionID.

    Receivers deduplicate on distributionID, so a message they already have is
    acknowledged and ignored; one they lost is applied. Returns the re-queued ids.
    """
    if t1 <= t0:
        raise ValueError(f"empty window: --from {t0.isoformat()} is not before --to {t1.isoformat()}")
    return store.republish_window(t0, t1, at=now)

"""Replay operations of the store: dead letters back into the flow, published windows re-queued.

A mixin of :class:`bridge.edges.store.Store`, kept apart so each module stays
short; it relies on the store's transaction and transition helpers (``_tx``,
``_load``, ``_apply``, ``_insert``, ``_check_room``, ``_record_translations``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bridge.app.records import (
    Attempt,
    DeadLetter,
    Message,
    MessageId,
    Translation,
    UnknownMessage,
    to_db_time,
)
from bridge.core.delivery import Direction, Event, IllegalTransition, State
from bridge.edges.store.transactions import replayable

__all__ = ["ReplayOps"]


class ReplayOps:
    """Replay and re-publish; every method is one transaction."""

    path: str
    _tx: Any
    _load: Any
    _apply: Any
    _insert: Any
    _check_room: Any
    _record_translations: Any


    @replayable
    def requeue_dead_letter(self, dlq_id: int, *, at: datetime, translations: Sequence[Translation] = ()) -> MessageId:
        """Replay one dead-letter entry (see :mod:`bridge.app.replay`); returns the message that carries it on.

        Outbound: a NEW outbox message with the original bytes, linked to the entry,
        RECEIVED (the service re-translates it) or TRANSLATED when ``translations``
        are given (several: sibling messages follow it). Inbound with a message: that
        message goes back to RECEIVED (its distributionID keeps deduplicating). The
        entry is marked replayed in the same transaction.
        """
        with self._tx() as conn:
            entry = self._load_dead_letter(conn, dlq_id)
            if entry.replayed_at is not None:
                raise IllegalTransition(f"dead letter {dlq_id} was already replayed as message {entry.replayed_as}")
            if entry.direction is Direction.IN:
                target = self._requeue_inbound(conn, entry, at)
            else:
                target = self._requeue_outbound(conn, entry, at, translations)
            conn.execute("UPDATE dead_letters SET replayed_at = ?, replayed_as = ?, last_replay_error = NULL"
                         " WHERE id = ?", (to_db_time(at), target, dlq_id))
            return target

    def _requeue_outbound(self, conn: sqlite3.Connection, entry: DeadLetter, at: datetime,
                          translations: Sequence[Translation]) -> MessageId:
        self._check_room(conn)
        message_id = self._insert(conn, Direction.OUT, State.RECEIVED, entry.original, at,
                                  f"replay of dead letter {entry.id}", adapter=entry.adapter,
                                  profile=entry.profile, replay_of=entry.id)
        if translations:
            self._record_translations(conn, self._load(conn, message_id), translations, at)
        return message_id

    def _requeue_inbound(self, conn: sqlite3.Connection, entry: DeadLetter, at: datetime) -> MessageId:
        if entry.message_id is None:
            raise IllegalTransition(
                f"dead letter {entry.id} holds inbound bytes that never became a message"
                f" ({entry.error}); they cannot be replayed, ask the sender to resend")
        msg = self._load(conn, entry.message_id)
        self._apply(conn, msg, Event.REPLAY, at, f"replay of dead letter {entry.id}",
                    last_error=None, error_path=None, translated=None)
        return msg.id

    @replayable
    def mark_replayed(self, dlq_id: int, *, at: datetime, message_id: MessageId | None = None,
                      note: str = "resolved by the operator") -> None:
        """Take an entry off the queue without replaying it through the bridge (handled by other means)."""
        with self._tx() as conn:
            entry = self._load_dead_letter(conn, dlq_id)
            if entry.replayed_at is not None:
                raise IllegalTransition(f"dead letter {dlq_id} was already replayed as message {entry.replayed_as}")
            history = [*entry.attempts, Attempt(at, note)]
            conn.execute("UPDATE dead_letters SET replayed_at = ?, replayed_as = ?, attempts = ? WHERE id = ?",
                         (to_db_time(at), message_id, json.dumps([a.as_dict() for a in history]), dlq_id))

    @replayable
    def note_replay_failed(self, dlq_id: int, *, error: str, at: datetime) -> None:
        """Remember why a replay attempt failed; the entry stays in the dead-letter queue."""
        with self._tx() as conn:
            entry = self._load_dead_letter(conn, dlq_id)
            history = [*entry.attempts, Attempt(at, f"replay failed: {error}")]
            conn.execute("UPDATE dead_letters SET last_replay_error = ?, attempts = ? WHERE id = ?",
                         (error, json.dumps([a.as_dict() for a in history]), dlq_id))

    @replayable
    def republish_window(self, t0: datetime, t1: datetime, *, at: datetime) -> list[MessageId]:
        """Re-queue outbound messages published in ``[t0, t1)`` with their SAME distributionID."""
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT * FROM messages WHERE direction = 'out' AND published_at >= ? AND published_at < ?"
                " AND state IN ('published', 'delivered', 'answered') ORDER BY id",
                (to_db_time(t0), to_db_time(t1))).fetchall()
            for row in rows:
                self._apply(conn, Message.from_row(row), Event.REPUBLISH, at,
                            f"replay of window {to_db_time(t0)} .. {to_db_time(t1)}",
                            attempts=0, next_attempt_at=None, rcref_overdue_at=None)
            return [row["id"] for row in rows]

    def _load_dead_letter(self, conn: sqlite3.Connection, dlq_id: int) -> DeadLetter:
        row = conn.execute("SELECT * FROM dead_letters WHERE id = ?", (dlq_id,)).fetchone()
        if row is None:
            raise UnknownMessage(f"no dead-letter entry with id {dlq_id} in {self.path}")
        return DeadLetter.from_row(row)

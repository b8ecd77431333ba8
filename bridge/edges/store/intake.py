"""Idempotent legacy intake: a frame the LRM sends again is recognised, not queued twice.

Why: the bridge acks a frame only after it is stored, so a crash between the
commit and the ack (or an ack lost with the TCP connection) makes a well-behaved
LRM send the same frame again. Without this, that re-send would become a second
set of Hub messages with new distributionIDs, which no receiver can recognise
as a repeat. The store keeps the SHA-256 of each accepted frame's bytes (table
``legacy_intake``, migration 3) in the same transaction as its messages; a frame
whose bytes are already known is answered "duplicate" and the caller acks it
again without creating anything. The key goes when its first message is purged
(``ON DELETE CASCADE``), so the dedup window is the retention period.

A mixin of :class:`bridge.edges.store.Store`, relying on its helpers
(``_accepting``, ``_refuse_when_full``, ``_load``, ``_log``).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.app.records import MessageId, Translation, to_db_time
from bridge.core.delivery import Direction, Event, State, next_state
from bridge.edges.store.queries import PENDING_COUNT
from bridge.edges.store.transactions import replayable

MAPPING_NOTES = "mapping_notes"  # history line holding a translation's notes (JSON), right after "translate"

__all__ = ["IntakeOps", "IntakeResult", "frame_key"]

# A frame's row written once, already translated, and its history lines in one more statement: the
# rows and lines of inserting it RECEIVED and then applying TRANSLATE (the table's move, taken at import).
_RECEIVED = State.RECEIVED.value
_TRANSLATED = next_state(Direction.OUT, State.RECEIVED, Event.TRANSLATE).value
_INSERT_TRANSLATED = (
    "INSERT INTO messages (direction, state, original, created_at, updated_at, adapter, profile, translated,"
    f" distribution_id, case_id, case_version, content_type) VALUES ('out', '{_TRANSLATED}', ?1, ?2, ?2, ?3, ?4, ?5,"
    " ?6, ?7, ?8, ?9)")
_HISTORY = (
    "INSERT INTO events (message_id, ts, event, from_state, to_state, detail) VALUES"
    f" (?1, ?2, 'accept', NULL, '{_RECEIVED}', NULL), (?1, ?2, '{Event.TRANSLATE.value}', '{_RECEIVED}', '{_TRANSLATED}', ?3)")
# Is the frame known, and how many messages wait (back-pressure): one statement before anything is written.
_KNOWN_AND_PENDING = ("SELECT (SELECT message_id FROM legacy_intake WHERE frame_sha256 = ?), "
                      + PENDING_COUNT.removeprefix("SELECT "))
_INTAKE_KEY = "INSERT INTO legacy_intake (frame_sha256, message_id, created_at) VALUES (?, ?, ?)"
_HISTORY_WITH_NOTES = _HISTORY + f", (?1, ?2, '{MAPPING_NOTES}', '{_TRANSLATED}', '{_TRANSLATED}', ?4)"


def frame_key(original: bytes) -> str:
    """The dedup key of a legacy frame: SHA-256 of its exact bytes, hex."""
    return hashlib.sha256(bytes(original)).hexdigest()


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What became of a legacy frame: the outbound message IDs, and whether it was a re-send."""

    ids: tuple[MessageId, ...]
    duplicate: bool


class IntakeOps:
    """``accept_legacy_frame`` and ``intake_known``; every method is one transaction."""

    _conn: sqlite3.Connection
    _accepting: Any
    _refuse_when_full: Any
    _load: Any
    _log: Any

    @replayable
    def accept_legacy_frame(
        self, original: bytes, translations: Sequence[Translation], *, adapter: str, profile: str | None,
        received_at: datetime,
    ) -> IntakeResult:
        """Store a translated legacy frame once; the same bytes again return the first IDs, ``duplicate=True``.

        Like ``accept_translated``: one row per Hub message, all in one transaction,
        :class:`StoreFull` / :class:`StoreUnavailable` when it cannot be taken (nack).
        A duplicate is answered even when the outbox is full: it takes no room.
        """
        key = frame_key(original)
        with self._accepting() as conn:
            first, pending = conn.execute(_KNOWN_AND_PENDING, (key,)).fetchone()
            if first is not None:
                known = self._frame_ids(conn, int(first))
                msg = self._load(conn, known[0])
                self._log(conn, msg.id, received_at, "duplicate_frame", msg.state, msg.state,
                          f"same legacy frame received again (sha256 {key[:16]})")
                return IntakeResult(tuple(known), True)
            self._refuse_when_full(pending)
            stamp = to_db_time(received_at)  # once: the rows, their history and the intake key share it
            ids = self._insert_translated(conn, original, translations, adapter=adapter, profile=profile, at=stamp)
            if ids:
                conn.execute(_INTAKE_KEY, (key, ids[0], stamp))
            return IntakeResult(tuple(ids), False)

    def _insert_translated(self, conn: sqlite3.Connection, original: bytes, translations: Sequence[Translation], *,
                           adapter: str, profile: str | None, at: datetime | str) -> list[MessageId]:
        """One outbound row per Hub message, all carrying ``original``, in order (per-case FIFO holds).

        Each row is written once, already translated, with its whole history (``accept``,
        ``translate``, the mapping notes) in one more statement: the same rows and history
        lines as inserting it RECEIVED and then applying TRANSLATE, in two statements instead of five.
        """
        stamp = at if isinstance(at, str) else to_db_time(at)  # str: already the stored text
        ids = []
        for result in translations:
            message_id = conn.execute(_INSERT_TRANSLATED, (
                bytes(original), stamp, adapter, profile, bytes(result.translated), result.distribution_id,
                result.case_id, result.case_version, result.content_type)).lastrowid
            if message_id is None:  # an INSERT always sets it; a None would be a sqlite3 defect, not data
                raise RuntimeError("sqlite3 gave no rowid for an inserted message")
            detail = f"{result.content_type}, {len(result.translated)} bytes"
            if result.notes:  # what the console's message page marks (codes mapped, fallbacks, drops, warnings)
                conn.execute(_HISTORY_WITH_NOTES, (message_id, stamp, detail, result.notes))
            else:
                conn.execute(_HISTORY, (message_id, stamp, detail))
            ids.append(message_id)
        return ids

    def intake_known(self, original: bytes) -> bool:
        """Whether these exact frame bytes were already accepted (and not yet purged)."""
        row = self._conn.execute("SELECT 1 FROM legacy_intake WHERE frame_sha256 = ?",
                                 (frame_key(original),)).fetchone()
        return row is not None

    @staticmethod
    def _frame_ids(conn: sqlite3.Connection, first: MessageId) -> list[MessageId]:
        """The frame's first outbound message and its siblings (same bytes, accepted right after it)."""
        original = conn.execute("SELECT original FROM messages WHERE id = ?", (first,)).fetchone()[0]
        rows = conn.execute("SELECT id FROM messages WHERE direction = 'out' AND id >= ? AND original = ?"
                            " ORDER BY id", (first, original)).fetchall()
        return [int(r[0]) for r in rows]

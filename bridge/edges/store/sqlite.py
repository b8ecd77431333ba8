"""The durable store: outbox, inbox and dead-letter table in one SQLite file (WAL).

Why SQLite: one file per bridge instance, no server to run in a control room,
and WAL with ``synchronous=FULL`` makes every committed transition survive a
power cut. Each transition is one ``BEGIN IMMEDIATE`` transaction (the write
lock is taken before reading the current state, so the CLI and the running
service can share the file safely) that updates the message and appends its
history line together: after a crash a message is in the old state or the new
one, never in between. The store never reads the clock: callers pass times in.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Self

from bridge.app.records import (
    Attempt,
    Message,
    MessageHead,
    MessageId,
    StoreFull,
    StoreUnavailable,
    Translation,
    UnknownMessage,
    from_db_time,
    to_db_time,
)
from bridge.core.delivery import (
    TRANSITIONS,
    Direction,
    Event,
    Queued,
    RetryPolicy,
    State,
    is_repeat,
    next_state,
    select_publishable,
)
from bridge.edges.store.case_links import CaseLinkOps
from bridge.edges.store.console_queries import ConsoleQueries
from bridge.edges.store.intake import MAPPING_NOTES, IntakeOps
from bridge.edges.store.migrations import migrate
from bridge.edges.store.queries import MESSAGE_COLUMNS, PENDING_COUNT, StoreQueries, message_of
from bridge.edges.store.replaying import ReplayOps
from bridge.edges.store.transactions import TransactionOps, replayable

__all__ = ["DEFAULT_MAX_PENDING", "SYNCHRONOUS_MODES", "Store"]

DEFAULT_MAX_PENDING = 10_000
SYNCHRONOUS_MODES = ("FULL", "NORMAL", "EXTRA")
_BUSY_TIMEOUT_MS = 5_000
PURGE_BATCH = 2_000  # messages per retention transaction
# The due heads of the queue in acceptance order: a translated outbound message with no earlier translated
# message of its case (NULL case: always a head), due now. Walked along (direction, state, id) and stopped
# at the LIMIT, each candidate checked by one probe of the case index: a pass costs what it returns, not
# the backlog (a GROUP BY over every queued case cost 12 ms per pass with 10,000 messages waiting).
_M_COLUMNS = ", ".join(f"m.{column}" for column in MESSAGE_COLUMNS.split(", "))
_DUE_HEADS = f"""
SELECT {_M_COLUMNS} FROM messages AS m INDEXED BY messages_direction_state
WHERE m.direction = 'out' AND m.state = 'translated' AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= ?1)
  AND NOT EXISTS (SELECT 1 FROM messages AS e INDEXED BY messages_queue_by_case WHERE e.direction = 'out'
                  AND e.state = 'translated' AND e.case_id = m.case_id AND e.id < m.id)
ORDER BY m.id LIMIT ?2
"""


_HISTORY = "INSERT INTO events (message_id, ts, event, from_state, to_state, detail) VALUES (?, ?, ?, ?, ?, ?)"
# The usual move of the two hot transitions in constant statements, the states taken from the table at import:
# a confirm is one UPDATE whose WHERE clause holds the from-state (the row is not read first; RETURNING
# measured dearer than reading the attempt count in the history INSERT); an RC-REF reads the row it returns
# anyway, then updates it by id. Any other state falls back to the table's verdict (repeat, out of sequence).
_CONFIRM_EVENT, _CONFIRM_FROM = Event.CONFIRM.value, State.TRANSLATED.value
_CONFIRM_TO = TRANSITIONS[(Direction.OUT, State.TRANSLATED, Event.CONFIRM)].value
_CONFIRM_USUAL = (
    f"UPDATE messages SET state = '{_CONFIRM_TO}', updated_at = ?1, published_at = ?1, rcref_deadline = ?2,"
    f" rcref_overdue_at = NULL, next_attempt_at = NULL WHERE id = ?3 AND direction = 'out' AND state = '{_CONFIRM_FROM}'")
_CONFIRM_HISTORY = (  # the detail names the attempt: read in the same statement, not by a SELECT first
    "INSERT INTO events (message_id, ts, event, from_state, to_state, detail)"
    f" SELECT id, ?1, '{_CONFIRM_EVENT}', '{_CONFIRM_FROM}', '{_CONFIRM_TO}', 'attempt ' || (attempts + 1)"
    " FROM messages WHERE id = ?2")
_RCREF_EVENT, _RCREF_FROM = Event.RCREF.value, State.PUBLISHED.value
_RCREF_TO = TRANSITIONS[(Direction.OUT, State.PUBLISHED, Event.RCREF)].value
_RCREF_USUAL = f"UPDATE messages SET state = '{_RCREF_TO}', updated_at = ? WHERE id = ?"
# Published messages past their RC-REF deadline, not flagged yet: a range of the partial index of migration 10,
# which holds only those (not every published message: the pump asks every 0.2 s). Its WHERE terms repeat the
# index's, so that SQLite may use it; INDEXED BY keeps it so after an ANALYZE.
_OVERDUE_UNFLAGGED = (
    "SELECT * FROM messages INDEXED BY messages_rcref_due WHERE direction = 'out' AND state = 'published'"
    " AND rcref_overdue_at IS NULL AND rcref_deadline < ? ORDER BY id")


def _cannot_open(target: Path, exc: BaseException) -> StoreUnavailable:
    """Why the store could not be opened, naming the file (a read-only disk said only 'readonly database')."""
    return StoreUnavailable(f"cannot open the store {target}: {exc} (check that the file and its folder are "
                            "writable by this user: store.path / HUB_BRIDGE__STORE__PATH)")


class Store(TransactionOps, IntakeOps, ReplayOps, CaseLinkOps, StoreQueries, ConsoleQueries):
    """Outbox / inbox / dead letters; see ``docs/reliability.md`` for the life of a message."""

    def __init__(self, conn: sqlite3.Connection, *, path: str, max_pending: int) -> None:
        self._conn = conn
        self._grouped = False
        self._in_replayable = False
        self._done = None
        self._lost = None
        self._serial = 0
        self._kept_row = None
        self._kept_case = None
        self.path = path
        self.max_pending = max_pending

    # -- opening --------------------------------------------------------------------------
    @classmethod
    def open(
        cls, path: str | Path, *, synchronous: str = "FULL", max_pending: int = DEFAULT_MAX_PENDING,
        create: bool = True,
    ) -> Store:
        """Open (and create / migrate) the store at ``path``.

        ``create=False`` refuses a missing file, for read-only CLI commands that
        must not leave an empty store behind a typo.
        """
        mode = synchronous.upper()
        if mode not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}, got {synchronous!r}")
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        target = Path(path)
        if not create and not target.exists():
            raise FileNotFoundError(f"no store at {target} (give --store, --config or [store] path)")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise _cannot_open(target, exc) from exc
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {mode}")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn, path=str(target))
        except (OSError, sqlite3.Error) as exc:
            conn.close()
            raise _cannot_open(target, exc) from exc
        except BaseException:
            conn.close()
            raise
        return cls(conn, path=str(target), max_pending=max_pending)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transition helper ----------------------------------------------------------------
    def _load(self, conn: sqlite3.Connection, message_id: MessageId) -> Message:
        row = conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise UnknownMessage(f"no message with id {message_id} in {self.path}")
        return Message.from_row(row)

    def _head(self, conn: sqlite3.Connection, message_id: MessageId) -> MessageHead:
        """What a transition checks (direction, state, attempts), without reading the payloads."""
        row = conn.execute("SELECT id, direction, state, attempts FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise UnknownMessage(f"no message with id {message_id} in {self.path}")
        return MessageHead(row[0], Direction(row[1]), State(row[2]), row[3])

    def _by_distribution_id(self, conn: sqlite3.Connection, distribution_id: str) -> Message | None:
        row = conn.execute(
            "SELECT * FROM messages WHERE direction = 'out' AND distribution_id = ?", (distribution_id,)
        ).fetchone()
        return None if row is None else Message.from_row(row)

    def _apply(
        self, conn: sqlite3.Connection, msg: Message | MessageHead, event: Event, at: datetime,
        detail: str | None = None, **columns: object,
    ) -> State:
        """Move ``msg`` by ``event`` (checked against the table), set ``columns``, log history."""
        target = next_state(msg.direction, msg.state, event, message=msg.id)
        stamp = to_db_time(at)
        assignments = {"state": target.value, "updated_at": stamp, **columns}
        sql = ", ".join(f"{name} = ?" for name in assignments)
        conn.execute(f"UPDATE messages SET {sql} WHERE id = ?", (*assignments.values(), msg.id))
        conn.execute(_HISTORY, (msg.id, stamp, str(event), str(msg.state), str(target), detail))
        return target

    @staticmethod
    def _log(conn: sqlite3.Connection, message_id: MessageId, at: datetime, event: Event | str,
             from_state: State | None, to_state: State, detail: str | None) -> None:
        conn.execute(_HISTORY, (message_id, to_db_time(at), str(event), from_state and str(from_state), str(to_state),
                                detail))

    # -- outbox -----------------------------------------------------------------------------
    @replayable
    def accept_outbound(
        self, original: bytes, *, adapter: str, profile: str | None, received_at: datetime,
        replay_of: int | None = None,
    ) -> MessageId:
        """Store bytes from the legacy side before it is acked; :class:`StoreFull` = nack it."""
        with self._accepting() as conn:
            self._check_room(conn)
            return self._insert(conn, Direction.OUT, State.RECEIVED, original, received_at,
                                adapter=adapter, profile=profile, replay_of=replay_of)

    def _check_room(self, conn: sqlite3.Connection) -> None:
        self._refuse_when_full(self._count_pending(conn))

    def _refuse_when_full(self, pending: int) -> None:
        if pending >= self.max_pending:
            raise StoreFull(
                f"outbox full: {pending} messages wait for the Hub (store.max_pending = {self.max_pending});"
                " refusing new legacy messages until it drains"
            )

    @staticmethod
    def _insert(conn: sqlite3.Connection, direction: Direction, state: State, original: bytes,
                at: datetime, detail: str | None = None, **columns: object) -> MessageId:
        values = {"direction": direction.value, "state": state.value, "original": bytes(original),
                  "created_at": to_db_time(at), "updated_at": to_db_time(at), **columns}
        cursor = conn.execute(
            f"INSERT INTO messages ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
            tuple(values.values()),
        )
        message_id = int(cursor.lastrowid)
        Store._log(conn, message_id, at, "accept" if direction is Direction.OUT else "receive",
                   None, state, detail)
        return message_id

    @replayable
    def record_translated(self, message_id: MessageId, result: Translation, *, at: datetime) -> None:
        """Outbound or inbound message translated; an outbound one becomes publishable."""
        with self._tx() as conn:
            self._translate(conn, self._load(conn, message_id), result, at)

    @replayable
    def accept_translated(
        self, original: bytes, translations: Sequence[Translation], *, adapter: str, profile: str | None,
        received_at: datetime,
    ) -> list[MessageId]:
        """Store a legacy frame already translated into one or more Hub messages, in one transaction.

        One row per Hub message (each has its own distributionID and life), all
        carrying the frame's original bytes, in order: per-case FIFO holds.
        :class:`StoreFull` when the outbox is at its limit (nack the sender).
        """
        with self._accepting() as conn:
            self._check_room(conn)
            return self._insert_translated(conn, original, translations, adapter=adapter, profile=profile,
                                           at=received_at)

    @replayable
    def record_translations(self, message_id: MessageId, translations: Sequence[Translation], *,
                            at: datetime) -> list[MessageId]:
        """A RECEIVED message (crash recovery, DLQ replay) translated into one or more Hub messages.

        The first result goes to the message itself; each further one becomes a
        sibling message with the same original bytes, queued right after it. No
        result at all is a mapping gap: the message is dead-lettered.
        """
        with self._tx() as conn:
            return self._record_translations(conn, self._load(conn, message_id), translations, at)

    def _record_translations(self, conn: sqlite3.Connection, msg: Message, translations: Sequence[Translation],
                             at: datetime) -> list[MessageId]:
        if not translations:
            error = "translation produced no Hub message"
            self._apply(conn, msg, Event.FAIL, at, error, last_error=error)
            self._dead_letter_message(conn, self._load(conn, msg.id), Event.DEAD_LETTER, at,
                                      source="translation", error=error, error_path=None)
            return []
        self._translate(conn, msg, translations[0], at)
        ids = [msg.id]
        for result in translations[1:]:
            sibling = self._insert(conn, Direction.OUT, State.RECEIVED, msg.original, at,
                                   f"also translated from message {msg.id}", adapter=msg.adapter,
                                   profile=msg.profile, replay_of=msg.replay_of)
            self._translate(conn, self._load(conn, sibling), result, at)
            ids.append(sibling)
        return ids

    def _translate(self, conn: sqlite3.Connection, msg: Message | MessageHead, result: Translation,
                   at: datetime) -> None:
        target = self._apply(conn, msg, Event.TRANSLATE, at, f"{result.content_type}, {len(result.translated)} bytes",
                             translated=bytes(result.translated), distribution_id=result.distribution_id,
                             case_id=result.case_id, case_version=result.case_version,
                             content_type=result.content_type, next_attempt_at=None)
        if result.notes:  # codes mapped, fallbacks, drops, warnings: what the console's message page marks
            self._log(conn, msg.id, at, MAPPING_NOTES, target, target, result.notes)

    @replayable
    def mark_translation_failed(
        self, message_id: MessageId, *, error: str, error_path: str | None, at: datetime,
        source: str = "translation",
    ) -> int:
        """Mapping / validation failure: FAILED then dead-lettered in one transaction. Returns the DLQ id."""
        with self._tx() as conn:
            msg = self._load(conn, message_id)
            self._apply(conn, msg, Event.FAIL, at, error, last_error=error, error_path=error_path)
            return self._dead_letter_message(conn, self._load(conn, message_id), Event.DEAD_LETTER, at,
                                             source=source, error=error, error_path=error_path)

    def next_publishable(
        self, now: datetime, limit: int = 100, *, in_flight: Iterable[MessageId] = ()
    ) -> list[Message]:
        """Outbound messages to publish now: per-case FIFO, one in flight per case, retry times honoured."""
        busy = set(in_flight)
        # SQL keeps only the due head of each case (all the rule can pick), whole rows in one read;
        # the core rule has the last word (in flight, order), and only its picks become records.
        rows = {r["id"]: r for r in self._conn.execute(_DUE_HEADS, (to_db_time(now), limit + len(busy)))}
        queued = [Queued(r["id"], r["case_id"], from_db_time(r["next_attempt_at"])) for r in rows.values()]
        return [message_of(rows[message_id])
                for message_id in select_publishable(queued, now=now, in_flight=busy, limit=limit)]

    @replayable
    def mark_published(self, message_id: MessageId, *, at: datetime, rcref_deadline: datetime | None = None) -> bool:
        """Broker confirm received. Returns False when it was a repeat (already published)."""
        stamp = to_db_time(at)
        with self._tx() as conn:
            # the usual move (translated -> published, the table's) in one statement; anything else below
            if conn.execute(_CONFIRM_USUAL, (stamp, to_db_time(rcref_deadline), message_id)).rowcount:
                conn.execute(_CONFIRM_HISTORY, (stamp, message_id))
                return True
            msg = self._head(conn, message_id)
            if is_repeat(msg.direction, msg.state, Event.CONFIRM):
                return False
            self._apply(conn, msg, Event.CONFIRM, at, f"attempt {msg.attempts + 1}",
                        published_at=stamp, rcref_deadline=to_db_time(rcref_deadline),
                        rcref_overdue_at=None, next_attempt_at=None)
            return True

    @replayable
    def mark_publish_failed(
        self, message_id: MessageId, *, error: str, now: datetime, policy: RetryPolicy, rng_value: float
    ) -> datetime | None:
        """Schedule the next attempt (returned) or, attempts exhausted, dead-letter (returns None)."""
        with self._tx() as conn:
            msg = self._load(conn, message_id)
            attempt = msg.attempts + 1
            delay = policy.next_delay(attempt, rng_value)
            if delay is None:
                self._apply(conn, msg, Event.GIVE_UP, now, f"attempt {attempt} failed: {error}; giving up",
                            attempts=attempt, last_error=error, next_attempt_at=None)
                self._dead_letter_message(conn, self._load(conn, message_id), Event.GIVE_UP, now,
                                          source="publish", error=error, error_path=None, log=False)
                return None
            retry_at = now + timedelta(seconds=delay)
            self._apply(conn, msg, Event.PUBLISH_FAILED, now,
                        f"attempt {attempt} failed: {error}; retry at {to_db_time(retry_at)}",
                        attempts=attempt, last_error=error, next_attempt_at=to_db_time(retry_at))
            return retry_at

    @replayable
    def mark_delivered(self, distribution_id: str, *, at: datetime) -> Message | None:
        """RC-REF received. None when no outbound message has that distributionID."""
        return self._hub_event(distribution_id, Event.RCREF, at, "RC-REF received")

    @replayable
    def mark_answered(self, distribution_id: str, *, at: datetime, detail: str | None = None) -> Message | None:
        """Functional reply received for the message with that distributionID."""
        return self._hub_event(distribution_id, Event.ANSWER, at, detail or "answer received")

    def _hub_event(self, distribution_id: str, event: Event, at: datetime, detail: str) -> Message | None:
        stamp = to_db_time(at)
        with self._tx() as conn:
            row = self._outbound_row(distribution_id)
            if row is None:
                return None
            if event is Event.RCREF and row["state"] == _RCREF_FROM:  # the usual move, no table lookups
                conn.execute(_RCREF_USUAL, (stamp, row["id"]))
                conn.execute(_HISTORY, (row["id"], stamp, _RCREF_EVENT, _RCREF_FROM, _RCREF_TO, detail))
                return message_of(row, state=_RCREF_TO, updated_at=stamp)
            head = MessageHead(row["id"], Direction(row["direction"]), State(row["state"]), row["attempts"])
            if not self._peer_event_applies(conn, head, event, at, detail):
                return Message.from_row(row)
            target = self._apply(conn, head, event, at, detail)
            # what _apply wrote, without reading the row again (and one record built, not two)
            return Message.from_row({**dict(row), "state": target.value, "updated_at": stamp})

    def _peer_event_applies(self, conn: sqlite3.Connection, msg: Message | MessageHead, event: Event, at: datetime,
                            detail: str) -> bool:
        """Whether an event the Hub or the peer sent should move ``msg``.

        Repeats are dropped. An event out of sequence (an RC-REF for a message we
        gave up on, an RS-ERROR for one already dead-lettered) is not ours to refuse:
        it is recorded in the history, for the operator, and the state is kept.
        """
        if is_repeat(msg.direction, msg.state, event):
            return False
        if (msg.direction, msg.state, event) in TRANSITIONS:
            return True
        self._log(conn, msg.id, at, f"{event}_out_of_sequence", msg.state, msg.state, detail)
        return False

    @replayable
    def mark_failed(
        self, distribution_id: str, *, hub_code: int, reason: str, at: datetime,
        error_path: str | None = None, dead_letter: bool = True,
    ) -> Message | None:
        """RS-ERROR for one of our messages: FAILED, and dead-lettered unless told otherwise."""
        with self._tx() as conn:
            msg = self._by_distribution_id(conn, distribution_id)
            if msg is None:
                return None
            error = f"RS-ERROR {hub_code}: {reason}"
            if not self._peer_event_applies(conn, msg, Event.HUB_ERROR, at, error):
                return self._load(conn, msg.id)
            self._apply(conn, msg, Event.HUB_ERROR, at, error, last_error=error,
                        error_path=error_path, hub_error_code=int(hub_code))
            if dead_letter:
                self._dead_letter_message(conn, self._load(conn, msg.id), Event.DEAD_LETTER, at,
                                          source="hub", error=error, error_path=error_path)
            return self._load(conn, msg.id)

    @replayable
    def flag_overdue_rcref(self, now: datetime) -> list[Message]:
        """Published messages whose RC-REF deadline passed, flagged once (they stay PUBLISHED)."""
        with self._tx() as conn:
            overdue = [Message.from_row(r) for r in conn.execute(_OVERDUE_UNFLAGGED, (to_db_time(now),))]
            for msg in overdue:
                conn.execute("UPDATE messages SET rcref_overdue_at = ? WHERE id = ?", (to_db_time(now), msg.id))
                self._log(conn, msg.id, now, "rcref_overdue", msg.state, msg.state,
                          f"no RC-REF since deadline {to_db_time(msg.rcref_deadline)}")
            return overdue

    # -- inbox ------------------------------------------------------------------------------
    @replayable
    def record_inbound(
        self, body: bytes, *, distribution_id: str | None, case_id: str | None, case_version: str | None,
        received_at: datetime, adapter: str | None = None, content_type: str | None = None,
    ) -> tuple[MessageId, bool]:
        """Store a Hub message before the broker ack; ``(id, True)`` for a duplicate (ack, do nothing).

        :class:`StoreUnavailable` when it cannot be stored: do not ack, let the broker redeliver.
        """
        with self._accepting() as conn:
            existing = self._find_inbound_duplicate(conn, distribution_id, case_id, case_version)
            if existing is not None:
                self._log(conn, existing.id, received_at, "duplicate", existing.state, existing.state,
                          f"duplicate delivery distributionID={distribution_id}")
                return existing.id, True
            message_id = self._insert(conn, Direction.IN, State.RECEIVED, body, received_at,
                                      distribution_id=distribution_id, case_id=case_id,
                                      case_version=case_version, adapter=adapter, content_type=content_type)
            return message_id, False

    @staticmethod
    def _find_inbound_duplicate(conn: sqlite3.Connection, distribution_id: str | None, case_id: str | None,
                                case_version: str | None) -> Message | None:
        row = None
        if distribution_id is not None:
            row = conn.execute("SELECT * FROM messages WHERE direction = 'in' AND distribution_id = ?",
                               (distribution_id,)).fetchone()
        if row is None and case_id is not None and case_version is not None:
            row = conn.execute("SELECT * FROM messages WHERE direction = 'in' AND case_id = ? AND case_version = ?",
                               (case_id, case_version)).fetchone()
        return None if row is None else Message.from_row(row)

    @replayable
    def mark_inbound_handed_over(self, message_id: MessageId, *, at: datetime) -> bool:
        """The legacy side accepted the message. False when it already had."""
        return self._simple(message_id, Event.HAND_OVER, at, "handed over to the legacy side")

    @replayable
    def mark_inbound_acked(self, message_id: MessageId, *, at: datetime, rcref_distribution_id: str | None = None) -> bool:
        """Our RC-REF for this message was published."""
        return self._simple(message_id, Event.ACK, at, f"RC-REF {rcref_distribution_id or ''}".strip())

    @replayable
    def note_events(self, message_id: MessageId, event: str, details: Sequence[str], *, at: datetime) -> None:
        """History lines that do not move the message (e.g. ``value_altered`` warnings), for the console."""
        with self._tx() as conn:
            msg = self._head(conn, message_id)
            for detail in details:
                self._log(conn, msg.id, at, event, msg.state, msg.state, detail[:2000])

    @replayable
    def mark_inbound_failed(self, message_id: MessageId, *, error: str, error_path: str | None, at: datetime) -> int:
        """An inbound message could not be mapped or handed over: FAILED and dead-lettered."""
        return self.mark_translation_failed(message_id, error=error, error_path=error_path, at=at, source="inbound")

    def _simple(self, message_id: MessageId, event: Event, at: datetime, detail: str) -> bool:
        with self._tx() as conn:
            msg = self._head(conn, message_id)
            if is_repeat(msg.direction, msg.state, event):
                return False
            self._apply(conn, msg, event, at, detail)
            return True

    # -- dead letters -----------------------------------------------------------------------
    @replayable
    def dead_letter(
        self, original: bytes, *, error: str, error_path: str | None, source: str, at: datetime,
        direction: Direction = Direction.IN, attempts: Sequence[Attempt] = (), adapter: str | None = None,
        profile: str | None = None, content_type: str | None = None, hub_error_code: int | None = None,
    ) -> int:
        """Park bytes that never became a message (unparseable, no distributionID...). Returns the DLQ id."""
        with self._tx() as conn:
            return self._insert_dead_letter(conn, None, Direction(direction), source, original, error, error_path,
                                            attempts, at, adapter, profile, content_type, hub_error_code)

    def _dead_letter_message(self, conn: sqlite3.Connection, msg: Message, event: Event, at: datetime, *,
                             source: str, error: str, error_path: str | None, log: bool = True) -> int:
        if log:
            self._apply(conn, msg, event, at, error)
        attempts = self._attempt_history(conn, msg.id)
        # the entry keeps the ORIGINAL bytes; an outbound message's content_type names its translation
        content_type = msg.content_type if msg.direction is Direction.IN else None
        return self._insert_dead_letter(conn, msg.id, msg.direction, source, msg.original, error, error_path,
                                        attempts, at, msg.adapter, msg.profile, content_type, msg.hub_error_code)

    @staticmethod
    def _attempt_history(conn: sqlite3.Connection, message_id: MessageId) -> list[Attempt]:
        rows = conn.execute(
            "SELECT ts, detail FROM events WHERE message_id = ? AND event IN (?, ?, ?, ?, ?) ORDER BY id",
            (message_id, Event.PUBLISH_FAILED.value, Event.GIVE_UP.value, Event.FAIL.value,
             Event.HUB_ERROR.value, "replay_failed"),
        ).fetchall()
        return [Attempt(from_db_time(r["ts"]), r["detail"] or "") for r in rows]

    @staticmethod
    def _insert_dead_letter(conn: sqlite3.Connection, message_id: MessageId | None, direction: Direction,
                            source: str, original: bytes, error: str, error_path: str | None,
                            attempts: Sequence[Attempt], at: datetime, adapter: str | None, profile: str | None,
                            content_type: str | None, hub_error_code: int | None) -> int:
        cursor = conn.execute(
            "INSERT INTO dead_letters (message_id, direction, source, adapter, profile, content_type, original,"
            " error, error_path, hub_error_code, attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (message_id, direction.value, source, adapter, profile, content_type, bytes(original), error,
             error_path, hub_error_code, json.dumps([a.as_dict() for a in attempts]), to_db_time(at)),
        )
        return int(cursor.lastrowid)

    # -- retention --------------------------------------------------------------------------
    @replayable
    def purge_delivered(self, older_than: datetime, *, include_failed: bool = False) -> int:
        """Delete finished messages last updated before ``older_than``; failed ones only on request.

        Found through the (state, updated_at) index (migration 6) and deleted in
        batches of :data:`PURGE_BATCH`, each its own transaction, so a large
        purge never holds the write lock (nor the reactor) for long. A case link
        (``case_links``) older than ``older_than`` goes too once no message of its Hub case is left.
        """
        states = ["delivered", "answered", "acked"] + (["failed", "dead_lettered"] if include_failed else [])
        marks = ", ".join("?" * len(states))
        params = (*states, to_db_time(older_than), PURGE_BATCH)
        deleted = 0
        while True:
            with self._tx() as conn:
                batch = conn.execute(
                    "DELETE FROM messages WHERE id IN (SELECT id FROM messages INDEXED BY messages_state_updated"
                    f" WHERE state IN ({marks}) AND updated_at < ? LIMIT ?)", params).rowcount
            deleted += batch
            if batch < PURGE_BATCH:
                break
        if include_failed:
            with self._tx() as conn:
                deleted += conn.execute("DELETE FROM dead_letters WHERE created_at < ? AND message_id IS NULL",
                                        (to_db_time(older_than),)).rowcount
        with self._tx() as conn:  # a partner case's link goes once the case has left the store (one probe per link)
            conn.execute("DELETE FROM case_links WHERE linked_at < ? AND NOT EXISTS"
                         " (SELECT 1 FROM messages WHERE messages.case_id = case_links.hub_case_id)",
                         (to_db_time(older_than),))
        return deleted

    @staticmethod
    def _count_pending(conn: sqlite3.Connection) -> int:
        return conn.execute(PENDING_COUNT).fetchone()[0]

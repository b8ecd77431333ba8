"""Read-only views of the store: lookups for the CLI and console, figures for metrics.

Kept apart from the transitions in ``sqlite.py`` so each module stays short;
:class:`bridge.edges.store.Store` inherits these methods.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from datetime import datetime

from bridge.app.records import (
    MESSAGE_FIELDS,
    DeadLetter,
    Message,
    MessageId,
    StoredEvent,
    UnknownMessage,
    from_db_time,
    message_from_values,
    to_db_time,
)
from bridge.core.delivery import PENDING_OUTBOUND

__all__ = ["MESSAGE_COLUMNS", "PENDING_COUNT", "StoreQueries", "message_of"]

#: The columns of a :class:`Message`, in its field order: ``SELECT {MESSAGE_COLUMNS}`` reads a row
#: that :func:`message_of` turns into a record without going through a dict.
MESSAGE_COLUMNS = ", ".join(MESSAGE_FIELDS)
_INDEX = {name: i for i, name in enumerate(MESSAGE_FIELDS)}


def message_of(row: sqlite3.Row | tuple[object, ...], **replaced: object) -> Message:
    """``Message.from_row`` for a row read as ``SELECT {MESSAGE_COLUMNS}``, with ``replaced``: column values just
    written (``state``, ``updated_at`` as stored text), without reading the row again."""
    values = list(row)
    for name, value in replaced.items():
        values[_INDEX[name]] = value
    return message_from_values(values)


_TRANSLATED, _CONTENT_TYPE = _INDEX["translated"], _INDEX["content_type"]
_OUTBOUND_ROW = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE direction = 'out' AND distribution_id = ?"

_PENDING = tuple(sorted(s.value for s in PENDING_OUTBOUND))
#: Outbound messages not yet published (back-pressure): the trigger-kept per-state counts of the
#: pending states (migration 9), one primary-key lookup each (``state IN (...)`` built a temporary index per call).
PENDING_COUNT = "SELECT " + " + ".join(
    f"COALESCE((SELECT value FROM state_counts WHERE direction = 'out' AND state = '{state}'), 0)" for state in _PENDING)
_BY_STATE = "messages INDEXED BY messages_direction_state"  # see StoreQueries


#: The last dot-separated part of ``case_id`` (the LRM's dossier number in a Hub case id the bridge made),
#: exactly as indexed by store migration 8 (``messages_case_local``).
CASE_LOCAL = "substr(case_id, length(rtrim(case_id, replace(case_id, '.', ''))) + 1)"
_HAS_CASE = f"SELECT 1 FROM messages WHERE (case_id = ?1 OR {CASE_LOCAL} = ?2) LIMIT 1"
_HAS_CASE_IN = f"SELECT 1 FROM messages WHERE (case_id = ?1 OR {CASE_LOCAL} = ?2) AND direction = ?3 LIMIT 1"


@functools.cache
def _local_case_id() -> Callable[[str], str]:
    """The core's rule for a case id's last part, imported on first use (the module pulls in the models: the
    CLI's store commands need not pay for it), then called without an import statement per lookup."""
    from bridge.core.adapters.rc_eda import local_case_id

    return local_case_id


class StoreQueries:
    """Queries that never write; they need ``self._conn`` and ``self.path``.

    The gauges and lists by state name their index (``INDEXED BY``): after an
    ``ANALYZE`` of a store holding only delivered outbound rows, SQLite judged
    ``direction`` useless and scanned the whole table (66 ms at 100k rows).
    """

    _conn: sqlite3.Connection
    path: str
    _read_mark: Callable[[], tuple[int, int] | None]
    _grouped: bool = False  # a group transaction is open on _conn (TransactionOps)
    # reads kept for the next call that needs them, with the read mark they were made under (see has_case)
    _kept_row: tuple[tuple[int, int], str, sqlite3.Row | None] | None = None
    _kept_case: tuple[tuple[int, int], str, str | None, bool] | None = None

    def _messages(self, sql: str, params: tuple[object, ...] = ()) -> list[Message]:
        return [Message.from_row(r) for r in self._conn.execute(sql, params)]

    def get(self, message_id: MessageId) -> Message:
        """One message by id, or :class:`UnknownMessage`."""
        row = self._conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise UnknownMessage(f"no message with id {message_id} in {self.path}")
        return Message.from_row(row)

    def find(self, distribution_id: str, *, direction: str = "out") -> Message | None:
        """The message with that distributionID in that direction, if any."""
        found = self._messages("SELECT * FROM messages WHERE direction = ? AND distribution_id = ?",
                               (direction, distribution_id))
        return found[0] if found else None

    def outbound_body(self, distribution_id: str) -> tuple[bytes | None, str | None] | None:
        """``(translated, content_type)`` of our outbound message with that distributionID; None if unknown.

        What the RC-REF check needs (whom the message went to), without converting the whole
        row (dates, enums) as :meth:`find` does. Inside a group the row is kept for the
        RC-REF's own transition, which follows at once (``mark_delivered``): one read of it
        per RC-REF, not two (``transactions`` module docstring: when a kept read is reused).
        """
        row = self._conn.execute(_OUTBOUND_ROW, (distribution_id,)).fetchone()
        mark = self._read_mark()
        if mark is not None:
            self._kept_row = (mark, distribution_id, row)
        return None if row is None else (row[_TRANSLATED], row[_CONTENT_TYPE])

    def _outbound_row(self, distribution_id: str) -> sqlite3.Row | None:
        """The row ``SELECT {MESSAGE_COLUMNS}`` of our outbound message with that distributionID (a transition's
        read): the one :meth:`outbound_body` just read when nothing can have changed it since, else read now."""
        kept, self._kept_row = self._kept_row, None
        if kept is not None and kept[1] == distribution_id and kept[0] == self._read_mark():
            return kept[2]
        row: sqlite3.Row | None = self._conn.execute(_OUTBOUND_ROW, (distribution_id,)).fetchone()
        return row

    def history(self, message_id: MessageId) -> list[StoredEvent]:
        """Every recorded transition of a message, oldest first."""
        self.get(message_id)
        return [StoredEvent.from_row(r) for r in self._conn.execute(
            "SELECT * FROM events WHERE message_id = ? ORDER BY id", (message_id,))]

    def by_case(self, case_id: str) -> list[Message]:
        """All messages (both directions) of one case, in arrival order.

        ``case_id`` is the Hub case id (``fr.health.samu440.DEMO-000001``) or the LRM's own
        dossier number (``DEMO-000001``), which the bridge made the last part of the Hub id.
        """
        return self.search(case=case_id, limit=None)

    def has_case(self, case_id: str, *, direction: str | None = None) -> bool:
        """Whether a message of this case (in that direction, or either) is stored: ``by_case`` answered yes
        or no, without reading every row of a long-lived case (one index probe, LIMIT 1).

        Asked once per Hub message of a sheet (an assistance sheet's createCase and EMSI name the
        same case): inside a group the last answer is reused while nothing can have changed it
        (``transactions`` module docstring), so the probe runs once per sheet.
        """
        mark = self._read_mark()
        kept = self._kept_case
        if mark is not None and kept is not None and kept[0] == mark and kept[1] == case_id and kept[2] == direction:
            return kept[3]
        local = _local_case_id()(case_id) or case_id
        if direction is None:
            known = self._conn.execute(_HAS_CASE, (case_id, local)).fetchone() is not None
        else:
            known = self._conn.execute(_HAS_CASE_IN, (case_id, local, direction)).fetchone() is not None
        self._kept_case = None if mark is None else (mark, case_id, direction, known)
        return known

    def search(self, *, state: str | None = None, case: str | None = None, since: datetime | None = None,
               direction: str | None = None, limit: int | None = 200) -> list[Message]:
        """Messages matching every given filter, in arrival order (the newest ``limit`` of them)."""
        where: list[str] = []
        params: list[object] = []
        if state is not None:
            where.append("state = ?")
            params.append(state)
        if direction is not None:
            where.append("direction = ?")
            params.append(direction)
        if since is not None:
            where.append("created_at >= ?")
            params.append(to_db_time(since))
        if case is not None:
            # the Hub case id, or the LRM's dossier number (its last part): two index searches (migration 8)
            where.append(f"(case_id = ? OR {CASE_LOCAL} = ?)")
            params += [case, _local_case_id()(case) or case]
        sql = "SELECT * FROM messages" + (" WHERE " + " AND ".join(where) if where else "")
        if limit is None:
            return self._messages(sql + " ORDER BY id", tuple(params))
        newest = self._messages(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
        return newest[::-1]

    def case_resource_messages(self, case_id: str, *, limit: int) -> list[tuple[bytes, str | None]]:
        """The Hub bodies the bridge sent (or is sending) for a case that carry its resources (RC-RI), oldest first.

        The newest ``limit`` of them, read through the case index; a message the Hub refused
        or the operator must look at (``failed``, ``dead_lettered``) did not tell the fire side
        anything and is left out. The service folds them into the case's known resources, onto
        which a health LRM's RS-SR is merged (docs/health.md).
        """
        return self.case_sent_messages(case_id, "resourcesInfoCisu", limit=limit)

    def case_sent_messages(self, case_id: str, payload: str, *, limit: int) -> list[tuple[bytes, str | None]]:
        """The Hub bodies the bridge sent (or is sending) for a case whose text holds ``payload``, oldest first.

        The newest ``limit`` of them, through the case index, ``failed`` / ``dead_lettered`` left out
        (the fire side never had them); the caller reads each body and checks its payload name.
        ``createCase``: the case as last sent, onto which a health LRM's RS-EDA-MAJ is merged.
        """
        rows = self._conn.execute(
            "SELECT translated, content_type FROM messages WHERE case_id = ? AND direction = 'out'"
            " AND translated IS NOT NULL AND state NOT IN ('failed', 'dead_lettered')"
            " AND instr(translated, ?) > 0 ORDER BY id DESC LIMIT ?",
            (case_id, payload.encode(), limit)).fetchall()
        return [(bytes(row[0]), row[1]) for row in reversed(rows)]

    def recent(self, limit: int = 50) -> list[Message]:
        """The latest messages, newest first (ops console)."""
        return self._messages("SELECT * FROM messages ORDER BY id DESC LIMIT ?", (limit,))

    def pending_translation(self, limit: int = 100) -> list[Message]:
        """Outbound messages stored but not translated yet (after a crash or a DLQ replay)."""
        return self._messages(f"SELECT * FROM {_BY_STATE} WHERE direction = 'out' AND state = 'received'"
                              " ORDER BY id LIMIT ?", (limit,))

    def pending_inbound(self, limit: int = 100) -> list[Message]:
        """Inbound messages not yet handed to the legacy side (after a crash or a DLQ replay)."""
        return self._messages(f"SELECT * FROM {_BY_STATE} WHERE direction = 'in'"
                              " AND state IN ('received', 'translated') ORDER BY id LIMIT ?", (limit,))

    def inbound_waiting_since(self, cutoff: datetime, limit: int = 100) -> list[Message]:
        """Inbound messages not handed over yet whose last transition is older than ``cutoff`` (the alarm's list)."""
        return self._messages(f"SELECT * FROM {_BY_STATE} WHERE direction = 'in'"
                              " AND state IN ('received', 'translated') AND updated_at < ? ORDER BY id LIMIT ?", (to_db_time(cutoff), limit))

    def count_inbound_waiting_since(self, cutoff: datetime) -> int:
        """How many inbound messages :meth:`inbound_waiting_since` would list, without a limit (the gauge)."""
        return self._conn.execute(f"SELECT COUNT(*) FROM {_BY_STATE} WHERE direction = 'in'"
                                  " AND state IN ('received', 'translated') AND updated_at < ?",
                                  (to_db_time(cutoff),)).fetchone()[0]

    def handed_over_unacked(self, limit: int = 100) -> list[Message]:
        """Inbound messages given to the legacy side whose RC-REF is not sent yet."""
        return self._messages("SELECT * FROM messages WHERE direction = 'in' AND state = 'handed_over'"
                              " ORDER BY id LIMIT ?", (limit,))

    def published_between(self, t0: datetime, t1: datetime) -> list[Message]:
        """Outbound messages whose (last) publish confirm falls in ``[t0, t1)``."""
        return self._messages("SELECT * FROM messages WHERE direction = 'out' AND published_at >= ?"
                              " AND published_at < ? ORDER BY id", (to_db_time(t0), to_db_time(t1)))

    def overdue_rcref(self, now: datetime) -> list[Message]:
        """Published messages still without RC-REF past their deadline (read-only; see flag_overdue_rcref)."""
        return self._messages(f"SELECT * FROM {_BY_STATE} WHERE direction = 'out' AND state = 'published'"
                              " AND rcref_deadline IS NOT NULL AND rcref_deadline < ? ORDER BY id",
                              (to_db_time(now),))

    # -- dead letters -----------------------------------------------------------------------
    def dlq_list(self, since: datetime | None = None, *, include_replayed: bool = False, limit: int | None = None,
                 after: int | None = None) -> list[DeadLetter]:
        """Dead-letter entries, oldest first (by creation time, then id); replayed ones only on request.

        ``limit`` and ``after`` (the id of the last entry of the previous page: keyset) page in SQL:
        the pending entries are walked in the order of their index (``dead_letters_pending``), so a
        page reads its own rows only, not every pending entry with its bytes.
        """
        clauses: list[str] = []
        params: list[object] = []
        if not include_replayed:
            clauses.append("replayed_at IS NULL")
        if since is not None:
            clauses.append("created_at >= ?")
            params.append(to_db_time(since))
        if after is not None:
            clauses.append("(created_at, id) > (SELECT created_at, id FROM dead_letters WHERE id = ?)")
            params.append(after)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        page = "" if limit is None else " LIMIT ?"
        if limit is not None:
            params.append(max(0, limit))
        return [DeadLetter.from_row(r) for r in self._conn.execute(
            f"SELECT * FROM dead_letters{where} ORDER BY created_at, id{page}", tuple(params))]

    def dlq_get(self, dlq_id: int) -> DeadLetter:
        """One dead-letter entry, or :class:`UnknownMessage`."""
        row = self._conn.execute("SELECT * FROM dead_letters WHERE id = ?", (dlq_id,)).fetchone()
        if row is None:
            raise UnknownMessage(f"no dead-letter entry with id {dlq_id} in {self.path}")
        return DeadLetter.from_row(row)

    # -- figures for metrics ----------------------------------------------------------------
    def counts(self) -> dict[tuple[str, str], int]:
        """Number of messages by ``(direction, state)``: trigger-kept counters (migration 5), no table scan."""
        return {(r[0], r[1]): r[2] for r in self._conn.execute(
            "SELECT direction, state, value FROM state_counts WHERE value > 0")}

    def outbox_depth(self) -> int:
        """Outbound messages not yet published (what back-pressure counts; trigger-kept counts)."""
        return self._conn.execute(PENDING_COUNT).fetchone()[0]

    def oldest_pending_age(self, now: datetime) -> float:
        """Seconds since the oldest unpublished outbound message was accepted (0 when none).

        Reads the first (lowest id) message of each pending state: ids grow with
        acceptance, so two index lookups instead of reading up to ``max_pending``
        rows (5 ms with 1,500 queued; 35 ms at the 10,000 limit) on every scrape.
        """
        firsts = [first for state in _PENDING for row in self._conn.execute(
            f"SELECT created_at FROM {_BY_STATE} WHERE direction = 'out' AND state = ? ORDER BY id LIMIT 1",
            (state,)) if (first := from_db_time(row[0])) is not None]
        return 0.0 if not firsts else max(0.0, (now - min(firsts)).total_seconds())

    def count_overdue_rcref(self, now: datetime) -> int:
        """How many messages :meth:`overdue_rcref` would list, without reading them (the gauge)."""
        return self._conn.execute(f"SELECT COUNT(*) FROM {_BY_STATE} WHERE direction = 'out' AND state = 'published'"
                                  " AND rcref_deadline IS NOT NULL AND rcref_deadline < ?",
                                  (to_db_time(now),)).fetchone()[0]

    def dlq_size(self) -> int:
        """Dead-letter entries waiting for an operator (not replayed)."""
        return self._conn.execute("SELECT COUNT(*) FROM dead_letters WHERE replayed_at IS NULL").fetchone()[0]

    def is_writable(self) -> bool:
        """For /readyz: does this connection hold the write lock (its own open group) or can it take it now?

        Inside a group a second ``BEGIN`` fails on this connection, which read as "not writable" whenever the
        request came in the same reactor turn as a frame, a confirm or an RC-REF."""
        if self._grouped:
            return True
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute("ROLLBACK")
            return True
        except sqlite3.Error:
            return False

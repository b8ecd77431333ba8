"""Read-only queries of the ops console and of ``bridge messages export``.

Every query walks an index and stops at a LIMIT: a search, a case page or a chart
costs the rows it shows (or a bounded window of rows), never a scan of the store,
because the console answers on the reactor thread that also carries the traffic.
``tests/unit/test_console_queries.py`` checks the query plans.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bridge.app.records import to_db_time

__all__ = ["MAX_ROWS", "MAX_WINDOW_ROWS", "ConsoleQueries"]

MAX_ROWS = 500            # rows a search or a case page returns at most
MAX_WINDOW_ROWS = 50_000  # rows a chart aggregates at most (the newest ones of the window)
SUMMARY_COLUMNS = (
    "id, direction, state, distribution_id, case_id, case_version, adapter, profile, content_type, created_at,"
    " updated_at, published_at, attempts, last_error, error_path, hub_error_code, replay_of,"
    " length(original) AS original_size, length(translated) AS translated_size, " + """CASE
        WHEN instr(substr(CASE direction WHEN 'out' THEN translated ELSE original END, 1, 4096), 'createCase') > 0
            THEN 'RC-EDA'
        WHEN instr(substr(CASE direction WHEN 'out' THEN translated ELSE original END, 1, 4096), 'emsi') > 0
            THEN 'EMSI'
        WHEN instr(substr(CASE direction WHEN 'out' THEN translated ELSE original END, 1, 4096), 'reference') > 0
            THEN 'RC-REF'
        WHEN instr(substr(CASE direction WHEN 'out' THEN translated ELSE original END, 1, 4096), 'error') > 0
            THEN 'RS-ERROR'
        ELSE NULL END AS message_type"""
)


def _row(row: sqlite3.Row) -> dict[str, Any]:
    return dict(row)


class ConsoleQueries:
    """Mixed into :class:`bridge.edges.store.Store`; needs ``self._conn``."""

    _conn: sqlite3.Connection

    def search_messages(self, *, case_ids: tuple[str, ...] = (), distribution_id: str | None = None,
                        state: str | None = None, since: datetime | None = None, until: datetime | None = None,
                        limit: int = 100) -> list[dict[str, Any]]:
        """Messages matching every given criterion, newest first, without their payloads.

        The most selective criterion drives the index: case ids, then the
        distributionID, then the time range, then the state (walked per direction).
        """
        limit = max(1, min(MAX_ROWS, limit))
        filters: list[str] = []
        params: list[object] = []
        if state is not None:
            filters.append("state = ?")
            params.append(state)
        if since is not None:
            filters.append("created_at >= ?")
            params.append(to_db_time(since))
        if until is not None:
            filters.append("created_at < ?")
            params.append(to_db_time(until))
        if case_ids:
            drive = f"case_id IN ({', '.join('?' * len(case_ids))})"
            return self._search(drive, list(case_ids), filters, params, "id DESC", limit)
        if distribution_id is not None:
            return self._search("direction IN ('in', 'out') AND distribution_id = ?", [distribution_id],
                                filters, params, "id DESC", limit)
        if since is not None or until is not None:
            return self._search("1", [], filters, params, "created_at DESC, id DESC", limit)
        if state is not None:
            rows = [r for direction in ("in", "out")
                    for r in self._search("direction = ?", [direction], filters, params, "id DESC", limit)]
            return sorted(rows, key=lambda r: -r["id"])[:limit]
        return self._search("1", [], [], [], "id DESC", limit)

    def _search(self, drive: str, drive_params: list[object], filters: list[str], params: list[object],
                order: str, limit: int) -> list[dict[str, Any]]:
        where = " AND ".join([drive, *filters])
        sql = f"SELECT {SUMMARY_COLUMNS} FROM messages WHERE {where} ORDER BY {order} LIMIT ?"
        return [_row(r) for r in self._conn.execute(sql, (*drive_params, *params, limit))]

    def case_timeline(self, case_id: str, *, limit: int = MAX_ROWS) -> dict[str, Any]:
        """The messages of one case (oldest first) and every history line of them, in time order."""
        messages = [_row(r) for r in self._conn.execute(
            f"SELECT {SUMMARY_COLUMNS} FROM messages WHERE case_id = ? ORDER BY id LIMIT ?", (case_id, limit))]
        events: list[dict[str, Any]] = []
        for message in messages:
            events += [{**_row(r), "message_id": message["id"], "direction": message["direction"]}
                       for r in self._conn.execute(
                           "SELECT id, ts, event, from_state, to_state, detail FROM events WHERE message_id = ?"
                           " ORDER BY id LIMIT 100", (message["id"],))]
        events.sort(key=lambda e: (e["ts"], e["id"]))
        return {"messages": messages, "events": events, "truncated": len(messages) >= limit}

    def message_notes(self, message_id: int) -> str | None:
        """The mapping notes (JSON text) a translation left for this message, if any."""
        row = self._conn.execute(
            "SELECT detail FROM events WHERE message_id = ? AND event = 'mapping_notes' ORDER BY id DESC LIMIT 1",
            (message_id,)).fetchone()
        return None if row is None else row[0]

    def message_events(self, message_id: int, *, limit: int = 200) -> list[dict[str, Any]]:
        """The history lines of one message (oldest first), without the mapping notes."""
        return [_row(r) for r in self._conn.execute(
            "SELECT id, ts, event, from_state, to_state, detail FROM events WHERE message_id = ?"
            " AND event != 'mapping_notes' ORDER BY id LIMIT ?", (message_id, limit))]

    def traffic_window(self, since: datetime, bucket_seconds: int) -> dict[str, Any]:
        """Per time bucket since ``since``: messages by direction, RC-REF latency, dead letters.

        Each figure reads at most :data:`MAX_WINDOW_ROWS` rows through the time indexes.
        """
        start = to_db_time(since)
        bucket = f"CAST((julianday(created_at) - julianday(?)) * 86400 / {int(bucket_seconds)} AS INTEGER)"
        throughput = [_row(r) for r in self._conn.execute(
            f"SELECT {bucket} AS bucket, direction, COUNT(*) AS n FROM ("
            " SELECT created_at, direction FROM messages WHERE created_at >= ? ORDER BY created_at DESC LIMIT ?)"
            " GROUP BY bucket, direction", (start, start, MAX_WINDOW_ROWS))]
        latency = [_row(r) for r in self._conn.execute(
            f"SELECT {bucket} AS bucket, COUNT(*) AS n, AVG(seconds) AS mean, MAX(seconds) AS max FROM ("
            " SELECT m.created_at AS created_at,"
            "  (SELECT (julianday(e.ts) - julianday(m.created_at)) * 86400 FROM events AS e"
            "   WHERE e.message_id = m.id AND e.event = 'rcref' ORDER BY e.id LIMIT 1) AS seconds"
            " FROM messages AS m WHERE m.created_at >= ? AND +m.direction = 'out'"  # '+': walk the time index
            " ORDER BY m.created_at DESC LIMIT ?) WHERE seconds IS NOT NULL GROUP BY bucket",
            (start, start, MAX_WINDOW_ROWS))]
        dead = [_row(r) for r in self._conn.execute(
            f"SELECT {bucket} AS bucket, COUNT(*) AS n FROM ("
            " SELECT created_at FROM dead_letters WHERE created_at >= ? ORDER BY created_at DESC LIMIT ?)"
            " GROUP BY bucket", (start, start, MAX_WINDOW_ROWS))]
        return {"throughput": throughput, "latency": latency, "dead_letters": dead}

    def export_batch(self, since: datetime, after_id: int, limit: int = 200) -> list[dict[str, Any]]:
        """Messages created since ``since`` with an id above ``after_id``, with their original bytes, by id."""
        return [_row(r) for r in self._conn.execute(
            "SELECT id, direction, adapter, profile, content_type, original, created_at FROM messages"
            " WHERE created_at >= ? AND id > ? ORDER BY id LIMIT ?", (to_db_time(since), after_id, limit))]



class QueryTooLong(Exception):
    """A console query ran past its time budget and was interrupted (narrow the search)."""


class StoreReader(ConsoleQueries):
    """A read-only connection to the store file, for console queries run in a worker thread.

    WAL lets it read while the service writes, and it never holds the write lock. Each query
    runs under a time budget (:meth:`budget`): past it SQLite interrupts it and
    :class:`QueryTooLong` is raised, so one heavy search cannot keep a worker thread busy.
    """

    def __init__(self, path: str | Path) -> None:
        from bridge.edges.store.queries import StoreQueries

        self.path = str(path)
        uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
        self._conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA busy_timeout = 2000")
        self._deadline: float | None = None
        self._conn.set_progress_handler(self._over_budget, 20_000)
        self.queries = StoreQueries()  # the store's own read queries, on this connection
        self.queries._conn, self.queries.path = self._conn, self.path

    def _over_budget(self) -> int:
        return int(self._deadline is not None and time.monotonic() > self._deadline)

    @contextmanager
    def budget(self, seconds: float) -> Iterator[StoreReader]:
        """Queries inside the block are interrupted after ``seconds`` (:class:`QueryTooLong`)."""
        self._deadline = time.monotonic() + seconds
        try:
            yield self
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise QueryTooLong(f"the query took longer than {seconds:g} s and was stopped") from None
            raise
        finally:
            self._deadline = None

    def get(self, message_id: int) -> Any:
        return self.queries.get(message_id)

    def close(self) -> None:
        self._conn.close()

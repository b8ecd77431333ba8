"""The console's data from the durable store (``bridge.edges.store.Store``).

Also the store snapshot for the metrics gauges, so ``/metrics`` and the
console read the same figures. The clock, the replay function and mapping
coverage are injected: the service passes ``bridge.app.replay`` and the mapping
reloader; tests pass fixed values.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bridge.core.delivery import IllegalTransition
from bridge.edges.http import views
from bridge.edges.http.console import Conflict, NotFound
from bridge.edges.metrics import StoreSnapshot
from bridge.edges.store import Store, UnknownMessage
from bridge.edges.store.console_queries import StoreReader

ReplayFn = Callable[[int], Any]


class StoreConsoleProvider:
    """Implements :class:`bridge.edges.http.console.ConsoleProvider` over a Store."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime],
        handover_deadline: timedelta = timedelta(seconds=60),
        replay_fn: ReplayFn | None = None,
        coverage_fn: Callable[[], Mapping[str, Any]] | None = None,
        broker_connected: Callable[[], bool] | None = None,
        mapping_version: Callable[[], str | None] | None = None,
        instance: str = "bridge",
        case_prefix: str | None = None,
        encodings: Mapping[str, str] | None = None,
        usage_fn: Callable[[], list[dict[str, Any]]] | None = None,
        try_frame_fn: Callable[[bytes], dict[str, Any]] | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.handover_deadline = handover_deadline
        self.replay_fn = replay_fn or self._replay_with_store
        self.coverage_fn = coverage_fn
        self.broker_connected = broker_connected
        self.mapping_version = mapping_version
        self.instance = instance
        self.case_prefix = case_prefix
        self.encodings = dict(encodings or {})
        self.usage_fn = usage_fn
        self.try_frame_fn = try_frame_fn
        self._stats_cache: dict[str, tuple[datetime, dict[str, Any]]] = {}
        self._readers = threading.local()
        self.warnings = list(warnings or [])

    def _reader(self) -> StoreReader:
        """This thread's read-only connection (the console's pages run in worker threads, off the reactor)."""
        reader = getattr(self._readers, "reader", None)
        if reader is None:
            reader = self._readers.reader = StoreReader(self.store.path)
        return reader

    def _replay_with_store(self, dlq_id: int) -> Any:
        """Default replay: ``bridge.app.replay.replay_dead_letter``; the running service re-translates the bytes."""
        from bridge.app.replay import replay_dead_letter

        return replay_dead_letter(self.store, dlq_id, now=self.clock())

    def metrics_snapshot(self) -> StoreSnapshot:
        """Figures for the scrape-time gauges of :class:`bridge.edges.metrics.BridgeMetrics`."""
        now = self.clock()
        return StoreSnapshot(
            outbox_depth=self.store.outbox_depth(),
            oldest_pending_age_seconds=self.store.oldest_pending_age(now),
            dlq_size=self.store.dlq_size(),
            rcref_overdue=self.store.count_overdue_rcref(now),
            inbound_overdue=self.store.count_inbound_waiting_since(now - self.handover_deadline),
        )

    def summary(self) -> dict[str, Any]:
        return self._summary(self.store)

    def summary_page(self, replay_allowed: bool) -> dict[str, Any]:
        """The overview's summary, read in a worker thread (the counts walk the whole state index)."""
        with self._reader().budget(views.QUERY_BUDGET_SECONDS) as reader:
            return {**self._summary(reader.queries), "replay_allowed": replay_allowed}

    def _summary(self, queries: Any) -> dict[str, Any]:
        counts: dict[str, dict[str, int]] = {}
        for (direction, state), count in sorted(queries.counts().items()):
            counts.setdefault(direction, {})[state] = count
        now = self.clock()
        snap = StoreSnapshot(outbox_depth=queries.outbox_depth(), oldest_pending_age_seconds=queries.oldest_pending_age(now),
                             dlq_size=queries.dlq_size(), rcref_overdue=queries.count_overdue_rcref(now),
                             inbound_overdue=queries.count_inbound_waiting_since(now - self.handover_deadline))
        return {
            "instance": self.instance,
            "warnings": self.warnings,
            "generated_at": self.clock().isoformat(),
            "counts": counts,
            "outbox_depth": snap.outbox_depth,
            "oldest_pending_age_seconds": snap.oldest_pending_age_seconds,
            "dlq_size": snap.dlq_size,
            "rcref_overdue": snap.rcref_overdue,
            "inbound_overdue": snap.inbound_overdue,
            "broker_connected": None if self.broker_connected is None else bool(self.broker_connected()),
            "mapping_version": None if self.mapping_version is None else self.mapping_version(),
        }

    def messages(self, limit: int) -> list[dict[str, Any]]:
        return [message.summary() for message in self.store.recent(limit)]

    def history(self, message_id: int) -> dict[str, Any]:
        try:
            message = self.store.get(message_id)
            events = self.store.history(message_id)
        except UnknownMessage as exc:
            raise NotFound(exc.message) from None
        return {"message": message.summary(), "events": [event.as_dict() for event in events]}

    def dlq(self, limit: int, after: int | None = None) -> list[dict[str, Any]]:
        """The oldest ``limit`` pending dead letters after entry ``after`` (the summary gives the total); paged in SQL."""
        return [entry.summary() for entry in self.store.dlq_list(limit=limit, after=after)]

    def coverage(self) -> dict[str, Any]:
        if self.coverage_fn is None:
            return {"available": False, "reason": "no mapping coverage source configured"}
        return {"available": True, **dict(self.coverage_fn())}

    def replay(self, dlq_id: int) -> dict[str, Any]:
        try:
            result = self.replay_fn(dlq_id)
        except UnknownMessage as exc:
            raise NotFound(exc.message) from None
        except IllegalTransition as exc:
            raise Conflict(exc.message) from None
        if hasattr(result, "as_dict"):  # bridge.app.replay.ReplayOutcome: refusals are returned, not raised
            if not result.ok:
                raise Conflict(result.error)
            return result.as_dict()
        return {"dlq_id": dlq_id, "result": result if isinstance(result, (int, str, dict, list)) else str(result)}

    # -- the console's pages (search, case, message, charts, mappings, try a frame) ---------------------------
    # These run in a worker thread (see ConsoleApi): each on this thread's read-only connection, under a budget.
    def search(self, criteria: views.Search) -> dict[str, Any]:
        case_ids = tuple(c for c in (criteria.case_id,
                                     f"{self.case_prefix}.{criteria.dossier}" if criteria.dossier and self.case_prefix
                                     else criteria.dossier) if c)
        with self._reader().budget(views.QUERY_BUDGET_SECONDS) as reader:
            rows = reader.search_messages(case_ids=case_ids, distribution_id=criteria.distribution_id,
                                          state=criteria.state, since=criteria.since, until=criteria.until,
                                          limit=criteria.limit)
        return {"criteria": criteria.as_dict(), "case_ids": list(case_ids), "messages": rows}

    def case(self, case_id: str) -> dict[str, Any]:
        with self._reader().budget(views.QUERY_BUDGET_SECONDS) as reader:
            timeline = reader.case_timeline(case_id)
        if not timeline["messages"]:
            raise NotFound(f"no message of case {case_id!r} in the store")
        return {"case_id": case_id, **timeline}

    def message(self, message_id: int) -> dict[str, Any]:
        with self._reader().budget(views.QUERY_BUDGET_SECONDS) as reader:
            try:
                message = reader.get(message_id)
            except UnknownMessage as exc:
                raise NotFound(exc.message) from None
            events, notes = reader.message_events(message_id), reader.message_notes(message_id)
        return views.message_view(message, events, notes, self.encodings)

    def stats(self, window: str) -> dict[str, Any]:
        """Charts of the last hour (60 one-minute buckets) or day (48 half-hours); cached a few seconds."""
        now = self.clock()
        cached = self._stats_cache.get(window)
        if cached is not None and (now - cached[0]).total_seconds() < views.STATS_CACHE_SECONDS:
            return cached[1]
        span, bucket = views.WINDOWS[window]
        since = now - span
        with self._reader().budget(views.QUERY_BUDGET_SECONDS) as reader:
            raw = reader.traffic_window(since, bucket)
        data = views.stats_view(raw, since=since, bucket_seconds=bucket, buckets=int(span.total_seconds() // bucket))
        self._stats_cache[window] = (now, data)
        return data

    def mappings(self) -> dict[str, Any]:
        coverage = self.coverage()
        return {"usage": None if self.usage_fn is None else self.usage_fn(), "coverage": coverage,
                "try_available": self.try_frame_fn is not None}

    @property
    def try_encoding(self) -> str | None:
        """How a pasted frame is encoded before translation: the live profile's encoding."""
        return next(iter(self.encodings.values()), None)

    def try_frame(self, frame: bytes) -> dict[str, Any]:
        """Runs in a worker thread (the console defers it): translation only, nothing stored or sent."""
        if self.try_frame_fn is None:
            raise NotFound("no live translator in this process: 'try a frame' needs the running bridge")
        return self.try_frame_fn(frame)

"""The console's data from the durable store (``bridge.edges.store.Store``).

Also the store snapshot for the metrics gauges, so ``/metrics`` and the
console read the same figures. The clock, the replay function and mapping
coverage are injected: the service passes ``bridge.app.replay`` and the mapping
reloader; tests pass fixed values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bridge.core.delivery import IllegalTransition
from bridge.edges.http.console import Conflict, NotFound
from bridge.edges.metrics import StoreSnapshot
from bridge.edges.store import Store, UnknownMessage

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
        self.warnings = list(warnings or [])

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
            rcref_overdue=len(self.store.overdue_rcref(now)),
            inbound_overdue=self.store.count_inbound_waiting_since(now - self.handover_deadline),
        )

    def summary(self) -> dict[str, Any]:
        counts: dict[str, dict[str, int]] = {}
        for (direction, state), count in sorted(self.store.counts().items()):
            counts.setdefault(direction, {})[state] = count
        snap = self.metrics_snapshot()
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

    def dlq(self, limit: int) -> list[dict[str, Any]]:
        """The oldest ``limit`` pending dead letters (the summary gives the total)."""
        return [entry.summary() for entry in self.store.dlq_list()[:limit]]

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

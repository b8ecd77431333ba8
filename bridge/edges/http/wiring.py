"""Glue for the service: readiness checks and console coverage from the live components.

Small adapters so ``bridge/app/service.py`` passes its store, Hub client and mapping
reloader and gets what :func:`bridge.edges.http.start_http` and
:class:`bridge.edges.http.StoreConsoleProvider` take.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.edges.http.health import ReadinessCheck

COVERAGE_LEAF_ONLY = True  # the codes an operator actually picks


def hub_connected(client: Any) -> Callable[[], bool]:
    """``broker_connected`` from an AMQP ``HubClient`` (its ``state`` is ``"connected"`` when up)."""
    return lambda: getattr(client, "state", None) == "connected"


def readiness_checks(
    *, store: Any, broker_connected: Callable[[], bool] | None, reloader: Any | None
) -> dict[str, ReadinessCheck]:
    """The three checks of ``/readyz``; embedded mode passes ``broker_connected=None`` (always connected)."""
    return {
        "store_writable": store.is_writable,
        "broker_connected": broker_connected or (lambda: True),
        "tables_loaded": (lambda: reloader.current() is not None and bool(reloader.current().tables))
        if reloader is not None else (lambda: False),
    }


class MappingCoverage:
    """Console coverage of the tables in force, recomputed only when their version changes."""

    def __init__(self, reloader: Any) -> None:
        self.reloader = reloader
        self._cached: tuple[str, dict[str, Any]] | None = None

    def __call__(self) -> dict[str, Any]:
        current = self.reloader.current()
        if self._cached is None or self._cached[0] != current.version:
            self._cached = (current.version, self._compute(current))
        refused = [str(issue) for issue in getattr(self.reloader, "last_refused", [])]
        return {**self._cached[1], **({"last_reload_refused": refused} if refused else {})}

    def _compute(self, current: Any) -> dict[str, Any]:
        from bridge.core.mapping.coverage import coverage

        rows = coverage(current.tables, self.reloader.nomenclatures, leaf_only=COVERAGE_LEAF_ONLY)
        summary: dict[str, Any] = {"version": current.version, "tables": [
            {"table": row.table, "direction": row.direction, "code_list": row.code_list, "mapped": row.mapped,
             "total": row.total, "unmapped": list(row.unmapped[:200]), "unmapped_count": len(row.unmapped)}
            for row in rows]}
        for row in rows:
            summary[f"{row.table} {row.direction} ({row.code_list})"] = (
                f"{row.mapped}/{row.total} ({100 * row.ratio:.1f}%)"
                + (f", unmapped: {', '.join(row.unmapped[:8])}{'…' if len(row.unmapped) > 8 else ''}" if row.unmapped else "")
            )
        return summary

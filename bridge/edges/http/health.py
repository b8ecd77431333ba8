"""``/healthz``, ``/readyz`` and ``/metrics``: what a supervisor and Prometheus poll.

``/healthz`` answers as long as the reactor turns (the process is up).
``/readyz`` runs injected checks (store writable, broker connected, tables
loaded...) and answers 503 with a JSON body naming the failing ones, so a load
balancer or a container healthcheck sees *why* the bridge is not ready.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import structlog
from twisted.web.resource import Resource

from bridge.edges.http.common import no_store, set_json
from bridge.edges.metrics import BridgeMetrics

log = structlog.get_logger("bridge.http")

ReadinessCheck = Callable[[], bool]


class HealthzResource(Resource):
    """200 "ok" while the process serves requests and its liveness checks pass (a stalled file-drop loop...).

    A failing liveness check answers 503 naming it: a supervisor restarts the bridge.
    """

    isLeaf = True

    def __init__(self, liveness: Mapping[str, ReadinessCheck] | None = None) -> None:
        super().__init__()
        self.liveness = dict(liveness or {})

    def render_GET(self, request) -> bytes:
        no_store(request)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        failing = [name for name, result in run_checks(self.liveness).items() if not result["ok"]]
        if failing:
            request.setResponseCode(503)
            return f"failing: {', '.join(failing)}\n".encode()
        return b"ok\n"


def run_checks(checks: Mapping[str, ReadinessCheck]) -> dict[str, dict[str, object]]:
    """Each check's outcome; a check that raises counts as failing and its error is reported."""
    results: dict[str, dict[str, object]] = {}
    for name, check in checks.items():
        try:
            results[name] = {"ok": bool(check())}
        except Exception as exc:  # noqa: BLE001 - a broken check means "not ready", never a 500
            log.warning("readiness_check_failed", check=name, error=repr(exc))
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return results


class ReadyzResource(Resource):
    """200 when every injected check passes, else 503; the JSON body lists them all."""

    isLeaf = True

    def __init__(self, checks: Mapping[str, ReadinessCheck], *, notes: Mapping[str, object] | None = None) -> None:
        super().__init__()
        self.checks = dict(checks)
        self.notes = dict(notes or {})  # fixed facts shown with every answer (hub_mode, warnings)

    def render_GET(self, request) -> bytes:
        results = run_checks(self.checks)
        failing = [name for name, result in results.items() if not result["ok"]]
        request.setResponseCode(503 if failing else 200)
        set_json(request)
        body = {**self.notes, "ready": not failing, "failing": failing, "checks": results}
        return json.dumps(body, sort_keys=True).encode()


class MetricsResource(Resource):
    """Prometheus text exposition of one :class:`BridgeMetrics`."""

    isLeaf = True

    def __init__(self, metrics: BridgeMetrics) -> None:
        super().__init__()
        self.metrics = metrics

    def render_GET(self, request) -> bytes:
        body, content_type = self.metrics.render()
        no_store(request)
        request.setHeader(b"content-type", content_type.encode())
        return body

"""Assemble and start the bridge's HTTP server (Twisted web) from the ``[http]`` config.

Loopback by default. When bound to loopback the server also refuses requests
whose ``Host`` header is not a loopback name, so a web page the operator
happens to open cannot reach the console through DNS rebinding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import structlog
from twisted.web.http import _escape
from twisted.web.pages import errorPage
from twisted.web.resource import Resource
from twisted.web.server import Site

from bridge.core.hosts import is_loopback_host
from bridge.edges.http.console import ConsoleApi, ConsolePage, ConsoleProvider
from bridge.edges.http.health import (
    HealthzResource,
    MetricsResource,
    ReadinessCheck,
    ReadyzResource,
)
from bridge.edges.metrics import BridgeMetrics

log = structlog.get_logger("bridge.http")


class GuardedRoot(Resource):
    """The root resource; checks the Host header when serving on loopback only."""

    def __init__(self, *, loopback_only: bool) -> None:
        super().__init__()
        self.loopback_only = loopback_only

    def getChildWithDefault(self, path: bytes, request) -> Resource:
        if self.loopback_only and not is_loopback_host(request.getRequestHostname()):
            return errorPage(421, "Misdirected Request", "this bridge only answers to a loopback Host name")
        return super().getChildWithDefault(path, request)

    def getChild(self, path: bytes, request) -> Resource:
        if path == b"":
            return _Redirect(b"/console" if b"console" in self.children else b"/healthz")
        return errorPage(404, "Not Found", "no such page")

    def render_GET(self, request) -> bytes:  # "/" itself
        return self.getChild(b"", request).render(request)


class _Redirect(Resource):
    isLeaf = True

    def __init__(self, target: bytes) -> None:
        super().__init__()
        self.target = target

    def render(self, request) -> bytes:
        request.redirect(self.target)
        return b""


def build_root(
    *,
    metrics: BridgeMetrics,
    checks: Mapping[str, ReadinessCheck],
    provider: ConsoleProvider | None = None,
    allow_replay: bool = False,
    replay_token: str | None = None,
    loopback_only: bool = True,
    liveness: Mapping[str, ReadinessCheck] | None = None,
    offload: Callable[..., Any] | None = None,
    notes: Mapping[str, object] | None = None,
) -> Resource:
    """The resource tree: ``/healthz``, ``/readyz``, ``/metrics`` and, with a provider, ``/console`` + ``/api``."""
    root = GuardedRoot(loopback_only=loopback_only)
    root.putChild(b"healthz", HealthzResource(liveness))
    root.putChild(b"readyz", ReadyzResource(checks, notes=notes))
    root.putChild(b"metrics", MetricsResource(metrics))
    if provider is not None:
        root.putChild(b"console", ConsolePage())
        root.putChild(b"api", ConsoleApi(provider, allow_replay=allow_replay, replay_token=replay_token,
                                         offload=offload))
    return root


MAX_LOGGED_URI = 512  # characters of a request target or Referer kept in the access log
KEPT_QUERY_KEYS = frozenset({b"limit"})  # every other query value is masked in the access log


def mask_url(raw: bytes) -> bytes:
    """``raw`` cut to MAX_LOGGED_URI, with every query value masked but ``limit`` (tokens pasted in URLs...)."""
    path, sep, query = raw.partition(b"?")
    path = path.split(b"#", 1)[0]
    if sep:
        parts = []
        for item in query.split(b"#", 1)[0].split(b"&"):
            key, eq, _value = item.partition(b"=")
            parts.append(item if key in KEPT_QUERY_KEYS or not eq else key + b"=***")
        path = path + b"?" + b"&".join(parts)
    return path[:MAX_LOGGED_URI] + (b"..." if len(path) > MAX_LOGGED_URI else b"")


def access_log_line(timestamp: str, request: Any) -> str:
    """Twisted's combined log line, with query values masked and long fields cut (URI, Referer, User-Agent)."""
    client = request.getClientAddress()
    ip = getattr(client, "host", "-")
    method, uri, proto = _escape(request.method[:16]), _escape(mask_url(request.uri)), _escape(request.clientproto[:16])
    referrer = _escape(mask_url(request.getHeader(b"referer") or b"-"))
    agent = _escape((request.getHeader(b"user-agent") or b"-")[:MAX_LOGGED_URI])
    return (f'"{_escape(ip)}" - - {timestamp} "{method} {uri} {proto}" {request.code} {request.sentLength or "-"} '
            f'"{referrer}" "{agent}"')


# what supervisors, Prometheus and the open console poll: access lines at DEBUG, not INFO
QUIET_PATHS = (b"/healthz", b"/readyz", b"/metrics", b"/api/summary", b"/api/messages", b"/api/dlq",
               b"/api/coverage", b"/console")


class BridgeSite(Site):
    """A Site whose access log goes through structlog: polls at DEBUG, other requests at INFO.

    Only method, target (query values masked, cut, see :func:`mask_url`), status and client address
    are logged: no bodies, no headers. ``logFormatter`` (:func:`access_log_line`) stays the combined
    format for anyone who sets ``logPath``.
    """

    def log(self, request: Any) -> None:
        path = request.path or b""
        quiet = request.method in (b"GET", b"HEAD") and path.startswith(QUIET_PATHS)
        emit = log.debug if quiet else log.info
        client = request.getClientAddress()
        emit("http_request", method=request.method[:16].decode("ascii", "replace"),
             path=mask_url(getattr(request, "uri", path)).decode("utf-8", "replace"),
             status=getattr(request, "code", None), peer=getattr(client, "host", None))


def build_site(root: Resource) -> Site:
    """A Site that never shows Python tracebacks to the browser nor logs a query-string secret."""
    site = BridgeSite(root, logFormatter=access_log_line)
    site.displayTracebacks = False
    site.noisy = False
    return site


def start_http(reactor, http_config, *, metrics: BridgeMetrics, checks: Mapping[str, ReadinessCheck],
               provider: ConsoleProvider | None = None, liveness: Mapping[str, ReadinessCheck] | None = None,
               notes: Mapping[str, object] | None = None):
    """Listen as ``[http]`` says (``bridge.runtime.config.HttpSection``); returns the listening port or None if disabled."""
    if not http_config.enabled:
        return None
    loopback = http_config.is_loopback()
    token = http_config.replay_token.get_secret_value() if http_config.replay_token is not None else None
    root = build_root(
        metrics=metrics, checks=checks, provider=provider if http_config.console else None,
        allow_replay=http_config.allow_replay, replay_token=token, loopback_only=loopback, liveness=liveness,
        notes=notes,
    )
    port = reactor.listenTCP(http_config.port, build_site(root), interface=http_config.bind)
    if not loopback:
        log.warning("http_bound_beyond_loopback", bind=http_config.bind, console=http_config.console)
    log.info("http_listening", bind=http_config.bind, port=port.getHost().port,
             console=http_config.console and provider is not None, allow_replay=http_config.allow_replay)
    return port

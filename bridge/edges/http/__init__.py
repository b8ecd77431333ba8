"""HTTP side of the bridge: ``/metrics``, ``/healthz``, ``/readyz`` and the ops console."""

from bridge.edges.http.console import Conflict, ConsoleProvider, NotFound
from bridge.edges.http.provider import StoreConsoleProvider
from bridge.edges.http.server import build_root, build_site, start_http

__all__ = [
    "Conflict", "ConsoleProvider", "NotFound", "StoreConsoleProvider", "build_root", "build_site", "start_http",
]

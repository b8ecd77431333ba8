"""HTTP side of the bridge: ``/metrics``, ``/healthz``, ``/readyz`` and the ops console."""

from bridge.edges.http.console import Conflict, ConsoleProvider, NotFound
from bridge.edges.http.provider import StoreConsoleProvider
from bridge.edges.http.server import build_root, build_site, start_http
from bridge.edges.http.wiring import MappingCoverage, hub_connected, readiness_checks

__all__ = [
    "Conflict", "ConsoleProvider", "MappingCoverage", "NotFound", "StoreConsoleProvider", "build_root", "build_site",
    "hub_connected", "readiness_checks", "start_http",
]

"""Tests of the service glue for /readyz and the console's mapping coverage (bridge/edges/http/wiring.py)."""

from __future__ import annotations

from types import SimpleNamespace

from bridge.edges.http.health import run_checks
from bridge.edges.http.wiring import MappingCoverage, hub_connected, readiness_checks
from bridge.edges.store import Store


def test_hub_connected_follows_client_state():
    """broker_connected is true only while the Hub client's state is 'connected'."""
    client = SimpleNamespace(state="connecting")
    check = hub_connected(client)
    seen = [check()]
    client.state = "connected"
    seen.append(check())
    assert [False, True] == seen


def test_readiness_checks_on_a_real_store(tmp_path):
    """With a writable store, a connected broker and loaded tables, every check passes; no tables fails one."""
    reloader = SimpleNamespace(current=lambda: SimpleNamespace(tables={"t": object()}, version="v1"))
    with Store.open(tmp_path / "s.sqlite3") as store:
        ok = run_checks(readiness_checks(store=store, broker_connected=lambda: True, reloader=reloader))
        missing = run_checks(readiness_checks(store=store, broker_connected=None, reloader=None))
    assert all(result["ok"] for result in ok.values())
    assert {"store_writable": True, "broker_connected": True, "tables_loaded": False} == {
        name: result["ok"] for name, result in missing.items()}


def test_mapping_coverage_of_the_project_tables():
    """Coverage of the shipped tables names the version and one entry per table direction, computed once per version."""
    from bridge.refdata.mapping_loader import MappingReloader
    from bridge.refdata.nomenclature_store import load_nomenclatures
    from bridge.refdata.resources import project_dir

    reloader = MappingReloader(project_dir("mappings"), load_nomenclatures())
    coverage = MappingCoverage(reloader)
    first = coverage()
    assert reloader.version == first["version"] and len(first) > 1
    assert first == coverage() and coverage._cached[0] == reloader.version

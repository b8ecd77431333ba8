"""Each configuration key reaches the part of the running bridge it governs (real reactor, embedded Hub).

One bridge is started with a non-default value for every key that ``start_bridge`` wires, and
each test reads the effect on the object that acts on it. ``tests/unit/test_config_effects.py``
lists, for every key of ``docs/configuration.md``, the test that shows its effect.
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.refdata.resources import project_dir
from bridge.runtime.config import BridgeConfig

NOMENCLATURE = "code,label\nZZ1,Code de test\n"


@pytest.fixture(scope="module")
def wired(tmp_path_factory, reactor_thread):
    """A running embedded bridge configured with non-default values, plus an old delivered message."""
    from bridge.edges.store import Store, Translation
    from bridge.runtime.runner import start_bridge

    tmp = tmp_path_factory.mktemp("wired")
    mappings = tmp / "mappings"
    shutil.copytree(project_dir("mappings"), mappings)
    codes = tmp / "codes"
    codes.mkdir()
    (codes / "Test.effect.csv").write_text(NOMENCLATURE, encoding="utf-8")
    store_path = tmp / "wired.sqlite3"
    old = datetime.now(UTC) - timedelta(days=5)
    with Store.open(store_path) as store:  # finished 5 days ago: retention_days = 2 purges it
        done = store.accept_outbound(b"OLD", adapter="legacy-text", profile="lrm-alpha-text", received_at=old)
        store.record_translated(done, Translation(b"{}", "fr.health.samu440_old", "CASE-OLD", None), at=old)
        store.mark_published(done, at=old)
        store.mark_delivered("fr.health.samu440_old", at=old)
        failed = store.accept_outbound(b"BAD", adapter="legacy-text", profile="lrm-alpha-text", received_at=old)
        store.mark_translation_failed(failed, error="x", error_path=None, at=old)
    config = BridgeConfig.model_validate({
        "bridge": {"instance": "wired-7", "peer_id": "fr.fire.nexsis.sdis29"},
        "hub": {"mode": "embedded", "rcref_deadline_seconds": 77, "content_type": "xml"},
        "legacy": {"mode": "tcp-server", "host": "127.0.0.1", "port": 0, "max_frame_bytes": 4096,
                   "allowed_peers": ["127.0.0.1", "10.9.8.0/24"], "max_refused_frames": 7,
                   "handover_deadline_seconds": 33},
        "store": {"path": str(store_path), "synchronous": "NORMAL", "max_pending": 123, "retention_days": 2},
        "delivery": {"max_attempts": 3, "backoff_base": 0.5, "backoff_max": 7.0, "jitter": 0.0},
        "mappings": {"dir": str(mappings), "reload_interval_seconds": 60},
        "nomenclatures": {"dir": str(codes)},
        "http": {"enabled": True, "bind": "127.0.0.1", "port": 0, "console": False},
    })
    running = reactor_thread.call(start_bridge, config, reactor_thread.reactor, timeout=30)
    try:
        yield running, {"done": done, "failed": failed}
    finally:
        reactor_thread.call(running.stop, timeout=30)


def test_bridge_section(wired):
    running, _ = wired
    settings = running.service.settings
    assert settings.recipient_id == "fr.fire.nexsis.sdis29"
    assert running.extra["provider"].summary()["instance"] == "wired-7"
    assert "wired-7" in running.banner()


def test_hub_rcref_deadline_and_content_type(wired):
    running, _ = wired
    assert running.service.settings.rcref_deadline == timedelta(seconds=77)
    assert running.service.settings.content_type == "application/xml"


def test_legacy_max_frame_bytes(wired):
    running, _ = wired
    assert running.link.max_frame == 4096


def test_legacy_link_guards(wired):
    """allowed_peers and max_refused_frames reach the TCP link; handover_deadline_seconds the service."""
    import ipaddress

    running, _ = wired
    assert ipaddress.ip_network("10.9.8.0/24") in running.link.allowed
    assert running.link.max_refused_frames == 7
    assert running.service.settings.handover_deadline == timedelta(seconds=33)


def test_legacy_file_settle_seconds(tmp_path, reactor_thread):
    from bridge.runtime.runner import start_bridge

    config = BridgeConfig.model_validate({
        "hub": {"mode": "embedded"}, "store": {"path": str(tmp_path / "f.sqlite3")}, "http": {"enabled": False},
        "mappings": {"reload_interval_seconds": 0},
        "legacy": {"mode": "file", "inbox_dir": str(tmp_path), "outbox_dir": str(tmp_path), "file_settle_seconds": 4.5},
    })
    running = reactor_thread.call(start_bridge, config, reactor_thread.reactor, timeout=30)
    try:
        assert running.link.settle_seconds == 4.5
    finally:
        reactor_thread.call(running.stop, timeout=30)


def test_store_section(wired):
    running, _ = wired
    store = running.store
    assert Path(store.path).name == "wired.sqlite3"
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert store.max_pending == 123


def test_store_retention_days_sets_the_service_retention(wired, reactor_thread):
    """retention_days = 2: the hourly purge removes the message delivered 5 days ago, keeps the failed one."""
    from bridge.edges.store import UnknownMessage

    running, ids = wired
    assert running.service.settings.retention == timedelta(days=2)
    assert reactor_thread.call(running.service.purge_expired, timeout=30) == 1
    with pytest.raises(UnknownMessage):
        running.store.get(ids["done"])
    assert running.store.get(ids["failed"]).state == "dead_lettered"


def test_delivery_section(wired):
    running, _ = wired
    retry = running.service.settings.retry
    assert (retry.max_attempts, retry.base, retry.max_delay, retry.jitter) == (3, 0.5, 7.0, 0.0)


def test_mappings_section(wired):
    running, _ = wired
    assert running.reloader.directory.name == "mappings" and running.reloader.directory != project_dir("mappings")
    assert running.reloader._loop is not None and running.reloader._loop.interval == 60


def test_nomenclatures_dir(wired):
    running, _ = wired
    assert running.reloader.nomenclatures.get("Test.effect") is not None


def test_schemas_dir_is_the_bundle_the_bridge_loads(tmp_path, reactor_thread):
    """schemas.dir is read at start: a folder that is not a bundle stops the start, naming what is missing."""
    from bridge.core.errors import BridgeError
    from bridge.runtime.runner import start_bridge

    config = BridgeConfig.model_validate({
        "hub": {"mode": "embedded"}, "legacy": {"host": "127.0.0.1", "port": 0},
        "store": {"path": str(tmp_path / "s.sqlite3")}, "http": {"enabled": False},
        "mappings": {"reload_interval_seconds": 0}, "schemas": {"dir": str(tmp_path)},
    })
    with pytest.raises(BridgeError) as caught:
        reactor_thread.call(start_bridge, config, reactor_thread.reactor, timeout=30)
    assert str(tmp_path) in str(caught.value) and "json-schema" in str(caught.value)


def test_http_console_false_serves_no_console(wired):
    running, _ = wired
    port = running.http_port.getHost().port
    assert urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).status == 200
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/console", timeout=5)
    assert caught.value.code == 404

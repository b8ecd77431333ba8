"""A started bridge in embedded mode announces itself everywhere; a busy port names its setting (real reactor)."""

from __future__ import annotations

import json
import socket
import sqlite3
import urllib.request
import uuid
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bridge.runtime.config import BridgeConfig


def _embedded_config(tmp_path: Path, **http: object) -> BridgeConfig:
    return BridgeConfig.model_validate({
        "hub": {"mode": "embedded"},
        "legacy": {"mode": "tcp-server", "host": "127.0.0.1", "port": 0},
        "store": {"path": str(tmp_path / "bridge.sqlite3")},
        "http": {"enabled": True, "bind": "127.0.0.1", "port": 0, **http},
        "mappings": {"reload_interval_seconds": 0},
    })


def test_embedded_start_warns_in_log_readyz_console_and_banner(tmp_path: Path, reactor_thread):
    from bridge.runtime.runner import start_bridge

    with capture_logs() as logs:
        running = reactor_thread.call(start_bridge, _embedded_config(tmp_path), reactor_thread.reactor, timeout=30)
    try:
        port = running.http_port.getHost().port
        ready = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5).read())
        summary = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/summary", timeout=5).read())
        banner = running.banner()
    finally:
        reactor_thread.call(running.stop, timeout=30)
    assert ready["hub_mode"] == "embedded" and "simulated" in ready["warnings"][0]
    assert "simulated" in summary["warnings"][0]
    assert f"http://127.0.0.1:{port}/console" in banner
    assert "WARNING" in banner and "EMBEDDED" in banner
    warnings = [entry for entry in logs if entry.get("event") == "embedded_mode"]
    assert warnings and warnings[0]["log_level"] == "warning"


def test_port_in_use_names_the_setting(tmp_path: Path, reactor_thread):
    from bridge.runtime.runner import PortInUseError, start_bridge

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    try:
        busy = holder.getsockname()[1]
        with pytest.raises(PortInUseError) as caught:
            reactor_thread.call(start_bridge, _embedded_config(tmp_path, port=busy), reactor_thread.reactor, timeout=30)
    finally:
        holder.close()
    assert "http.port" in str(caught.value) and "HUB_BRIDGE__HTTP__PORT" in str(caught.value)


def test_legacy_port_in_use_names_the_setting(tmp_path: Path, reactor_thread):
    from bridge.runtime.runner import PortInUseError, start_bridge

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    try:
        config = _embedded_config(tmp_path).model_copy(update={
            "legacy": BridgeConfig.model_validate({"legacy": {"host": "127.0.0.1", "port": holder.getsockname()[1]}}).legacy})
        with pytest.raises(PortInUseError) as caught:
            reactor_thread.call(start_bridge, config, reactor_thread.reactor, timeout=30)
    finally:
        holder.close()
    assert "legacy.port" in str(caught.value) and "HUB_BRIDGE__LEGACY__PORT" in str(caught.value)


def test_bridge_send_gets_the_ack_of_a_running_bridge(tmp_path: Path, reactor_thread):
    """`bridge send FILE --profile P` speaks to the bridge's legacy listener like the LRM: ACK, exit 0."""
    from click.testing import CliRunner

    from bridge.cli.main import cli
    from bridge.runtime.demo import live_demo_frame
    from bridge.runtime.runner import start_bridge

    running = reactor_thread.call(start_bridge, _embedded_config(tmp_path), reactor_thread.reactor, timeout=30)
    try:
        sheet = tmp_path / "case.txt"
        sheet.write_bytes(live_demo_frame(7))
        result = CliRunner().invoke(cli, ["send", str(sheet), "--profile", "lrm-alpha-text",
                                          "--to", f"127.0.0.1:{running.legacy_port}", "--timeout", "20"])
    finally:
        reactor_thread.call(running.stop, timeout=30)
    assert result.exit_code == 0, result.output
    assert "ACK" in result.output and "DEMO-000007" in result.output
    # the running bridge's own distributionIDs are time-ordered (version 7, runner.py), the rig's are not
    with sqlite3.connect(tmp_path / "bridge.sqlite3") as db:
        ids = [row[0] for row in db.execute("SELECT distribution_id FROM messages WHERE direction = 'out'")]
    assert ids and all(uuid.UUID(d.split("_", 1)[1]).version == 7 for d in ids)

"""`bridge hub-emulator --provision-only` gives a vHost the Hub topology on the real broker."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.conftest import reference_dir

pytestmark = pytest.mark.integration

VHOST = "/15-15_v2.1"
CLIENT = "fr.health.samu690"


def test_provision_only_creates_queues_users_and_permissions(broker):
    """Queues with 24 h TTL + DLX, a password-less user and the Hub's permissions are created."""
    from bridge.cli.hub_emulator_cmd import hub_emulator
    from bridge.sim.hub_emulator.provision import ManagementApi

    ref = reference_dir()
    args = ["--provision-only", "--client", CLIENT, "--vhost", VHOST, "--management-url", broker.management_url]
    if ref is not None:
        args += ["--schemas", str(ref)]
    result = CliRunner().invoke(hub_emulator, args)
    if ref is None and result.exit_code == 3:
        pytest.skip("no schema validator available (corpus absent, bridge.validate missing)")
    assert result.exit_code == 0, result.output
    api = ManagementApi(broker.management_url)
    queues = {q["name"]: q["arguments"] for q in api.call("GET", "queues/%2F15-15_v2.1")}
    assert queues[f"{CLIENT}.message"] == {"x-message-ttl": 86400000, "x-dead-letter-exchange": "distribution.dlx"}
    assert {"dispatch", "dispatch.dlq", f"{CLIENT}.ack", f"{CLIENT}.info"} <= set(queues)
    exchanges = {e["name"]: e["type"] for e in api.call("GET", "exchanges/%2F15-15_v2.1")}
    assert (exchanges["hubsante"], exchanges["distribution"], exchanges["distribution.dlx"]) == ("topic", "direct", "fanout")
    permission = api.call("GET", f"permissions/%2F15-15_v2.1/{CLIENT}")
    assert (permission["configure"], permission["write"]) == ("^$", "^hubsante$")
    assert api.call("GET", f"users/{CLIENT}")["password_hash"] == ""


def test_emulator_process_stops_cleanly_on_sigterm(broker, tmp_path):
    """`bridge hub-emulator` runs its dispatcher until SIGTERM, then stops it and exits 0."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    ref = reference_dir()
    if ref is None:
        pytest.skip("official corpus absent: no --schemas folder for the emulator")
    log = tmp_path / "emulator.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bridge.cli.main", "hub-emulator", "--client", CLIENT, "--vhost", "/15-sig_v1.0",
             "--management-url", broker.management_url, "--amqp-port", str(broker.amqp_port), "--schemas", str(ref)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for _ in range(600):  # up to 60 s for start-up on a loaded machine
            if b"dispatcher consuming" in log.read_bytes() or process.poll() is not None:
                break
            time.sleep(0.1)
        assert b"dispatcher consuming" in log.read_bytes(), log.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        # not a terminal, so the log is JSON lines (as in production)
        events = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        assert {"event": "amqp_state", "state": "stopped"}.items() <= next(
            (e for e in events if e.get("state") == "stopped"), {}).items(), log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)

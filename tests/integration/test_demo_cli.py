"""The README's main command: 'bridge demo' on its embedded default, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BRIDGE = Path(sys.executable).with_name("bridge")


def test_demo_200_messages_all_acknowledged_and_answered(tmp_path):
    """200 case sheets: every one acknowledged (RC-REF) and answered (EMSI), exit 0, one JSON object."""
    env = {**os.environ, "HUB_BRIDGE_HOME": str(tmp_path)}
    done = subprocess.run([str(BRIDGE), "demo", "--messages", "200", "--json"], capture_output=True, text=True,
                          timeout=180, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["ok"] is True
    assert summary["sent"] == summary["stored"] == summary["acknowledged"] == summary["answered"] == 200
    assert summary["failed"] == 0
    assert summary["hub_messages"] == 400
    assert summary["p50_ms"] is not None and summary["p99_ms"] >= summary["p50_ms"]


def test_demo_with_refusing_peer_reports_failure(tmp_path):
    """A peer that stays silent leaves requests unanswered: the demo says so and exits non-zero."""
    env = {**os.environ, "HUB_BRIDGE_HOME": str(tmp_path)}
    done = subprocess.run([str(BRIDGE), "demo", "--messages", "3", "--json", "--behaviour", "no-answer",
                           "--timeout", "5"], capture_output=True, text=True, timeout=120, env=env,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 4
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["acknowledged"] == 3 and summary["answered"] == 0 and summary["ok"] is False


def test_demo_rate_paces_the_case_sheets(tmp_path):
    """--rate spreads the sheets over time (10 at 20/s take at least 0.45 s) and all still come back."""
    env = {**os.environ, "HUB_BRIDGE_HOME": str(tmp_path)}
    done = subprocess.run([str(BRIDGE), "demo", "--messages", "10", "--rate", "20", "--json"], capture_output=True,
                          text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["ok"] is True and summary["answered"] == 10
    assert summary["seconds"] >= 0.45

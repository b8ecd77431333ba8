"""The README's main command: 'bridge demo' on its embedded default, as a user runs it."""

from __future__ import annotations

import json
import os
import re
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


def _demo(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HUB_BRIDGE_HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path)}
    return subprocess.run([str(BRIDGE), "demo", *args], capture_output=True, text=True, timeout=120, env=env,
                          stdin=subprocess.DEVNULL)


def test_demo_removes_its_temporary_store(tmp_path):
    """No /tmp/bridge-demo-* folder is left behind, whatever the outcome."""
    for args in (["--messages", "2", "--json"], ["--messages", "1", "--json", "--behaviour", "no-answer",
                                                  "--timeout", "1"]):
        _demo(tmp_path, *args)
        assert list(tmp_path.glob("bridge-demo-*")) == []


def test_demo_tells_each_case_refused_by_the_peer(tmp_path):
    """--behaviour refuse: every case says it was refused by NexSIS (not the same story as accept)."""
    done = _demo(tmp_path, "--messages", "2", "--behaviour", "refuse")
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stdout.splitlines() if "DEMO-00000" in line]
    assert len(lines) == 2 and all("answered: REFUS -> refused by NexSIS" in line for line in lines)
    assert re.search(r"of which refused +2\n", done.stdout)
    summary = json.loads(_demo(tmp_path, "--messages", "2", "--json", "--behaviour", "refuse").stdout)
    assert summary["refused"] == 2 and summary["accepted"] == 0
    assert {case["outcome"] for case in summary["cases"]} == {"refused by NexSIS"}


def test_demo_says_why_a_case_failed(tmp_path):
    """no-answer and malformed peers: FAILED with the reason, per case and in the verdict."""
    silent = _demo(tmp_path, "--messages", "1", "--behaviour", "no-answer", "--timeout", "2")
    assert silent.returncode == 4
    assert "unanswered: no answer from NexSIS within 2 s" in silent.stdout
    assert "FAILED: 1 case(s) unanswered" in silent.stdout
    garbled = json.loads(_demo(tmp_path, "--messages", "1", "--json", "--behaviour", "malformed",
                               "--timeout", "2").stdout)
    (case,) = garbled["cases"]
    assert case["outcome"] == "failed" and "could not be given to the LRM" in case["reason"]
    assert "PEUT-ETRE" in case["reason"]

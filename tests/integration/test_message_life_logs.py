"""One grep by distribution_id in the JSON logs tells a message's whole life (embedded bridge, real reactor)."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import pytest
import structlog

from bridge.app.lifelog import STEPS
from bridge.runtime.config import BridgeConfig
from bridge.runtime.demo import live_demo_frame
from bridge.sim.nexsis_rules import Behaviour, PeerRules
from bridge.testing.lrm import LrmClient

PROJECT_ROOT = Path(__file__).resolve().parents[2]
OUT_STEPS = ["message_received", "message_translated", "message_published", "message_confirmed", "rcref_received",
             "message_answered"]
IN_STEPS = ["message_received", "message_translated", "message_handed_over", "rcref_sent"]
BOUND = ("distribution_id", "case_id", "direction", "adapter")


@pytest.fixture
def json_logs():
    """The process logs as JSON lines at INFO into a buffer (restored afterwards)."""
    from bridge.runtime.logging import configure_logging

    root_level = logging.getLogger().level
    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream)
    yield stream
    structlog.reset_defaults()
    for handler in list(logging.getLogger().handlers):
        if type(handler).__name__ == "_BridgeHandler":
            logging.getLogger().removeHandler(handler)
    logging.getLogger().setLevel(root_level)


def _run_one_case(tmp_path: Path, reactor_thread, behaviour: Behaviour, until) -> None:
    from bridge.runtime.runner import start_bridge

    config = BridgeConfig.model_validate({
        "hub": {"mode": "embedded"}, "legacy": {"host": "127.0.0.1", "port": 0},
        "store": {"path": str(tmp_path / "life.sqlite3")},
        "http": {"enabled": True, "bind": "127.0.0.1", "port": 0}, "mappings": {"reload_interval_seconds": 0},
    })
    rules = PeerRules(own_id=config.bridge.peer_id, behaviour=behaviour)
    running = reactor_thread.call(start_bridge, config, reactor_thread.reactor, peer_rules=rules, timeout=30)
    lrm = LrmClient("127.0.0.1", running.legacy_port)
    try:
        lrm.send(live_demo_frame(42))
        assert lrm.wait_for(lambda client: until(running.store), 30)
        lrm.wait_for(lambda client: False, 0.5)  # let the last RC-REF confirm land
    finally:
        lrm.close()
        reactor_thread.call(running.stop, timeout=30)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def _grep(stream: io.StringIO, distribution_id: str) -> list[dict]:
    """What `grep '"distribution_id": "<id>"'` gives on the JSON log file."""
    needle = f'"distribution_id": "{distribution_id}"'
    return [json.loads(line) for line in stream.getvalue().splitlines() if needle in line]


def test_one_grep_shows_every_step_of_a_request_and_of_its_answer(tmp_path, reactor_thread, json_logs):
    def answered(store) -> bool:
        return any(m.state == "answered" for m in store.recent(10)) and any(
            m.direction == "in" and m.state == "acked" for m in store.recent(10))

    _run_one_case(tmp_path, reactor_thread, Behaviour.ACCEPT, answered)
    lines = _lines(json_logs)
    request = next(line for line in lines if line["event"] == "message_translated" and line.get("kind") == "emsi")
    life = _grep(json_logs, request["distribution_id"])
    assert [line["event"] for line in life] == OUT_STEPS
    assert all(line["direction"] == "out" and line["case_id"] == "fr.health.samu440.DEMO-000042" for line in life)
    assert all(line["adapter"] == "legacy-text" and line["level"] == "info" for line in life)
    answer = _grep(json_logs, life[-1]["answer_id"])
    assert [line["event"] for line in answer] == IN_STEPS
    assert all(set(BOUND) <= set(line) and line["direction"] == "in" for line in answer)


def test_a_dead_lettered_answer_is_one_grep_too(tmp_path, reactor_thread, json_logs):
    """A meaningless answer (peer behaviour 'malformed') is dead-lettered, and says why, under its distribution_id."""
    def parked(store) -> bool:
        return any(m.direction == "in" and m.state == "dead_lettered" for m in store.recent(10))

    _run_one_case(tmp_path, reactor_thread, Behaviour.MALFORMED, parked)
    dead = next(line for line in _lines(json_logs) if line["event"] == "message_dead_lettered")
    life = _grep(json_logs, dead["distribution_id"])
    assert [line["event"] for line in life if line["event"] in STEPS] == ["message_received", "message_dead_lettered"]
    assert life[-1]["event"] == "message_dead_lettered" and life[-1]["error"] and life[-1]["direction"] == "in"
    assert "inbound_hand_over_failed" in [line["event"] for line in life]  # the alarm, under the same grep


def test_no_health_data_in_the_life_lines(tmp_path, reactor_thread, json_logs):
    """The case sheet's free text and caller never reach the logs at INFO."""
    _run_one_case(tmp_path, reactor_thread, Behaviour.ACCEPT,
                  lambda store: any(m.state == "answered" for m in store.recent(10)))
    text = json_logs.getvalue()
    assert "Personne" not in text and "Voisin" not in text and "0611223344" not in text


def test_every_event_name_is_snake_case_and_documented():
    """One vocabulary: every event the bridge logs is snake_case and listed in docs/observability.md."""
    import ast

    levels = {"debug", "info", "warning", "error", "exception", "critical"}
    names = set(STEPS) | {"http_request"}
    for path in (PROJECT_ROOT / "bridge").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in levels
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                names.add(node.args[0].value)
    assert [name for name in sorted(names) if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name)] == []
    doc = (PROJECT_ROOT / "docs" / "observability.md").read_text(encoding="utf-8")
    assert [name for name in sorted(names) if f"`{name}`" not in doc] == []

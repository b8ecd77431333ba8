"""Tests of the structlog setup (bridge/runtime/logging.py)."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest
import structlog
from structlog.testing import capture_logs

from bridge.runtime.logging import (
    MESSAGE_KEYS,
    configure_logging,
    fallback_limit_health_data,
    fallback_redact_secrets,
    hygiene_processors,
    message_logger,
)


def _remove_bridge_handlers():
    root = logging.getLogger()
    for handler in [h for h in root.handlers if type(h).__name__ == "_BridgeHandler"]:
        root.removeHandler(handler)


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _reset_structlog():
    """Each test starts and ends with structlog's defaults."""
    root_level = logging.getLogger().level
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()
    _remove_bridge_handlers()
    logging.getLogger().setLevel(root_level)


def message_log():
    return message_logger(
        structlog.get_logger("test"), distribution_id="fr.health.samu440_1", case_id="FR.1", direction="out",
        adapter="legacy-xml", state="published",
    )


class TestMessageLogger:
    def test_binds_the_five_standard_keys(self):
        """Every line through a message logger carries distribution_id, case_id, direction, adapter and state."""
        with capture_logs() as logs:
            message_log().info("published")
        assert set(MESSAGE_KEYS) <= set(logs[0]) and "fr.health.samu440_1" == logs[0]["distribution_id"]


class TestRendering:
    def test_json_lines(self):
        """format=json writes one JSON object per line with UTC ISO timestamp and level."""
        stream = io.StringIO()
        configure_logging("json", "INFO", stream=stream)
        message_log().info("published", attempt=1)
        line = json.loads(stream.getvalue().strip())
        assert ("published", "info", "published") == (line["event"], line["level"], line["state"])
        assert line["timestamp"].endswith("Z") and "T" in line["timestamp"]

    def test_auto_is_json_when_not_a_tty(self):
        """format=auto writes JSON when output is a file or pipe."""
        stream = io.StringIO()
        configure_logging("auto", stream=stream)
        structlog.get_logger().info("hello")
        assert "hello" == json.loads(stream.getvalue())["event"]

    def test_auto_is_coloured_key_value_on_a_tty(self):
        """format=auto on a terminal renders key=value with ANSI colours."""
        stream = TtyStream()
        configure_logging("auto", stream=stream)
        message_log().info("published")
        text = stream.getvalue()
        assert "\x1b[" in text and "case_id" in text and not text.lstrip().startswith("{")

    def test_level_filters(self):
        """Lines below the configured level are not written."""
        stream = io.StringIO()
        configure_logging("json", "WARNING", stream=stream)
        structlog.get_logger().info("quiet")
        structlog.get_logger().warning("loud")
        assert ["loud"] == [json.loads(line)["event"] for line in stream.getvalue().splitlines()]

    def test_stdlib_logs_rendered_the_same_way(self):
        """A library logging through the standard module (pika) comes out as the same JSON lines."""
        stream = io.StringIO()
        configure_logging("json", "INFO", stream=stream)
        try:
            logging.getLogger("pika.adapters").warning("connection lost to %s", "hub.example")
        finally:
            _remove_bridge_handlers()
        line = json.loads(stream.getvalue())
        assert ("connection lost to hub.example", "warning", "pika.adapters") == (line["event"], line["level"], line["logger"])

    def test_reconfiguring_does_not_duplicate_lines(self):
        """Configuring twice leaves one root handler, so a stdlib line is written once."""
        stream = io.StringIO()
        configure_logging("json", stream=io.StringIO())
        configure_logging("json", stream=stream)
        try:
            logging.getLogger("x").warning("once")
        finally:
            _remove_bridge_handlers()
        assert 1 == len(stream.getvalue().splitlines())

    def test_twisted_events_reach_the_output(self):
        """After capture_twisted_logs, a Twisted log event (e.g. an unhandled error) is written as JSON (child process: global state)."""
        script = (
            "import sys\n"
            "from bridge.runtime.logging import configure_logging, capture_twisted_logs\n"
            "configure_logging('json', stream=sys.stdout)\n"
            "capture_twisted_logs()\n"
            "from twisted.logger import Logger\n"
            "Logger(namespace='twisted.test').error('Unhandled error in Deferred: {why}', why='boom')\n"
        )
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        assert any("Unhandled error in Deferred: boom" in line["event"] and line["level"] == "error" for line in lines)

    def test_unknown_level_refused(self):
        """A misspelt level is an error, not silently INFO."""
        with pytest.raises(ValueError, match="LOUD"):
            configure_logging("json", "LOUD", stream=io.StringIO())


class TestHygiene:
    def test_no_patient_data_at_info(self):
        """A payload logged at info is withheld even when debug_health_data is on."""
        stream = io.StringIO()
        configure_logging("json", "DEBUG", debug_health_data=True, stream=stream)
        message_log().info("received", payload="<patient>Dupont</patient>")
        assert "Dupont" not in stream.getvalue()

    def test_health_data_at_debug_only_when_enabled(self):
        """With debug_health_data a debug line may carry the payload; without it, never."""
        for enabled, visible in ((True, True), (False, False)):
            stream = io.StringIO()
            configure_logging("json", "DEBUG", debug_health_data=enabled, stream=stream)
            message_log().debug("received", payload="<patient>Dupont</patient>")
            assert visible == ("Dupont" in stream.getvalue())

    def test_secrets_masked(self):
        """A token or password never reaches the output."""
        stream = io.StringIO()
        configure_logging("json", stream=stream)
        structlog.get_logger().info("login", replay_token="abcdef0123456789", password="hunter2")
        assert "abcdef0123456789" not in stream.getvalue() and "hunter2" not in stream.getvalue()

    def test_fallback_processors(self):
        """The fallbacks mask secrets and withhold health fields while keeping the IDs."""
        event = {"event": "x", "authorization": "Bearer t", "victims": "2 adults", "case_id": "FR.1"}
        event = fallback_limit_health_data(False)(None, "info", fallback_redact_secrets(None, "info", event))
        assert ("***", "FR.1") == (event["authorization"], event["case_id"]) and "adults" not in event["victims"]

    def test_operational_keys_kept(self):
        """The HTTP server's own operational keys are not withheld as if they were health data."""
        stream = io.StringIO()
        configure_logging("json", stream=stream)
        structlog.get_logger().info("http_listening", instance="samu44", allow_replay=False)
        line = json.loads(stream.getvalue())
        assert ("samu44", False) == (line["instance"], line["allow_replay"])

    def test_two_hygiene_processors(self):
        """The chain always contains a secret masker and a health-data limiter."""
        assert 2 == len(hygiene_processors(False))

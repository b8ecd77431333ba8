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

    def test_hygiene_masks_secrets_and_withholds_health_data(self):
        """The chain's hygiene (one processor doing both, or the two fallbacks) masks and withholds, in that order."""

        def apply(debug: bool, method: str) -> dict:
            event = {"event": "x", "password": "hunter2", "note": "Dupont", "case_id": "FR.1", "api_token": "t0k",
                     "error": "amqps://u:pw@h"}
            for processor in hygiene_processors(debug):
                event = processor(None, method, event)
            return event

        assert apply(False, "info") == {"event": "x", "password": "[withheld]", "note": "[withheld]",
                                        "case_id": "FR.1", "api_token": "[withheld]", "error": "amqps://u:***@h"}
        assert apply(True, "debug")["note"] == "Dupont" and apply(True, "debug")["password"] == "***"
        assert apply(True, "info")["note"] == "[withheld]"


class TestLineCost:
    """The cheaper INFO line (issue 18): the same text as structlog's own processors, less work per line."""

    LINES = (
        {"event": "message_published", "distribution_id": "fr.health.samu440_1", "attempt": 1, "level": "info"},
        {"event": "é\u2028\x00\x1f\"\\ ok", "nested": {"b": [1, 2.5, None, True], "a": "x"}, "n": float("nan")},
        {"event": "x", "obj": object, "bytes": b"\x00\xff", "big": 10**30, "inf": float("-inf")},
        {"event": "x", "custom": type("C", (), {"__structlog__": lambda self: {"k": "v"}})()},
    )

    def test_json_renderer_writes_what_structlog_json_renderer_writes(self):
        from bridge.runtime.logging import json_renderer

        ours, theirs = json_renderer(), structlog.processors.JSONRenderer(sort_keys=True)
        for line in self.LINES:
            assert ours(None, "info", dict(line)) == theirs(None, "info", dict(line))

    def test_json_renderer_still_refuses_a_circular_value(self):
        from bridge.runtime.logging import json_renderer

        looped: list = []
        looped.append(looped)
        render = json_renderer()
        with pytest.raises(ValueError, match="Circular"):
            render(None, "info", {"event": "x", "loop": looped})
        assert render(None, "info", {"event": "y", "ok": [looped[:0]]}) == '{"event": "y", "ok": [[]]}'

    @pytest.mark.parametrize("nanos", [0, 1_000, 999_999_999, 1_500_000_000, 1_764_489_600_000_001_000,
                                       1_764_489_600_123_456_789, 1_764_489_601_000_000_000])
    def test_timestamp_is_structlog_iso_utc_text(self, nanos, monkeypatch):
        """Same text as datetime.isoformat in UTC with Z (microseconds left out when zero), second cached or not."""
        from datetime import UTC, datetime

        from bridge.runtime.logging import UtcTimestamper

        stamper = UtcTimestamper()
        for _ in range(2):  # the second call reads the cached second
            monkeypatch.setattr("bridge.runtime.logging.time.time_ns", lambda n=nanos: n)
            stamped = stamper(None, "info", {})["timestamp"]
            expected = datetime.fromtimestamp(nanos // 1_000_000_000, UTC).replace(
                microsecond=nanos % 1_000_000_000 // 1000).isoformat().replace("+00:00", "Z")
            assert stamped == expected

    def test_exception_and_stack_still_rendered(self):
        stream = io.StringIO()
        configure_logging("json", "INFO", stream=stream)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            structlog.get_logger().exception("failed")
        structlog.get_logger().info("where", stack_info=True)
        failed, where = (json.loads(line) for line in stream.getvalue().splitlines())
        assert "RuntimeError: boom" in failed["exception"] and "exc_info" not in failed
        assert "Stack (most recent call last)" in where["stack"] and "stack_info" not in where

    def test_lifelog_builds_its_logger_once_per_configuration(self):
        """structlog's lazy proxy built a new logger (and output logger) for every line; lifelog keeps one."""
        from bridge.app import lifelog

        first, second = io.StringIO(), io.StringIO()
        made: list[object] = []

        def counting_factory(stream):
            def factory(*args):
                made.append(stream)
                return structlog.WriteLogger(stream)
            return factory

        def configure(stream):
            structlog.configure(processors=[structlog.processors.JSONRenderer()],
                                logger_factory=counting_factory(stream), cache_logger_on_first_use=False)

        def steps(n):
            for _ in range(n):
                lifelog.step("message_published", distribution_id="d", case_id="c", direction="out", adapter="a")

        configure(first)
        steps(5)
        assert (1, 5) == (len(made), len(first.getvalue().splitlines()))
        configure(second)  # a new configuration is followed at once
        steps(3)
        assert (2, 3, 5) == (len(made), len(second.getvalue().splitlines()), len(first.getvalue().splitlines()))
        with capture_logs() as logs:  # and so is capture_logs, and what it restores
            steps(1)
        steps(1)
        assert [entry["event"] for entry in logs] == ["message_published"]
        assert 4 == len(second.getvalue().splitlines())

    def test_lifelog_at_warning_does_not_call_the_logger_for_info_steps(self):
        """A bridge at WARNING (five message-life steps per case sheet): the filtered steps cost no logger call,
        failures are still written, and INFO comes back with the next configuration."""
        from bridge.app import lifelog

        stream = io.StringIO()
        configure_logging("json", "WARNING", stream=stream)
        lifelog.step("message_published", distribution_id="d", case_id="c", direction="out", adapter="a")
        calls: list[str] = []

        class Recorder:
            def info(self, event, **_kw):
                calls.append(f"info:{event}")

            def warning(self, event, **_kw):
                calls.append(f"warning:{event}")

        cached = lifelog.log._cached
        assert cached is not None
        lifelog.log._cached = (*cached[:4], Recorder(), *cached[5:])
        lifelog.step("message_published", distribution_id="d", case_id="c", direction="out", adapter="a")
        lifelog.step("message_failed", distribution_id="d", case_id="c", direction="out", adapter="a", code=1)
        assert calls == ["warning:message_failed"]
        configure_logging("json", "INFO", stream=stream)
        lifelog.step("message_confirmed", distribution_id="d", case_id="c", direction="out", adapter="a")
        assert [json.loads(line)["event"] for line in stream.getvalue().splitlines()] == ["message_confirmed"]

    def test_lifelog_line_text_unchanged_at_info(self):
        """A message-life line at INFO: the keys and values it always had, rendered by the JSON chain."""
        from bridge.app import lifelog

        stream = io.StringIO()
        configure_logging("json", "INFO", stream=stream)
        lifelog.step("message_published", distribution_id="fr.health.samu440_1", case_id="K", direction="out",
                     adapter="legacy-text", attempt=2)
        lifelog.step("message_failed", distribution_id="d", case_id=None, direction="out", adapter="a",
                     code=301, reason="Bearer abc.def at amqps://u:pw@h")
        published, failed = (json.loads(line) for line in stream.getvalue().splitlines())
        assert list(published) == sorted(published)
        assert {k: v for k, v in published.items() if k != "timestamp"} == {
            "event": "message_published", "distribution_id": "fr.health.samu440_1", "case_id": "K",
            "direction": "out", "adapter": "legacy-text", "attempt": 2, "level": "info"}
        assert (failed["level"], failed["case_id"], failed["reason"]) == ("warning", None, "Bearer *** at amqps://u:***@h")

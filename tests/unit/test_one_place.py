"""One place for each fact: the clock default, the loopback check, the adapter list, the payload table."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for p in (ROOT / "bridge").rglob("*.py") if not p.name.startswith("_gen_"))


def _definitions(name: str) -> list[str]:
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef) and node.name.lstrip("_") == name:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


@pytest.mark.parametrize(("name", "home"), [
    ("utc_now", "bridge/app/clock.py"),
    ("is_loopback_host", "bridge/core/hosts.py"),
])
def test_defined_once(name: str, home: str) -> None:
    """The helper is defined in exactly one module; everyone else imports it."""
    assert [where.split(":")[0] for where in _definitions(name)] == [home]


def test_no_second_list_of_builtin_adapters() -> None:
    """The built-in adapter paths appear in pyproject's entry points and nowhere under bridge/."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["hub_bridge.adapters"]
    for path in SOURCES:
        text = path.read_text()
        copies = [value for value in declared.values() if value in text]
        assert copies == [], f"{path.relative_to(ROOT)} lists {copies}"


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("::1", True), ("[::1]", True), (b"[::1]", True), (b"localhost", True),
    ("LOCALHOST", True), ("bridge.localhost", True), ("127.8.0.1", True),
    ("10.0.0.1", False), (b"evil.example", False), ("localhost.evil.example", False), ("", False),
])
def test_one_loopback_check_for_config_security_and_http(host: str | bytes, loopback: bool) -> None:
    """Configuration, security checks and the HTTP Host guard all answer through the same function."""
    from bridge.core.hosts import is_loopback_host
    from bridge.edges.http import server
    from bridge.runtime import config, security

    assert security.is_loopback_host is is_loopback_host
    assert config.is_loopback_host is is_loopback_host
    assert server.is_loopback_host is is_loopback_host
    assert is_loopback_host(host) is loopback


def test_one_table_of_payloads_the_legacy_side_understands() -> None:
    """The translator and the NexSIS simulator read the pipeline's table of case-carrying payloads."""
    from bridge.app import translator
    from bridge.core import pipeline
    from bridge.sim import nexsis_rules

    assert set(pipeline.HUB_DECODERS) == {"createCase", "emsi", "resourcesInfoCisu"}  # RC-RI: resource statuses
    assert translator.LEGACY_PAYLOADS is pipeline.LEGACY_PAYLOADS
    assert nexsis_rules.FUNCTIONAL_PAYLOADS is pipeline.LEGACY_PAYLOADS

"""CI runs the README's second command, and that command runs every gate, failing on any of them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check", ROOT / "tools" / "check.py")
assert _spec is not None and _spec.loader is not None
check = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("check", check)  # dataclasses look their module up there
_spec.loader.exec_module(check)


def _readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("    "))
    commands = []
    for line in lines[start:]:
        if not line.startswith("    "):
            break
        commands.append(line.strip())
    return commands


def test_readme_keeps_two_commands_and_ci_runs_the_second_exactly() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert "requirements.lock" in commands[1] and commands[1].endswith("tools/check.py")
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert commands[1] in ci


def test_every_gate_is_a_step() -> None:
    assert [s.name for s in check.steps()] == ["ruff", "mypy", "imports", "unit", "integration", "coverage"]


@pytest.mark.parametrize("failing_code", [1, 2, 5])
def test_any_failing_step_fails_the_run_and_is_named(monkeypatch, capsys, failing_code: int) -> None:
    """Exit 5 (pytest collected nothing) fails like any other code."""
    monkeypatch.setattr(check, "run", lambda step: (failing_code if step.name == "integration" else 0, 0.0))
    monkeypatch.setattr(check, "total_coverage", lambda: "80")
    assert check.main([]) == 1
    assert "FAILED: integration" in capsys.readouterr().out


def test_all_steps_passing_passes(monkeypatch, capsys) -> None:
    monkeypatch.setattr(check, "run", lambda step: (0, 0.0))
    monkeypatch.setattr(check, "total_coverage", lambda: "80")
    assert check.main([]) == 0
    assert "all passed" in capsys.readouterr().out

"""Every quality gate, one step each: what `.ci/run` and the README's second command run.

    .venv/bin/python tools/check.py                 # all steps, a summary, exit 1 if any failed
    .venv/bin/python tools/check.py --step unit     # one step (repeatable): ruff, mypy, imports, unit,
                                                    # integration, coverage

Steps run in order and all of them run even after a failure, so one run says everything
that is wrong; the summary names each failed step. Coverage is collected by the two pytest
steps (``--cov`` in ``[tool.pytest.ini_options]``) and the last step enforces the floor for
``bridge/core``. A pytest step that collects no test (exit 5) fails like any other.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CORE_COVERAGE_FLOOR = 90  # percent of bridge/core statements and branches (measured 93% when set)


@dataclass(frozen=True)
class Step:
    name: str
    what: str
    command: list[str]


def steps() -> list[Step]:
    python = sys.executable
    return [
        Step("ruff", "style (ruff, config in pyproject.toml)", [str(BIN / "ruff"), "check", "."]),
        Step("mypy", "types (strict on bridge/core and bridge/app, baseline elsewhere)",
             [python, "tools/mypy_baseline.py"]),
        Step("imports", "layers contract (import-linter)", [str(BIN / "lint-imports")]),
        Step("unit", "unit, golden, conformance and hostile tests",
             [python, "-m", "pytest", "-q", "tests", "--ignore=tests/integration"]),
        Step("integration", "integration tests (RabbitMQ, browser, CLI processes)",
             [python, "-m", "pytest", "-q", "tests/integration", "--cov-append"]),
        Step("coverage", f"coverage floor: bridge/core >= {CORE_COVERAGE_FLOOR}%",
             [python, "-m", "coverage", "report", "--include=bridge/core/*", f"--fail-under={CORE_COVERAGE_FLOOR}"]),
    ]


def run(step: Step) -> tuple[int, float]:
    print(f"\n=== {step.name}: {step.what}\n$ {' '.join(step.command)}", flush=True)
    started = time.monotonic()
    completed = subprocess.run(step.command, cwd=ROOT, check=False)
    return completed.returncode, time.monotonic() - started


def total_coverage() -> str:
    completed = subprocess.run([sys.executable, "-m", "coverage", "report", "--format=total"], cwd=ROOT,
                               capture_output=True, text=True, check=False)
    return completed.stdout.strip() or "?"


def main(argv: list[str] | None = None) -> int:
    known = [s.name for s in steps()]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--step", action="append", choices=known, help="run only this step (repeatable)")
    args = parser.parse_args(argv)
    chosen = [s for s in steps() if not args.step or s.name in args.step]
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    results = []
    started = time.monotonic()
    for step in chosen:
        code, seconds = run(step)
        results.append((step, code, seconds))
    print("\n=== summary")
    for step, code, seconds in results:
        print(f"{'ok  ' if code == 0 else 'FAIL'} {step.name:<12} {seconds:6.0f} s  (exit {code})")
    if any(s.name == "coverage" for s in chosen):
        print(f"coverage of bridge/ (all measured modules): {total_coverage()}%")
    failed = [step.name for step, code, _ in results if code != 0]
    print(f"total {time.monotonic() - started:.0f} s; " + (f"FAILED: {', '.join(failed)}" if failed else "all passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

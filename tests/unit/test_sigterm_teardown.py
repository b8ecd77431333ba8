"""A test session ended by SIGTERM tears down its fixtures (bridge/testing/signals.py).

A broker left running by a test run killed with ``timeout`` was found using CPU an hour later; the
session fixtures that start brokers and bridges only stop them in their teardown.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.testing.signals import teardown_on_sigterm

PROJECT_ROOT = Path(__file__).resolve().parents[2]

SESSION = '''
import time
from pathlib import Path

import pytest

MARKS = Path(__file__).parent


@pytest.fixture(scope="session")
def started():
    (MARKS / "up").write_text("up")
    yield
    (MARKS / "down").write_text("down")


def test_waits(started):
    (MARKS / "running").write_text("running")
    time.sleep(60)
'''


def _run_and_terminate(directory: Path, conftest: str, *, signals: int = 1,
                       session: str = SESSION) -> subprocess.CompletedProcess | int:
    (directory / "conftest.py").write_text(conftest)
    (directory / "test_session.py").write_text(session)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(directory)],
                               cwd=directory, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (directory / "running").exists():
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            assert time.monotonic() < deadline, "the inner session never started its test"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        for _ in range(signals - 1):  # the next ones while the teardown runs
            deadline = time.monotonic() + 30
            while not (directory / "tearing-down").exists() and process.poll() is None:
                assert time.monotonic() < deadline, "the teardown never started"
                time.sleep(0.02)
            process.send_signal(signal.SIGTERM)
        return process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_a_session_ended_by_sigterm_runs_its_fixtures_teardown(tmp_path: Path) -> None:
    code = _run_and_terminate(tmp_path, "from bridge.testing.signals import teardown_on_sigterm\n\n\n"
                                        "def pytest_configure(config):\n    teardown_on_sigterm()\n")
    assert (tmp_path / "down").exists(), "the session fixture's teardown did not run"
    assert code == 2  # pytest's "interrupted"


SLOW_TEARDOWN = SESSION.replace('''    yield
    (MARKS / "down").write_text("down")''', '''    yield
    (MARKS / "tearing-down").write_text("tearing down")
    time.sleep(1)
    (MARKS / "down").write_text("down")''')


def test_a_second_sigterm_during_the_teardown_does_not_cut_it_short(tmp_path: Path) -> None:
    assert SLOW_TEARDOWN != SESSION
    code = _run_and_terminate(tmp_path, "from bridge.testing.signals import teardown_on_sigterm\n\n\n"
                                        "def pytest_configure(config):\n    teardown_on_sigterm()\n",
                              signals=2, session=SLOW_TEARDOWN)
    assert (tmp_path / "down").exists(), "the second SIGTERM ended the teardown"
    assert code == 2


def test_without_it_sigterm_skips_the_teardown(tmp_path: Path) -> None:
    """The default action of SIGTERM: what the handler exists for (if pytest ever tears down on SIGTERM by
    itself, this fails and the handler can go)."""
    code = _run_and_terminate(tmp_path, "")
    assert not (tmp_path / "down").exists()
    assert code == -signal.SIGTERM


def test_an_existing_handler_is_left_alone() -> None:
    previous = signal.getsignal(signal.SIGTERM)

    def mine(_signum, _frame):  # pragma: no cover - never delivered
        return None

    signal.signal(signal.SIGTERM, mine)
    try:
        assert teardown_on_sigterm() is False
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_the_suite_itself_installs_it() -> None:
    handler = signal.getsignal(signal.SIGTERM)
    if handler is signal.SIG_DFL:
        pytest.fail("tests/conftest.py did not install the SIGTERM handler")
    assert getattr(handler, "__module__", "") == "bridge.testing.signals"

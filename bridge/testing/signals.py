"""A test session stopped by SIGTERM still tears down what it started.

``timeout`` around a test run, a CI runner giving up, ``kill PID``: each sends SIGTERM, whose
default action ends pytest at once, without the fixtures' teardown. The private RabbitMQ node, its
epmd and any bridge a fixture started (each in its own process group, so a group kill of pytest
does not reach them) then outlive the run: a broker left from a killed run was found at 12:45 on
2026-11-30, still using CPU an hour and twenty minutes later. :func:`teardown_on_sigterm` makes
SIGTERM end the session the way Ctrl-C does (``KeyboardInterrupt``), so pytest runs every
fixture's teardown, and each process is stopped by PID as usual.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType


def teardown_on_sigterm() -> bool:
    """Turn SIGTERM into ``KeyboardInterrupt`` in this process; False when left alone (not the main thread, or
    someone already handles SIGTERM)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return False
    signal.signal(signal.SIGTERM, _interrupt)
    return True


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM often comes twice (``timeout`` signals its whole process group, then someone kills the run by PID): a
    # second one must not cut the teardown short (a broker stopped, its epmd left running was seen). Every teardown
    # is bounded, and SIGKILL still ends the process at once. A Python handler, not SIG_IGN: processes the
    # teardown starts get the default action back at exec.
    signal.signal(signal.SIGTERM, _already_ending)
    raise KeyboardInterrupt(f"signal {signum}: ending the test session, tearing down what it started")


def _already_ending(_signum: int, _frame: FrameType | None) -> None:
    """The session is already tearing down: let it finish."""

"""Crash safety: a process killed in the middle of a transition leaves no half-state."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import pytest

from bridge.core.delivery import State
from bridge.edges.store import Store

# The child prepares one translated message, then arms a trace hook that calls
# os._exit (no cleanup, no commit, like a power cut for the process) just before
# the N-th statement matching CRASH_ON runs, and attempts the transition STEP.
CHILD = textwrap.dedent("""
    import os, sys
    from datetime import UTC, datetime
    from bridge.core.delivery import RetryPolicy
    from bridge.edges.store import Store, Translation

    path, step, crash_on = sys.argv[1], sys.argv[2], sys.argv[3]
    t = datetime(2026, 5, 18, tzinfo=UTC)
    store = Store.open(path)
    mid = store.accept_outbound(b"LEGACY", adapter="a", profile=None, received_at=t)
    store.record_translated(mid, Translation(b"{}", "fr.x_1", "K", None), at=t)

    def hook(sql):
        if crash_on in sql:
            os._exit(17)

    store._conn.set_trace_callback(hook)
    if step == "publish":
        store.mark_published(mid, at=t)
    elif step == "give_up":
        store.mark_publish_failed(mid, error="down", now=t, policy=RetryPolicy(max_attempts=1), rng_value=0.5)
    elif step == "accept":
        store.accept_outbound(b"SECOND", adapter="a", profile=None, received_at=t)
    os._exit(0)
""")


def run_child(path, step: str, crash_on: str) -> int:
    return subprocess.run([sys.executable, "-c", CHILD, str(path), step, crash_on], timeout=60).returncode


@pytest.mark.parametrize(("step", "crash_on"), [
    ("publish", "INSERT INTO events"),       # state updated, history line not yet written
    ("publish", "COMMIT"),                   # everything written, commit never reached
    ("give_up", "INSERT INTO dead_letters"), # dead-lettered, DLQ entry not yet written
])
def test_crash_inside_a_transition_rolls_it_back(tmp_path, step, crash_on):
    """Killed mid-transaction, the message is still TRANSLATED with a consistent history."""
    path = tmp_path / "crash.db"
    assert run_child(path, step, crash_on) == 17
    with Store.open(path) as store:
        [msg] = store.recent()
        assert msg.state is State.TRANSLATED
        assert [e.to_state for e in store.history(msg.id)] == ["received", "translated"]
        assert store.dlq_list() == []
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_crash_while_accepting_leaves_no_message(tmp_path):
    """A message whose accept was interrupted does not exist (the LRM was never acked)."""
    path = tmp_path / "crash.db"
    assert run_child(path, "accept", "INSERT INTO events") == 17
    with Store.open(path) as store:
        assert [m.original for m in store.recent()] == [b"LEGACY"]


def test_committed_transition_survives_a_crash(tmp_path):
    """A transition whose commit returned is there after the process dies without closing."""
    path = tmp_path / "crash.db"
    assert run_child(path, "publish", "never-matches") == 0
    with Store.open(path) as store:
        [msg] = store.recent()
        assert msg.state is State.PUBLISHED
        assert store.get(msg.id).published_at == datetime(2026, 5, 18, tzinfo=UTC)

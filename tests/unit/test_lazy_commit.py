"""Groups of lazy marks (publish confirms, RC-REF and hand-over marks) ride on the next COMMIT.

At 100 sheets/s every sheet paid a COMMIT (synchronous=FULL: one fsync, 150-180 us of CPU) for its frame,
one for its confirm and one for its RC-REF. A group holding only marks whose waiters are broker acks now
stays open up to ``lazy_commit_window``; anything else joining it (a frame from the LRM) commits it at the
end of that turn, so the marks share the frame's COMMIT. Nothing leaves before the COMMIT that records it.
"""

from __future__ import annotations

import sqlite3

import pytest
from twisted.internet import defer

from bridge.runtime.demo import demo_frame
from bridge.runtime.runner import _committed_after, _writable


@pytest.fixture
def commits(rig, monkeypatch):
    """The COMMITs the service makes (and no publish pass after them: the counts stay the test's own)."""
    made: list[int] = []
    commit_group = rig.store.commit_group

    def counting() -> None:
        commit_group()
        made.append(1)

    monkeypatch.setattr(rig.store, "commit_group", counting)
    monkeypatch.setattr(rig.service, "kick", lambda: None)
    return made


def test_a_group_of_lazy_marks_commits_after_the_lazy_window_not_at_the_end_of_the_turn(rig, commits):
    window = rig.service.settings.lazy_commit_window
    rig.service._open_group(lazy=True)  # what a confirm or an RC-REF opens
    waiter = rig.service.durable()
    rig.clock.advance(0)
    assert not waiter.called and rig.store.grouping and commits == []
    rig.clock.advance(window)
    assert waiter.called and not rig.store.grouping and commits == [1]


def test_a_frame_joining_a_lazy_group_commits_it_at_the_end_of_the_turn_in_one_commit(rig, commits):
    rig.service._open_group(lazy=True)
    broker_ack = rig.service.durable()
    reply = rig.service.on_legacy_frame(demo_frame(1))
    rig.clock.advance(0)
    assert broker_ack.called and reply.called and commits == [1]  # the RC-REF's mark rode on the frame's COMMIT
    rig.clock.advance(rig.service.settings.lazy_commit_window)  # the lazy timer lapses: nothing more to commit
    assert commits == [1]


def test_a_lapsed_lazy_timer_does_not_commit_a_later_group_early(rig, commits):
    window = rig.service.settings.lazy_commit_window
    rig.service._open_group(lazy=True)
    rig.clock.advance(window / 2)
    rig.service.commit()  # e.g. the periodic pump's
    rig.service._open_group(lazy=True)  # a later confirm: its own window
    later = rig.service.durable()
    rig.clock.advance(window / 2 + window / 10)  # the first group's timer fires
    assert not later.called and rig.store.grouping and commits == [1]
    rig.clock.advance(window)
    assert later.called and commits == [1, 1]


def test_the_publish_pass_commits_a_frame_before_publishing_but_leaves_lazy_marks_open(rig, commits, monkeypatch):
    published: list[int] = []
    monkeypatch.setattr(rig.service, "_publish_ready", lambda: published.append(len(commits)))
    rig.service._open_group(lazy=True)
    rig.service._publish_pass()
    assert published == [0] and rig.store.grouping  # no COMMIT: the lazy group holds nothing a publish sends
    rig.service.on_legacy_frame(demo_frame(1))
    rig.service._publish_pass()
    assert published == [0, 1] and not rig.store.grouping  # the frame's messages are committed before the publish


def test_the_periodic_pump_commits_a_lazy_group_first(rig, commits, monkeypatch):
    rig.service._open_group(lazy=True)
    rig.service.pump()
    assert commits == [1]


def test_a_lost_lazy_group_fails_its_broker_waiters(rig, monkeypatch):
    rig.service._open_group(lazy=True)
    waiter = rig.service.durable()
    failures: list[object] = []
    waiter.addErrback(failures.append)

    def lost() -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(rig.store, "commit_group", lost)
    rig.clock.advance(rig.service.settings.lazy_commit_window)
    assert [f.check(OSError) for f in failures] == [OSError]


def _sheets_one_at_a_time(tmp_path, lazy_window: float) -> tuple[int, dict[str, int]]:
    """Five sheets through the rig (simulated Hub and NexSIS), 50 ms apart: (COMMITs made, final states)."""
    from bridge.testing.rig import Rig

    rig = Rig(tmp_path)
    try:
        rig.service.settings.lazy_commit_window = lazy_window
        made: list[int] = []
        commit_group = rig.store.commit_group

        def counting() -> None:
            commit_group()
            made.append(1)

        rig.store.commit_group = counting  # type: ignore[method-assign]
        for n in range(1, 6):
            rig.service.on_legacy_frame(demo_frame(n))
            rig.run(0.05, step=0.001)
        rig.run(1.0)
        return len(made), rig.states()
    finally:
        rig.close()


def test_at_a_low_rate_the_marks_ride_on_fewer_commits(tmp_path):
    """The same sheets at a low rate: fewer COMMITs with the lazy window than with every group committed at the
    end of its turn (the old rule, ``lazy_commit_window=0``), and the same outcome."""
    eager, eager_states = _sheets_one_at_a_time(tmp_path / "eager", 0.0)
    lazy, lazy_states = _sheets_one_at_a_time(tmp_path / "lazy", 0.02)
    assert lazy_states == eager_states == {"answered": 5, "delivered": 5}
    assert lazy < eager


def test_readiness_reads_the_store_writable_while_the_service_holds_a_group(rig):
    rig.service._open_group(lazy=True)
    assert rig.store.is_writable() is False  # a second BEGIN on the group's connection fails
    assert _writable(rig.store)() is True
    rig.service.commit()
    assert _writable(rig.store)() is True


def test_a_console_replay_is_committed_before_its_answer(rig):
    rig.service._open_group(lazy=True)
    written: list[str] = []

    def replay(dlq_id: int) -> dict[str, int]:
        rig.store._conn.execute("CREATE TABLE replay_probe (x)")  # a write inside the open group
        written.append("replayed")
        return {"id": dlq_id}

    assert _committed_after(replay, rig.service)(7) == {"id": 7}
    conn = sqlite3.connect(rig.store.path)
    try:
        assert conn.execute("SELECT name FROM sqlite_master WHERE name='replay_probe'").fetchall() == [("replay_probe",)]
    finally:
        conn.close()
    assert not rig.store.grouping and written == ["replayed"]
    assert isinstance(rig.service.durable(), defer.Deferred)

"""Group commit: many transitions, one COMMIT; a transition that fails inside the group is undone alone.

Inside a group the replayable transitions run without a savepoint of their own (it copied every
page they touched into SQLite's sub-journal); a failure after a write is undone by running the
group's successful transitions again (bridge/edges/store/transactions.py). These tests hold the
promise that made: the failed one leaves nothing, the others stay with the ids their callers saw,
and when that cannot be kept the whole group fails loudly instead of committing half of it.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from bridge.core.delivery import Direction, IllegalTransition, RetryPolicy
from bridge.edges.store import Store, StoreFull, Translation, UnknownMessage
from bridge.edges.store.transactions import GroupLost, replayable

T0 = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
CASE = "fr.health.samu440.GRP-1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def frame(store: Store, n: int, *ids: str):
    """Accept legacy frame ``n``, translated into Hub messages with these distributionIDs."""
    return store.accept_legacy_frame(f"NUM_DOSSIER=GRP-{n}".encode(), [Translation(b'{"m": 1}', i, CASE) for i in ids],
                                     adapter="legacy-text", profile="lrm-alpha-text", received_at=at(n))


def snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every row the transitions write (messages, history, intake keys, dead letters, counts)."""
    def rows(sql: str) -> list[tuple]:
        return [tuple(row) for row in store._conn.execute(sql)]

    return {
        "messages": rows("SELECT id, state, distribution_id, original, attempts, updated_at FROM messages ORDER BY id"),
        "events": rows("SELECT id, message_id, ts, event, from_state, to_state, detail FROM events ORDER BY id"),
        "intake": rows("SELECT frame_sha256, message_id FROM legacy_intake ORDER BY message_id"),
        "dead_letters": rows("SELECT id, message_id, error, attempts FROM dead_letters ORDER BY id"),
        "counts": sorted(store.counts().items()),
    }


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "bridge.sqlite3", max_pending=50) as opened:
        yield opened


def test_a_transition_failing_after_its_first_write_is_undone_alone(tmp_path):
    """Frame 2's second message reuses frame 1's distributionID: its first row was already written when the
    UNIQUE index refused the second. Frame 2 leaves nothing; frames 1 and 3 and the confirm stay, with the ids
    their callers were given, exactly as the same calls without frame 2 leave the store."""
    with Store.open(tmp_path / "grouped.sqlite3", max_pending=50) as store:
        with store.group():
            first = frame(store, 1, "fr.health.samu440_a")
            assert store.mark_published(first.ids[0], at=at(2))
            with pytest.raises(sqlite3.IntegrityError):
                frame(store, 2, "fr.health.samu440_b", "fr.health.samu440_a")
            third = frame(store, 3, "fr.health.samu440_c")
        grouped = snapshot(store)
    with Store.open(tmp_path / "reference.sqlite3", max_pending=50) as reference:
        assert frame(reference, 1, "fr.health.samu440_a") == first
        assert reference.mark_published(first.ids[0], at=at(2))
        assert frame(reference, 3, "fr.health.samu440_c") == third
        assert snapshot(reference) == grouped
    assert [row[2] for row in grouped["messages"]] == ["fr.health.samu440_a", "fr.health.samu440_c"]


def test_a_failure_before_any_write_runs_nothing_again(store):
    """Refusals decided before writing (outbox full, illegal transition) need no undo: the group goes on."""
    store.max_pending = 1
    calls = []
    with store.group():
        first = frame(store, 1, "fr.health.samu440_a")
        store._conn.set_trace_callback(calls.append)
        with pytest.raises(StoreFull):
            frame(store, 2, "fr.health.samu440_b")
        with pytest.raises(IllegalTransition):
            store.mark_inbound_acked(first.ids[0], at=at(3))
        store._conn.set_trace_callback(None)
        assert store.mark_published(first.ids[0], at=at(4))
    assert not [c for c in calls if c.startswith(("ROLLBACK", "BEGIN", "INSERT"))]
    assert store.get(first.ids[0]).state == "published"


def test_transitions_in_a_group_open_no_savepoint_each(store):
    """The statement count that made the intake a quarter dearer: no SAVEPOINT / RELEASE per transition."""
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    with store.group():
        ids = [frame(store, n, f"fr.health.samu440_{n}").ids[0] for n in range(1, 11)]
        for message_id in ids:
            store.mark_published(message_id, at=at(20))
            store.mark_delivered(store.get(message_id).distribution_id, at=at(21))
    store._conn.set_trace_callback(None)
    assert [s for s in statements if s.split()[0] in ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")] == [
        "BEGIN IMMEDIATE", "COMMIT"]
    assert store.counts() == {("out", "delivered"): 10}


class _WithUnmarked(Store):
    """A store with one transition not marked replayable (as a new one written without the decorator)."""

    def close_dead_letter(self, dlq_id: int) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE dead_letters SET replayed_at = '2026-11-25' WHERE id = ?", (dlq_id,))


def test_a_transition_without_replay_earlier_in_the_group_makes_a_later_failure_lose_the_whole_group(tmp_path):
    """An unmarked transition (it keeps a savepoint of its own) then a failed write: the group cannot be redone,
    so nothing of it is committed, later writes are refused and the commit says so (the service nacks)."""
    with _WithUnmarked.open(tmp_path / "bridge.sqlite3", max_pending=50) as store:
        dlq_id = store.dead_letter(b"garbage", error="bad", error_path="/", source="framing", at=at(0))
        before = snapshot(store)
        store.begin_group()
        frame(store, 1, "fr.health.samu440_a")
        store.close_dead_letter(dlq_id)
        with pytest.raises(sqlite3.IntegrityError):
            frame(store, 2, "fr.health.samu440_b", "fr.health.samu440_a")
        with pytest.raises(GroupLost):
            frame(store, 3, "fr.health.samu440_c")
        with pytest.raises(GroupLost, match="nothing written since it began will be committed"):
            store.commit_group()
        assert not store.grouping
        assert snapshot(store) == before
        assert store._conn.execute("SELECT replayed_at FROM dead_letters").fetchone()[0] is None
        assert frame(store, 4, "fr.health.samu440_d").ids  # the next group / transition works again


def test_an_unmarked_transition_failing_in_a_group_is_still_undone_alone(tmp_path):
    """Without replay it falls back to a savepoint of its own: its failure undoes it alone, as before."""
    with _WithUnmarked.open(tmp_path / "bridge.sqlite3", max_pending=50) as store:
        with store.group():
            first = frame(store, 1, "fr.health.samu440_a")
            with pytest.raises(UnknownMessage):
                store.mark_published(999, at=at(2))
            third = frame(store, 3, "fr.health.samu440_c")
        assert [m.id for m in store.next_publishable(at(10))] == [first.ids[0]]  # same case: FIFO
        assert store.get(third.ids[0]).state == "translated"


def test_arguments_changed_by_the_caller_after_the_call_are_replayed_as_they_were(store):
    """The service builds lists (history details, translations) it could reuse: the group keeps a copy."""
    details = ["first"]
    with store.group():
        message_id = frame(store, 1, "fr.health.samu440_a").ids[0]
        store.note_events(message_id, "value_altered", details, at=at(2))
        details.append("added later")
        with pytest.raises(sqlite3.IntegrityError):
            frame(store, 2, "fr.health.samu440_b", "fr.health.samu440_a")
    assert [e.detail for e in store.history(message_id) if e.event == "value_altered"] == ["first"]


class _Drifting(Store):
    """A transition whose result changes when run again (what another writer in between would cause)."""

    ticks = count()

    @replayable
    def tick(self, *, at: datetime) -> int:
        with self._tx() as conn:
            conn.execute("UPDATE messages SET attempts = attempts + 1")
        return next(self.ticks)


def test_a_replay_that_gives_another_result_loses_the_group(tmp_path):
    """Callers already acted on the first results: a run again that differs must not be committed."""
    with _Drifting.open(tmp_path / "bridge.sqlite3", max_pending=50) as store:
        frame(store, 1, "fr.health.samu440_a")
        store.begin_group()
        store.tick(at=at(1))
        with pytest.raises(sqlite3.IntegrityError):
            frame(store, 2, "fr.health.samu440_b", "fr.health.samu440_a")
        with pytest.raises(GroupLost, match="tick gave another result"):
            store.commit_group()
        assert [tuple(r) for r in store._conn.execute("SELECT attempts FROM messages")] == [(0,)]


def test_every_kind_of_transition_replays_to_the_same_rows(tmp_path):
    """Each replayable transition run again after a failure writes what it wrote the first time."""
    def life(store: Store, fail: bool) -> None:
        with store.group():
            a = frame(store, 1, "fr.health.samu440_a").ids[0]
            b = frame(store, 2, "fr.health.samu440_b").ids[0]
            store.mark_published(a, at=at(3))
            store.mark_delivered("fr.health.samu440_a", at=at(4))
            store.mark_answered("fr.health.samu440_a", at=at(5), detail="EMSI answer")
            store.mark_publish_failed(b, error="nack", now=at(6), policy=RetryPolicy(), rng_value=0.5)
            store.mark_failed("fr.health.samu440_b", hub_code=400, reason="schema", at=at(7))
            inbound, _ = store.record_inbound(b"{}", distribution_id="fr.fire.x_1", case_id="c", case_version="v1",
                                              received_at=at(8))
            store.mark_inbound_handed_over(inbound, at=at(9))
            store.note_events(inbound, "value_altered", ["x"], at=at(10))
            store.mark_inbound_acked(inbound, at=at(11), rcref_distribution_id="fr.health.samu440_r")
            store.dead_letter(b"junk", error="e", error_path=None, source="framing", at=at(12))
            store.link_case("GRP-1", "fr.fire.nexsis.sdis44.9", profile="p", at=at(13))
            parked = store.dead_letter(b"frame", error="e", error_path=None, source="mapping", at=at(14),
                                       direction=Direction.OUT)
            store.note_replay_failed(parked, error="still wrong", at=at(15))
            store.requeue_dead_letter(parked, at=at(16), translations=[Translation(b"{}", "fr.health.samu440_r", CASE)])
            store.mark_replayed(store.dead_letter(b"x", error="e", error_path=None, source="framing", at=at(17)),
                                at=at(18))
            store.republish_window(at(0), at(4), at=at(19))
            store.flag_overdue_rcref(at(20))
            store.purge_delivered(at(100), include_failed=True)
            if fail:
                with pytest.raises(sqlite3.IntegrityError):
                    frame(store, 3, "fr.health.samu440_c", "fr.health.samu440_a")
            frame(store, 4, "fr.health.samu440_d")

    with Store.open(tmp_path / "replayed.sqlite3", max_pending=50) as replayed, \
            Store.open(tmp_path / "straight.sqlite3", max_pending=50) as straight:
        life(replayed, fail=True)
        life(straight, fail=False)
        assert snapshot(replayed) == snapshot(straight)
        assert replayed.case_link("GRP-1") == straight.case_link("GRP-1")

"""The SQLite store: outbox, inbox dedup, per-case ordering, back-pressure, retries, DLQ, retention."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from bridge.app.records import to_db_time
from bridge.core.delivery import IllegalTransition, RetryPolicy, State
from bridge.edges.store import Store, StoreFull, Translation, UnknownMessage
from bridge.edges.store.migrations import LATEST_VERSION, StoreVersionError, migrate

T0 = datetime(2026, 5, 18, 16, 15, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "bridge.sqlite3", max_pending=5) as opened:
        yield opened


def queue(store: Store, case: str | None, n: int, version: str | None = None) -> int:
    """Accept and translate one outbound message; returns its id."""
    message_id = store.accept_outbound(f"LEGACY {case} {n}".encode(), adapter="legacy-text", profile="demo",
                                       received_at=at(n))
    store.record_translated(message_id, Translation(b'{"m": 1}', f"fr.health.samu440_{case}_{n}", case, version),
                            at=at(n))
    return message_id



def _store_at_version(path, version: int) -> sqlite3.Connection:
    """A store file built by the first ``version`` migrations only, as an older bridge left it (autocommit)."""
    from bridge.edges.store import migrations

    conn = sqlite3.connect(path, isolation_level=None)
    for _version, script in migrations.MIGRATIONS[:version]:
        for statement in migrations._statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    return conn

class TestOpen:
    def test_wal_and_full_sync_by_default(self, store):
        """The store runs in WAL mode with synchronous=FULL (2)."""
        assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2

    def test_synchronous_is_configurable(self, tmp_path):
        """synchronous=NORMAL is honoured (1)."""
        with Store.open(tmp_path / "s.db", synchronous="normal") as opened:
            assert opened._conn.execute("PRAGMA synchronous").fetchone()[0] == 1

    def test_bad_synchronous_is_refused(self, tmp_path):
        """An unknown synchronous mode is refused, naming the valid ones."""
        with pytest.raises(ValueError, match="FULL"):
            Store.open(tmp_path / "s.db", synchronous="OFF")

    def test_missing_store_refused_when_create_is_false(self, tmp_path):
        """Read-only callers get a clear error instead of a new empty file."""
        with pytest.raises(FileNotFoundError, match="no store"):
            Store.open(tmp_path / "absent.db", create=False)
        assert not (tmp_path / "absent.db").exists()

    def test_migrations_are_idempotent(self, tmp_path):
        """Re-opening and re-migrating keeps the version and the data."""
        path = tmp_path / "m.db"
        with Store.open(path) as first:
            first.accept_outbound(b"x", adapter="a", profile=None, received_at=T0)
        with Store.open(path) as second:
            assert migrate(second._conn) == LATEST_VERSION
            assert second.outbox_depth() == 1

    def test_newer_schema_is_refused(self, tmp_path):
        """A store written by a newer bridge is not touched."""
        path = tmp_path / "new.db"
        conn = sqlite3.connect(path)
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
        conn.close()
        with pytest.raises(StoreVersionError, match="newer"):
            Store.open(path)


class TestMigrations:
    def test_v1_store_with_backlog_upgrades_with_a_correct_counter(self, tmp_path):
        """A store made by schema v1 keeps its data and gets a back-pressure counter matching its backlog."""
        path = tmp_path / "v1.db"
        conn = _store_at_version(path, 1)
        for state in ("received", "translated", "published"):
            conn.execute("INSERT INTO messages (direction, state, original, created_at, updated_at)"
                         " VALUES ('out', ?, x'00', '2026-01-01', '2026-01-01')", (state,))
        conn.close()
        with Store.open(path) as store:
            assert store.outbox_depth() == 2
            assert store._conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION

    def test_v8_store_upgrades_to_one_counter_move_per_transition(self, tmp_path):
        """Migration 9: the v2 pending counter and its triggers go, the backlog is read from the per-state counts."""
        path = tmp_path / "v8.db"
        conn = _store_at_version(path, 8)
        for state in ("received", "translated", "translated", "published"):
            conn.execute("INSERT INTO messages (direction, state, original, created_at, updated_at)"
                         " VALUES ('out', ?, x'00', '2026-01-01', '2026-01-01')", (state,))
        conn.close()
        with Store.open(path) as store:
            assert store.outbox_depth() == 3
            names = {r[0] for r in store._conn.execute("SELECT name FROM sqlite_master")}
            assert "counters" not in names and not any(n.startswith("outbox_pending") for n in names)
            store.mark_published(2, at=at(1))
            assert store.outbox_depth() == 2
            assert store.counts() == {("out", "received"): 1, ("out", "translated"): 1, ("out", "published"): 2}

    def test_v9_store_gets_the_overdue_index_filled_from_its_rows(self, tmp_path):
        """Migration 10 indexes the published messages of an older store still waiting and not flagged: the
        flag finds them after the upgrade (and not the flagged or delivered ones)."""
        path = tmp_path / "v9.db"
        conn = _store_at_version(path, 9)
        for n, (state, deadline, flagged) in enumerate((("published", at(10), None), ("published", at(20), at(21)),
                                                         ("delivered", at(10), None), ("published", at(1000), None))):
            conn.execute("INSERT INTO messages (direction, state, distribution_id, original, created_at, updated_at,"
                         " rcref_deadline, rcref_overdue_at) VALUES ('out', ?, ?, x'00', '2026-01-01', '2026-01-01',"
                         " ?, ?)", (state, f"fr.x_{n}", to_db_time(deadline), to_db_time(flagged)))
        conn.close()
        with Store.open(path) as store:
            names = {r[0] for r in store._conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
            assert "messages_rcref_due" in names
            assert [m.id for m in store.flag_overdue_rcref(at(60))] == [1]

    def test_a_state_change_writes_its_row_its_history_line_and_two_counter_rows(self, store):
        """Counters touched once per transition: one two-row upsert (old state -1, new state +1), no second
        counter for the backlog (it was 5 rows written per publish: message, history, -1, +1, pending)."""
        a = queue(store, "A", 1)
        before = store._conn.total_changes
        store.mark_published(a, at=at(2))
        assert store._conn.total_changes - before == 4
        assert store.outbox_depth() == 0

    def test_counter_matches_a_recount_after_every_kind_of_move(self, store):
        """The trigger-kept pending counter equals COUNT(*) after accepts, publishes, failures, purge, replay."""
        recount = ("SELECT COUNT(*) FROM messages WHERE direction = 'out'"
                   " AND state IN ('received', 'translated')")
        a, b = queue(store, "A", 1), queue(store, "B", 2)
        store.mark_published(a, at=at(3))
        store.mark_delivered("fr.health.samu440_A_1", at=at(4))
        c = store.accept_outbound(b"c", adapter="a", profile=None, received_at=at(5))
        dlq_id = store.mark_translation_failed(c, error="e", error_path=None, at=at(6))
        store.requeue_dead_letter(dlq_id, at=at(7))
        store.purge_delivered(at(100))
        store.mark_publish_failed(b, error="x", now=at(8), policy=RetryPolicy(max_attempts=1), rng_value=0)
        assert store.outbox_depth() == store._conn.execute(recount).fetchone()[0] == 1


    def test_v3_store_upgrades_with_state_counts_filled_from_its_rows(self, tmp_path):
        """Migration 4 fills the per-state counters from the rows already there (no GROUP BY afterwards)."""
        path = tmp_path / "v3.db"
        conn = _store_at_version(path, 3)
        for direction, state in (("out", "received"), ("out", "delivered"), ("out", "delivered"), ("in", "acked")):
            conn.execute("INSERT INTO messages (direction, state, original, created_at, updated_at)"
                         " VALUES (?, ?, x'00', '2026-01-01', '2026-01-01')", (direction, state))
        conn.close()
        with Store.open(path) as store:
            assert store.counts() == {("out", "received"): 1, ("out", "delivered"): 2, ("in", "acked"): 1}

    def test_state_counts_match_a_group_by_after_every_kind_of_move(self, store):
        """The trigger-kept per-state counts equal a GROUP BY after accepts, moves, failures, purge, replay."""
        def recount() -> dict[tuple[str, str], int]:
            return {(r[0], r[1]): r[2] for r in store._conn.execute(
                "SELECT direction, state, COUNT(*) FROM messages GROUP BY direction, state")}

        a, b = queue(store, "A", 1), queue(store, "B", 2)
        assert store.counts() == recount() == {("out", "translated"): 2}
        store.mark_published(a, at=at(3))
        store.mark_delivered("fr.health.samu440_A_1", at=at(4))
        c = store.accept_outbound(b"c", adapter="a", profile=None, received_at=at(5))
        dlq_id = store.mark_translation_failed(c, error="e", error_path=None, at=at(6))
        assert store.counts() == recount()
        store.requeue_dead_letter(dlq_id, at=at(7))
        store.record_inbound(b"in", distribution_id="fr.in.1", case_id=None, case_version=None, received_at=at(8))
        assert store.counts() == recount()
        store.purge_delivered(at(100))
        store.mark_publish_failed(b, error="x", now=at(8), policy=RetryPolicy(max_attempts=1), rng_value=0)
        assert store.counts() == recount()
        assert ("out", "delivered") not in store.counts()  # purged to zero: not listed, as the GROUP BY did not

    def test_a_transition_rolled_back_leaves_the_counts_unchanged(self, store):
        """The counters move in the transition's own transaction: a failed transition moves nothing."""
        a = queue(store, "A", 1)
        before = store.counts()
        with pytest.raises(RuntimeError), store.group():
            store.mark_published(a, at=at(2))
            raise RuntimeError("crash mid-group")
        assert store.counts() == before


class TestOutbound:
    def test_full_life_is_recorded(self, store):
        """accept, translate, confirm, RC-REF and answer each leave one history line."""
        message_id = queue(store, "C1", 1)
        assert store.mark_published(message_id, at=at(2), rcref_deadline=at(60))
        assert store.mark_delivered("fr.health.samu440_C1_1", at=at(3)).state is State.DELIVERED
        assert store.mark_answered("fr.health.samu440_C1_1", at=at(4)).state is State.ANSWERED
        events = [(e.event, e.to_state) for e in store.history(message_id)]
        assert events == [("accept", "received"), ("translate", "translated"), ("confirm", "published"),
                          ("rcref", "delivered"), ("answer", "answered")]

    def test_a_peer_event_returns_the_message_as_stored(self, store):
        """mark_delivered/mark_answered build their record from the row and what they wrote: equal to a re-read."""
        message_id = queue(store, "C1", 1)
        store.mark_published(message_id, at=at(2), rcref_deadline=at(60))
        assert store.mark_delivered("fr.health.samu440_C1_1", at=at(3)) == store.get(message_id)
        assert store.mark_delivered("fr.health.samu440_C1_1", at=at(4)) == store.get(message_id)  # a repeat
        assert store.mark_answered("fr.health.samu440_C1_1", at=at(5)) == store.get(message_id)

    def test_duplicate_rcref_changes_nothing(self, store):
        """A second RC-REF is ignored without error and without a history line."""
        message_id = queue(store, "C1", 1)
        store.mark_published(message_id, at=at(2))
        store.mark_delivered("fr.health.samu440_C1_1", at=at(3))
        store.mark_delivered("fr.health.samu440_C1_1", at=at(4))
        assert len(store.history(message_id)) == 4

    def test_unknown_rcref_returns_none(self, store):
        """An RC-REF for a distributionID we never sent is reported as None."""
        assert store.mark_delivered("fr.other_1", at=T0) is None

    def test_illegal_transition_is_refused_and_changes_nothing(self, store):
        """Publishing an untranslated message raises and leaves it RECEIVED."""
        message_id = store.accept_outbound(b"x", adapter="a", profile=None, received_at=T0)
        with pytest.raises(IllegalTransition, match="received"):
            store.mark_published(message_id, at=at(1))
        assert store.get(message_id).state is State.RECEIVED
        assert len(store.history(message_id)) == 1

    def test_rs_error_fails_and_dead_letters(self, store):
        """An RS-ERROR moves the message to FAILED then DEAD_LETTERED with a DLQ entry naming the code."""
        message_id = queue(store, "C1", 1)
        store.mark_published(message_id, at=at(2))
        msg = store.mark_failed("fr.health.samu440_C1_1", hub_code=300, reason="invalid", at=at(3),
                                error_path="/createCase/qualification")
        assert msg.state is State.DEAD_LETTERED and msg.hub_error_code == 300
        [entry] = store.dlq_list()
        assert entry.message_id == message_id and entry.original == b"LEGACY C1 1"
        assert entry.error_path == "/createCase/qualification" and "300" in entry.error

    def test_peer_events_out_of_sequence_are_recorded_not_raised(self, store):
        """An RC-REF or RS-ERROR for a message we gave up on keeps its state and leaves a history line."""
        message_id = queue(store, "C1", 1)
        store.mark_publish_failed(message_id, error="down", now=at(2), policy=RetryPolicy(max_attempts=1),
                                  rng_value=0.5)
        assert store.mark_delivered("fr.health.samu440_C1_1", at=at(3)).state is State.DEAD_LETTERED
        assert store.mark_failed("fr.health.samu440_C1_1", hub_code=400, reason="expired", at=at(4)).state \
            is State.DEAD_LETTERED
        assert [e.event for e in store.history(message_id)][-2:] == ["rcref_out_of_sequence",
                                                                     "hub_error_out_of_sequence"]
        assert store.dlq_size() == 1

    def test_peer_refusal_after_rcref_fails_the_message(self, store):
        """A peer's RS-ERROR after its RC-REF moves the message from delivered to dead-lettered."""
        message_id = queue(store, "C1", 1)
        store.mark_published(message_id, at=at(2))
        store.mark_delivered("fr.health.samu440_C1_1", at=at(3))
        msg = store.mark_failed("fr.health.samu440_C1_1", hub_code=701, reason="case exists", at=at(4))
        assert msg.state is State.DEAD_LETTERED and msg.hub_error_code == 701

    def test_translation_failure_dead_letters_original_bytes(self, store):
        """A mapping error keeps the original bytes, the error and the table line."""
        message_id = store.accept_outbound(b"RAW", adapter="legacy-text", profile="demo", received_at=T0)
        dlq_id = store.mark_translation_failed(message_id, error="unmapped code X9", error_path="codes.csv:12",
                                               at=at(1))
        entry = store.dlq_get(dlq_id)
        assert (entry.original, entry.error_path, entry.profile) == (b"RAW", "codes.csv:12", "demo")
        assert store.get(message_id).state is State.DEAD_LETTERED

    def test_unknown_message_is_named(self, store):
        """Asking for a missing id raises UnknownMessage naming the id."""
        with pytest.raises(UnknownMessage, match="999"):
            store.get(999)

    def test_rcref_overdue_is_flagged_once_not_forgotten(self, store):
        """A message past its RC-REF deadline is flagged once and stays PUBLISHED."""
        message_id = queue(store, "C1", 1)
        store.mark_published(message_id, at=at(2), rcref_deadline=at(10))
        assert store.flag_overdue_rcref(at(5)) == []
        assert [m.id for m in store.flag_overdue_rcref(at(11))] == [message_id]
        assert store.flag_overdue_rcref(at(12)) == []
        assert [m.id for m in store.overdue_rcref(at(12))] == [message_id]
        assert store.mark_delivered("fr.health.samu440_C1_1", at=at(13)).state is State.DELIVERED


class TestMultiMessageFrames:
    def test_accept_translated_stores_every_hub_message_in_order(self, store):
        """One frame giving two Hub messages makes two TRANSLATED rows sharing the original bytes."""
        results = [Translation(b"{1}", "fr.x_a", "K", None), Translation(b"{2}", "fr.x_b", "K", None)]
        first, second = store.accept_translated(b"FRAME", results, adapter="a", profile="p", received_at=T0)
        assert [(m.id, m.original) for m in store.next_publishable(at(1))] == [(first, b"FRAME")]
        assert store.get(second).state is State.TRANSLATED and store.get(second).distribution_id == "fr.x_b"

    def test_accept_translated_respects_back_pressure(self, store):
        """A full outbox refuses the whole frame, storing none of its messages."""
        for _ in range(5):
            store.accept_outbound(b"x", adapter="a", profile=None, received_at=T0)
        with pytest.raises(StoreFull):
            store.accept_translated(b"F", [Translation(b"{}", "fr.x_z")], adapter="a", profile=None, received_at=T0)
        assert store.find("fr.x_z") is None

    def test_record_translations_adds_siblings(self, store):
        """A re-translated message keeps the first result and gets siblings for the others."""
        message_id = store.accept_outbound(b"F", adapter="a", profile="p", received_at=T0)
        ids = store.record_translations(message_id, [Translation(b"{1}", "fr.x_1"), Translation(b"{2}", "fr.x_2")],
                                        at=at(1))
        assert ids[0] == message_id and store.get(ids[1]).original == b"F"
        assert [m.distribution_id for m in store.next_publishable(at(2))] == ["fr.x_1", "fr.x_2"]

    def test_record_no_translation_dead_letters(self, store):
        """A translation giving no Hub message is a mapping gap, dead-lettered."""
        message_id = store.accept_outbound(b"F", adapter="a", profile="p", received_at=T0)
        assert store.record_translations(message_id, [], at=at(1)) == []
        assert store.get(message_id).state is State.DEAD_LETTERED and store.dlq_size() == 1


class TestOrdering:
    def test_update_never_overtakes_predecessor(self, store):
        """The second message of a case is not publishable until the first is confirmed."""
        first, second, other = queue(store, "A", 1), queue(store, "A", 2), queue(store, "B", 3)
        assert [m.id for m in store.next_publishable(at(10))] == [first, other]
        assert [m.id for m in store.next_publishable(at(10), in_flight={first, other})] == []
        store.mark_published(first, at=at(11))
        assert [m.id for m in store.next_publishable(at(11), in_flight={other})] == [second]

    def test_order_kept_across_retries(self, store):
        """While the head of a case waits for its retry, its successor waits too."""
        policy = RetryPolicy(base=30, max_delay=30, jitter=0, max_attempts=5)
        first, second = queue(store, "A", 1), queue(store, "A", 2)
        retry_at = store.mark_publish_failed(first, error="broker down", now=at(10), policy=policy, rng_value=0.3)
        assert retry_at == at(40)
        assert store.next_publishable(at(20)) == []
        assert [m.id for m in store.next_publishable(at(40))] == [first]
        store.mark_published(first, at=at(41))
        assert [m.id for m in store.next_publishable(at(41))] == [second]


class TestBackPressure:
    def test_refuses_at_the_limit_and_drops_nothing(self, store):
        """The sixth unpublished message is refused; the five before it are all kept."""
        ids = [store.accept_outbound(f"m{i}".encode(), adapter="a", profile=None, received_at=at(i))
               for i in range(5)]
        with pytest.raises(StoreFull, match="max_pending = 5"):
            store.accept_outbound(b"m5", adapter="a", profile=None, received_at=at(5))
        assert [store.get(i).original for i in ids] == [f"m{i}".encode() for i in range(5)]
        assert store.outbox_depth() == 5

    def test_room_returns_once_published(self, store):
        """Publishing one message makes room for one more."""
        ids = [queue(store, None, i) for i in range(5)]
        store.mark_published(ids[0], at=at(9))
        assert store.accept_outbound(b"next", adapter="a", profile=None, received_at=at(10)) > 0
        assert store.oldest_pending_age(at(11)) == pytest.approx(10)


class TestStorageFailure:
    def test_disk_full_is_a_nack_not_a_loss(self, store):
        """When the file cannot grow, accepting raises StoreUnavailable (a StoreFull) and keeps what it had."""
        from bridge.edges.store import StoreUnavailable

        store.max_pending = 10_000
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count = {pages + 8}")
        kept = []
        with pytest.raises(StoreUnavailable, match="full"):
            for n in range(100):
                kept.append(store.accept_outbound(bytes([n]) * 4000, adapter="a", profile=None, received_at=at(n)))
        assert kept and [store.get(i).original[:1] for i in kept] == [bytes([n]) for n in range(len(kept))]
        assert store.outbox_depth() == len(kept)
        assert not store._conn.in_transaction


class TestRetries:
    def test_bounded_then_dead_lettered_with_history(self, store):
        """After max_attempts failures the message is dead-lettered with every attempt recorded."""
        policy = RetryPolicy(base=1, factor=2, max_delay=10, max_attempts=3, jitter=0)
        message_id = queue(store, "A", 1)
        now = at(10)
        for _ in range(2):
            now = store.mark_publish_failed(message_id, error="nack", now=now, policy=policy, rng_value=0.0)
            assert now is not None
        assert store.mark_publish_failed(message_id, error="nack", now=now, policy=policy, rng_value=0.0) is None
        msg = store.get(message_id)
        assert (msg.state, msg.attempts) == (State.DEAD_LETTERED, 3)
        [entry] = store.dlq_list()
        assert len(entry.attempts) == 3 and all("nack" in a.error for a in entry.attempts)
        assert store.dlq_size() == 1


class TestInbox:
    def test_duplicate_distribution_id_is_detected(self, store):
        """The same distributionID twice gives the first id and is_duplicate=True."""
        first = store.record_inbound(b"m", distribution_id="fr.fire_1", case_id=None, case_version=None,
                                     received_at=T0)
        again = store.record_inbound(b"m", distribution_id="fr.fire_1", case_id=None, case_version=None,
                                     received_at=at(1))
        assert first == (first[0], False) and again == (first[0], True)

    def test_duplicate_case_version_is_detected(self, store):
        """Another distributionID carrying the same case and version is a duplicate."""
        first, _ = store.record_inbound(b"m", distribution_id="fr.fire_1", case_id="K", case_version="3",
                                        received_at=T0)
        assert store.record_inbound(b"m", distribution_id="fr.fire_2", case_id="K", case_version="3",
                                    received_at=at(1)) == (first, True)
        assert store.record_inbound(b"m", distribution_id="fr.fire_3", case_id="K", case_version="4",
                                    received_at=at(2))[1] is False

    def test_inbound_life_and_failure(self, store):
        """Inbound messages are handed over then acked; a failed one is dead-lettered and replayable."""
        ok, _ = store.record_inbound(b"ok", distribution_id="d1", case_id=None, case_version=None, received_at=T0)
        assert store.mark_inbound_handed_over(ok, at=at(1)) and store.mark_inbound_acked(ok, at=at(2))
        assert not store.mark_inbound_handed_over(ok, at=at(3))
        bad, _ = store.record_inbound(b"bad", distribution_id="d2", case_id=None, case_version=None, received_at=T0)
        dlq_id = store.mark_inbound_failed(bad, error="unknown code", error_path="codes.csv:3", at=at(1))
        assert store.requeue_dead_letter(dlq_id, at=at(5)) == bad
        assert [m.id for m in store.pending_inbound()] == [bad]

    def test_standalone_dead_letter(self, store):
        """Bytes that never became a message are kept with their error and attempt history."""
        dlq_id = store.dead_letter(b"\x00garbage", error="not XML", error_path="line 1", source="hub", at=T0)
        entry = store.dlq_get(dlq_id)
        assert entry.message_id is None and entry.original == b"\x00garbage"
        with pytest.raises(IllegalTransition, match="never became a message"):
            store.requeue_dead_letter(dlq_id, at=at(1))


class TestRetention:
    def test_purge_keeps_failed_and_dead_lettered(self, store):
        """Only delivered/answered/acked messages older than the cut-off are purged by default."""
        delivered = queue(store, "A", 1)
        store.mark_published(delivered, at=at(1))
        store.mark_delivered("fr.health.samu440_A_1", at=at(2))
        failed = store.accept_outbound(b"x", adapter="a", profile=None, received_at=T0)
        store.mark_translation_failed(failed, error="e", error_path=None, at=at(2))
        pending = queue(store, "B", 3)
        assert store.purge_delivered(at(100)) == 1
        assert {m.id for m in store.recent()} == {failed, pending}
        assert store.dlq_size() == 1

    def test_purge_respects_age(self, store):
        """Messages newer than the cut-off stay."""
        message_id = queue(store, "A", 1)
        store.mark_published(message_id, at=at(1))
        store.mark_delivered("fr.health.samu440_A_1", at=at(50))
        assert store.purge_delivered(at(10)) == 0
        assert store.get(message_id).state is State.DELIVERED

    def test_include_failed_is_explicit(self, store):
        """With include_failed the dead-lettered message and its DLQ entry go too."""
        failed = store.accept_outbound(b"x", adapter="a", profile=None, received_at=T0)
        store.mark_translation_failed(failed, error="e", error_path=None, at=at(2))
        assert store.purge_delivered(at(100), include_failed=True) == 2
        assert store.dlq_list(include_replayed=True) == [] and store.recent() == []


def test_migration_4_adds_the_time_indexes_to_a_version_3_store(tmp_path):
    """A store of the previous version gains the console's time indexes on open and keeps its messages."""
    path = tmp_path / "v3.sqlite3"
    with Store.open(path) as opened:
        opened.accept_outbound(b"frame", adapter="legacy-text", profile="p", received_at=datetime(2026, 1, 1, tzinfo=UTC))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP INDEX messages_created_at")
    conn.execute("DROP INDEX dead_letters_created_at")
    for trigger in ("state_counts_insert", "state_counts_delete", "state_counts_update"):  # later migrations
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute("DROP TABLE state_counts")
    conn.execute("PRAGMA user_version = 3")
    assert migrate(conn) == LATEST_VERSION
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    conn.close()
    assert {"messages_created_at", "dead_letters_created_at"} <= names
    with Store.open(path) as reopened:
        assert len(reopened.recent(10)) == 1


class TestGaugesDoNotScan:
    def test_console_summary_reads_no_whole_table_even_after_analyze(self, store):
        """Every query behind /metrics and the console summary uses an index, also once ANALYZE saw skewed rows.

        A store of only delivered outbound rows once made SQLite's planner scan the
        whole table for the gauges (66 ms at 100k rows); cost must not grow with age.
        """
        from bridge.edges.http.provider import StoreConsoleProvider

        store._conn.execute("BEGIN")
        store._conn.executemany(
            "INSERT INTO messages (direction, state, distribution_id, case_id, original, created_at, updated_at)"
            " VALUES ('out', 'delivered', ?, ?, x'00', '2026-01-01', '2026-01-01')",
            [(f"fr.health.samu440_{i}", f"K{i // 4}") for i in range(3000)])
        store._conn.execute("COMMIT")
        store._conn.execute("ANALYZE")
        queries: list[str] = []
        store._conn.set_trace_callback(queries.append)
        summary = StoreConsoleProvider(store, clock=lambda: at(10)).summary()
        store._conn.set_trace_callback(None)
        assert summary["counts"] == {"out": {"delivered": 3000}}
        reads = [q for q in queries if q.lstrip().upper().startswith("SELECT")]
        assert reads
        for query in reads:
            plan = " ".join(row[3] for row in store._conn.execute(f"EXPLAIN QUERY PLAN {query}"))
            assert "SCAN messages" not in plan, (query, plan)


class TestRetentionDoesNotScan:
    def test_purge_finds_due_messages_by_index_and_deletes_them_in_batches(self, store, monkeypatch):
        """The retention purge reads no whole table and commits in bounded batches; counts stay exact."""
        from bridge.edges.store import sqlite as store_module

        monkeypatch.setattr(store_module, "PURGE_BATCH", 7)
        store._conn.execute("BEGIN")
        store._conn.executemany(
            "INSERT INTO messages (direction, state, distribution_id, original, created_at, updated_at)"
            " VALUES ('out', ?, ?, x'00', ?, ?)",
            [("delivered" if i % 3 else "failed", f"fr.x_{i}", to_db_time(at(i)), to_db_time(at(i))) for i in range(40)])
        store._conn.execute("COMMIT")
        commits: list[str] = []
        queries: list[str] = []
        store._conn.set_trace_callback(lambda q: (commits if q == "COMMIT" else queries).append(q))
        deleted = store.purge_delivered(at(30))
        store._conn.set_trace_callback(None)
        due = sum(1 for i in range(30) if i % 3)
        assert deleted == due
        assert len(commits) == due // 7 + 1 + 1  # the batches, then one for the case links whose case has gone
        assert store.counts() == {("out", "delivered"): sum(1 for i in range(30, 40) if i % 3),
                                  ("out", "failed"): sum(1 for i in range(40) if not i % 3)}
        for query in {q for q in queries if q.lstrip().upper().startswith("DELETE")}:
            plan = " ".join(row[3] for row in store._conn.execute(f"EXPLAIN QUERY PLAN {query}"))
            assert "SCAN messages" not in plan, (query, plan)


class TestCaseLookupDoesNotScan:
    """`bridge messages --case` and ``by_case`` (the service's per-frame lookup) search an index, never scan.

    The dossier number used to be matched with ``case_id LIKE '%.DOSSIER'``: a leading wildcard,
    so a walk of the whole messages table on every lookup.
    """

    @pytest.fixture
    def filled(self, store):
        store._conn.execute("BEGIN")
        store._conn.executemany(
            "INSERT INTO messages (direction, state, distribution_id, case_id, original, created_at, updated_at)"
            " VALUES ('out', 'delivered', ?, ?, x'00', '2026-01-01', '2026-01-01')",
            [(f"fr.health.samu440_{i}", f"fr.health.samu440.K{i // 4}") for i in range(3000)]
            + [("fr.fire.x_1", "fr.fire.nexsis.sdis44.K7"), ("plain_1", "K7")])
        store._conn.execute("COMMIT")
        store._conn.execute("ANALYZE")
        return store

    @pytest.mark.parametrize("kwargs", [{"case": "K7"}, {"case": "fr.health.samu440.K7"},
                                        {"case": "K7", "state": "delivered", "since": datetime(2025, 12, 31, tzinfo=UTC)},
                                        {"case": "K7", "direction": "out"}])
    def test_search_by_case_uses_an_index(self, filled, kwargs):
        queries: list[str] = []
        filled._conn.set_trace_callback(queries.append)
        found = filled.search(limit=10, **kwargs)
        filled._conn.set_trace_callback(None)
        assert found
        [query] = [q for q in queries if q.lstrip().upper().startswith("SELECT")]
        plan = " ".join(row[3] for row in filled._conn.execute(f"EXPLAIN QUERY PLAN {query}"))
        assert "SCAN messages" not in plan, (query, plan)

    def test_dossier_number_finds_every_case_ending_with_it_and_nothing_else(self, filled):
        assert {m.case_id for m in filled.by_case("K7")} == {"fr.health.samu440.K7", "fr.fire.nexsis.sdis44.K7", "K7"}
        assert {m.case_id for m in filled.by_case("fr.health.samu440.K7")} == {"fr.health.samu440.K7"}
        assert filled.by_case("K") == [] and filled.by_case("7") == []  # no prefix or suffix fragment

    @pytest.mark.parametrize("case", ["K7", "fr.health.samu440.K7", "fr.fire.nexsis.sdis44.K7", "K", "7", "K9999",
                                      "fr.health.samu440.K9999"])
    @pytest.mark.parametrize("direction", [None, "out", "in"])
    def test_has_case_answers_as_by_case_with_one_index_probe(self, filled, case, direction):
        queries: list[str] = []
        filled._conn.set_trace_callback(queries.append)
        known = filled.has_case(case, direction=direction)
        filled._conn.set_trace_callback(None)
        assert known is any(direction in (None, m.direction) for m in filled.by_case(case))
        [query] = [q for q in queries if q.lstrip().upper().startswith("SELECT")]
        assert query.rstrip().upper().endswith("LIMIT 1")
        plan = " ".join(row[3] for row in filled._conn.execute(f"EXPLAIN QUERY PLAN {query}"))
        assert "SCAN messages" not in plan, (query, plan)


class TestUsualMoves:
    """Confirm and RC-REF, the two transitions every sheet makes, run as constant statements (no read first
    for a confirm); what they write must be what the table-driven path writes."""

    def test_a_confirm_and_an_rcref_write_what_the_table_path_writes(self, store):
        from bridge.core.delivery import Event

        usual, other = queue(store, "A", 1), queue(store, "B", 2)
        store.mark_publish_failed(usual, error="nack", now=at(3), policy=RetryPolicy(), rng_value=0.5)
        store.mark_publish_failed(other, error="nack", now=at(3), policy=RetryPolicy(), rng_value=0.5)
        assert store.mark_published(usual, at=at(4), rcref_deadline=at(60))
        with store._tx() as conn:  # the same move through _apply, the general path
            head = store._head(conn, other)
            store._apply(conn, head, Event.CONFIRM, at(4), f"attempt {head.attempts + 1}",
                         published_at=to_db_time(at(4)), rcref_deadline=to_db_time(at(60)),
                         rcref_overdue_at=None, next_attempt_at=None)
        delivered = store.mark_delivered("fr.health.samu440_A_1", at=at(5))
        with store._tx() as conn:
            store._apply(conn, store._head(conn, other), Event.RCREF, at(5), "RC-REF received")

        def life(message_id: int) -> tuple:
            row = dict(store._conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone())
            del row["id"], row["original"], row["distribution_id"], row["case_id"], row["created_at"]
            return row, [(e.event, e.from_state, e.to_state, e.detail) for e in store.history(message_id)][2:]

        assert life(usual) == life(other)
        assert life(usual)[1][1] == ("confirm", "translated", "published", "attempt 2")
        assert delivered == store.get(usual)

    def test_a_confirm_reads_nothing_before_it_writes_and_an_rcref_reads_its_row_once(self, store):
        message_id = queue(store, "A", 1)
        statements: list[str] = []
        store._conn.set_trace_callback(statements.append)
        store.mark_published(message_id, at=at(2))
        confirm, statements[:] = list(statements), []
        store.mark_delivered("fr.health.samu440_A_1", at=at(3))
        store._conn.set_trace_callback(None)
        tops = [s.split()[0] for s in dict.fromkeys(confirm)]  # a trigger repeats its statement's text
        assert tops == ["BEGIN", "UPDATE", "INSERT", "COMMIT"]
        assert [s.split()[0] for s in dict.fromkeys(statements)] == ["BEGIN", "SELECT", "UPDATE", "INSERT", "COMMIT"]

    def test_the_fallback_still_asks_the_table(self, store):
        """Not the usual state: a repeat is recognised, an illegal move refused, an RC-REF before the confirm kept."""
        message_id = queue(store, "A", 1)
        assert store.mark_delivered("fr.health.samu440_A_1", at=at(2)).state is State.DELIVERED  # overtook
        assert store.mark_published(message_id, at=at(3)) is False  # a confirm after it: a repeat
        inbound, _ = store.record_inbound(b"{}", distribution_id="fr.fire.x_1", case_id=None, case_version=None,
                                          received_at=at(4))
        with pytest.raises(IllegalTransition):
            store.mark_published(inbound, at=at(5))


class TestPublishPass:
    """next_publishable walks the queue in acceptance order and stops at its limit (a GROUP BY over every
    queued case cost 12 ms per pass with 10,000 messages waiting, on the reactor)."""

    @staticmethod
    def _queue(tmp_path, name: str, size: int, seed: int) -> Store:
        import random

        rng = random.Random(seed)
        opened = Store.open(tmp_path / f"{name}.sqlite3", max_pending=10 * size)
        conn = opened._conn
        conn.execute("BEGIN")
        for n in range(size):
            conn.execute(
                "INSERT INTO messages (direction, state, original, distribution_id, case_id, created_at, updated_at,"
                " next_attempt_at) VALUES ('out', ?, x'00', ?, ?, '2026-01-01', '2026-01-01', ?)",
                (rng.choice(["translated"] * 4 + ["published", "received"]), f"fr.x_{n}",
                 rng.choice([None, f"K{rng.randrange(max(1, size // 3))}"]),
                 rng.choice([None, None, to_db_time(at(rng.randrange(60)))])))
        conn.execute("COMMIT")
        return opened

    def test_the_pass_picks_what_the_core_rule_picks_over_the_whole_queue(self, tmp_path):
        from bridge.core.delivery import Queued, select_publishable

        for seed in range(25):
            with self._queue(tmp_path, f"q{seed}", 120, seed) as store:
                rows = store._conn.execute("SELECT id, case_id, next_attempt_at FROM messages WHERE direction = 'out'"
                                           " AND state = 'translated' ORDER BY id").fetchall()
                queue = [Queued(r[0], r[1], None if r[2] is None else datetime.fromisoformat(r[2])) for r in rows]
                for now, limit, busy in ((at(30), 100, set()), (at(10), 7, set()), (at(70), 5, {r[0] for r in rows[:9]})):
                    expected = select_publishable(queue, now=now, in_flight=busy, limit=limit)
                    got = store.next_publishable(now, limit, in_flight=busy)
                    assert [m.id for m in got] == expected, (seed, now, limit)
                    assert all(m.state is State.TRANSLATED and m.original == b"\x00" for m in got)

    def test_a_pass_costs_what_it_returns_not_the_backlog(self, tmp_path):
        """SQLite's virtual-machine steps (counted, not timed) for a pass of 20: flat from 500 to 5,000 queued."""
        def steps(size: int) -> int:
            with self._queue(tmp_path, f"deep{size}", size, 7) as store:
                count = [0]

                def tick() -> int:
                    count[0] += 1
                    return 0

                store._conn.set_progress_handler(tick, 100)
                assert len(store.next_publishable(at(100), 20)) == 20
                store._conn.set_progress_handler(None, 0)
                return count[0]

        small, deep = steps(500), steps(5000)
        assert deep <= 1.5 * small + 10, (small, deep)


class TestOverdueFlagDoesNotScan:
    """The pump's overdue RC-REF flag (every 0.2 s) reads the overdue messages, not every published one."""

    @staticmethod
    def _published(store: Store, waiting: int, overdue: int) -> list[int]:
        """``waiting`` published messages due later, then ``overdue`` ones already past their deadline (raw rows)."""
        rows = [(f"fr.health.samu440_w{i}", to_db_time(at(10_000))) for i in range(waiting)]
        rows += [(f"fr.health.samu440_o{i}", to_db_time(at(50))) for i in range(overdue)]
        store._conn.execute("BEGIN")
        store._conn.executemany(
            "INSERT INTO messages (direction, state, distribution_id, original, translated, created_at, updated_at,"
            " published_at, rcref_deadline) VALUES ('out', 'published', ?, x'00', zeroblob(2000), '2026-01-01',"
            " '2026-01-01', '2026-01-01', ?)", rows)
        store._conn.execute("COMMIT")
        return [r[0] for r in store._conn.execute("SELECT id FROM messages WHERE rcref_deadline < ? ORDER BY id",
                                                  (to_db_time(at(100)),))]

    @staticmethod
    def _steps(store: Store, now: datetime) -> tuple[list[int], int]:
        count = [0]

        def tick() -> int:
            count[0] += 1
            return 0

        store._conn.set_progress_handler(tick, 10)
        try:
            flagged = [m.id for m in store.flag_overdue_rcref(now)]
        finally:
            store._conn.set_progress_handler(None, 0)
        return flagged, count[0]

    def test_a_flag_costs_the_overdue_messages_not_the_published_ones(self, tmp_path):
        """SQLite's virtual-machine steps (counted, not timed) of a flag finding 3 overdue: the same with 100 and
        3,000 published messages waiting for their RC-REF (it walked all of them, with their bodies, before)."""
        def steps(waiting: int) -> int:
            with Store.open(tmp_path / f"w{waiting}.sqlite3") as store:
                overdue = self._published(store, waiting, 3)
                flagged, count = self._steps(store, at(100))
                assert flagged == overdue
                assert self._steps(store, at(101))[0] == []  # flagged once
                return count

        few, many = steps(100), steps(3000)
        assert many <= 1.5 * few + 10, (few, many)

    def test_the_flag_reads_its_partial_index_even_after_analyze(self, store):
        """The flag's query is a range of the index of messages still waiting and not flagged (migration 10)."""
        from bridge.edges.store.sqlite import _OVERDUE_UNFLAGGED

        self._published(store, 50, 2)
        store._conn.execute("ANALYZE")
        plan = " ".join(row[3] for row in store._conn.execute(f"EXPLAIN QUERY PLAN {_OVERDUE_UNFLAGGED}", ("x",)))
        assert "USING INDEX messages_rcref_due (rcref_deadline<?)" in plan, plan

    def test_the_index_follows_confirm_rcref_and_flag(self, store):
        """Confirm adds a message to the index, the RC-REF and the flag take it out; a republish puts it back."""
        def indexed() -> list[int]:
            return [r[0] for r in store._conn.execute(
                "SELECT id FROM messages INDEXED BY messages_rcref_due WHERE direction = 'out' AND state = 'published'"
                " AND rcref_overdue_at IS NULL AND rcref_deadline < '9999' ORDER BY id")]

        a, b, c = queue(store, "A", 1), queue(store, "B", 2), queue(store, "C", 3)
        for message_id in (a, b, c):
            store.mark_published(message_id, at=at(4), rcref_deadline=at(10))
        assert indexed() == [a, b, c]
        store.mark_delivered("fr.health.samu440_A_1", at=at(5))
        assert indexed() == [b, c]
        assert [m.id for m in store.flag_overdue_rcref(at(11))] == [b, c]
        assert indexed() == []
        assert store.republish_window(at(3), at(5), at=at(12)) == [a, b, c]  # queued again
        assert indexed() == []
        store.mark_published(c, at=at(13), rcref_deadline=at(20))
        assert indexed() == [c]
        assert [m.id for m in store.flag_overdue_rcref(at(21))] == [c]


def test_the_hot_paths_record_builder_gives_what_from_row_gives(store):
    """message_of (explicit columns, no dict) = Message.from_row, for rows with every kind of value."""
    from bridge.app.records import Message
    from bridge.edges.store.queries import MESSAGE_COLUMNS, message_of

    a, b = queue(store, "A", 1), queue(store, "B", 2)
    store.mark_published(a, at=at(3), rcref_deadline=at(60))
    store.flag_overdue_rcref(at(61))
    store.mark_publish_failed(b, error="nack", now=at(4), policy=RetryPolicy(), rng_value=0.5)
    inbound, _ = store.record_inbound(b"{}", distribution_id="fr.fire.x_1", case_id="c", case_version="1",
                                      received_at=at(5), adapter="x", content_type="application/json")
    for message_id in (a, b, inbound):
        row = store._conn.execute(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)).fetchone()
        assert message_of(row) == Message.from_row(row) == store.get(message_id)
        moved = message_of(row, state="delivered", updated_at=to_db_time(at(70)))
        assert moved == Message.from_row({**dict(row), "state": "delivered", "updated_at": to_db_time(at(70))})

"""Idempotent legacy intake: the same frame bytes sent again are recognised, not queued twice."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from bridge.edges.store import Store, StoreFull, Translation
from bridge.edges.store.intake import frame_key
from bridge.edges.store.migrations import migrate

T0 = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
FRAME = b"NUM_DOSSIER=CHAOS-00001\r\nOBS=REV-1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def translations(tag: str, case: str = "fr.health.samu440.CHAOS-00001") -> list[Translation]:
    """A createCase and an EMSI made from one frame, with distributionIDs marked by ``tag``."""
    return [Translation(b'{"createCase": 1}', f"fr.health.samu440_cc-{tag}", case),
            Translation(b'{"emsi": 1}', f"fr.health.samu440_emsi-{tag}", case)]


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "bridge.sqlite3", max_pending=4) as opened:
        yield opened


def accept(store: Store, frame: bytes, tag: str, seconds: float = 0):
    return store.accept_legacy_frame(frame, translations(tag), adapter="legacy-text", profile="lrm-alpha-text",
                                     received_at=at(seconds))


class TestIdempotentIntake:
    def test_first_frame_is_stored_with_all_its_messages(self, store):
        """A new frame gives one outbound message per translation, not flagged duplicate."""
        result = accept(store, FRAME, "a")
        assert not result.duplicate and len(result.ids) == 2
        assert [store.get(i).distribution_id for i in result.ids] == ["fr.health.samu440_cc-a",
                                                                      "fr.health.samu440_emsi-a"]
        assert store.intake_known(FRAME)

    def test_resent_frame_returns_the_first_ids_and_creates_nothing(self, store):
        """The LRM re-sending the same bytes (no ack seen) gets the first messages back, none new."""
        first = accept(store, FRAME, "a")
        again = accept(store, FRAME, "b", seconds=5)
        assert again.duplicate and again.ids == first.ids
        distribution_ids = [r[0] for r in store._conn.execute(
            "SELECT distribution_id FROM messages WHERE direction = 'out' ORDER BY id")]
        assert distribution_ids == ["fr.health.samu440_cc-a", "fr.health.samu440_emsi-a"]
        events = [e.event for e in store.history(first.ids[0])]
        assert "duplicate_frame" in events

    def test_different_bytes_of_the_same_case_are_a_new_update(self, store):
        """An update of the same case (one field changed) is a new frame, queued after the first."""
        first = accept(store, FRAME, "a")
        update = accept(store, FRAME.replace(b"REV-1", b"REV-2"), "b", seconds=1)
        assert not update.duplicate and min(update.ids) > max(first.ids)

    def test_duplicate_is_answered_even_when_the_outbox_is_full(self, store):
        """A re-send takes no room, so a full outbox still recognises it instead of nacking."""
        accept(store, FRAME, "a")
        accept(store, FRAME + b"2", "b")
        with pytest.raises(StoreFull):
            accept(store, FRAME + b"3", "c")
        assert accept(store, FRAME, "d").duplicate

    def test_key_survives_a_reopen(self, tmp_path):
        """The dedup key is durable: after a restart the same frame is still recognised."""
        path = tmp_path / "reopen.sqlite3"
        with Store.open(path) as opened:
            accept(opened, FRAME, "a")
        with Store.open(path) as reopened:
            assert reopened.intake_known(FRAME)
            assert accept(reopened, FRAME, "b").duplicate

    def test_key_is_purged_with_its_message(self, store):
        """Retention purges the key with the frame's first message, so the table does not grow for ever."""
        result = accept(store, FRAME, "a")
        for message_id in result.ids:
            store.mark_published(message_id, at=at(1))
            store.mark_delivered(store.get(message_id).distribution_id, at=at(2))
        assert store.purge_delivered(at(100)) == 2
        assert not store.intake_known(FRAME)

    def test_key_is_the_sha256_of_the_exact_bytes(self):
        """One changed byte is another key; the key is the hex SHA-256."""
        assert frame_key(FRAME) != frame_key(FRAME + b" ")
        assert len(frame_key(FRAME)) == 64

    def test_migration_3_adds_the_table_to_an_old_store(self, tmp_path):
        """A store at version 2 gains the intake table on open and keeps its messages."""
        path = tmp_path / "old.sqlite3"
        with Store.open(path) as opened:
            accept(opened, FRAME, "a")
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("DROP TABLE legacy_intake")
        for trigger in ("state_counts_insert", "state_counts_delete", "state_counts_update"):  # migration 4
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("DROP TABLE state_counts")
        conn.execute("DROP INDEX messages_state_updated")  # migration 6
        conn.execute("PRAGMA user_version = 2")
        assert migrate(conn) >= 3
        conn.close()
        with Store.open(path) as reopened:
            assert not reopened.intake_known(FRAME)  # frames accepted before the upgrade carry no key
            assert reopened.outbox_depth() == 2



def test_a_new_frame_is_one_read_then_its_writes(store):
    """Known frame? and room left? are asked in one statement before anything is written (they were two)."""
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    accept(store, FRAME, "a")
    store._conn.set_trace_callback(None)
    tops = [s.split()[0] for s in dict.fromkeys(statements)]  # a trigger repeats its statement's text
    assert tops == ["BEGIN", "SELECT", "INSERT", "INSERT", "INSERT", "INSERT", "INSERT", "COMMIT"]
    assert store.outbox_depth() == 2

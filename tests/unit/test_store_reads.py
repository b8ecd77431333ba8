"""Reads the service makes twice in a row are made once, and a kept read is never stale (issue 18, fourth pass).

The RC-REF check reads our message (``outbound_body``) and the RC-REF's transition
(``mark_delivered``) read it again; an assistance sheet's createCase and EMSI asked
``has_case`` for the same case. Inside a group the first read is kept while nothing can
have changed it (bridge/edges/store/transactions.py: the group's serial and the
connection's ``total_changes``); these tests count the statements, and check that every
write, rollback, replay and group boundary makes the store read again.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bridge.core.edxl import make_reference, wrap
from bridge.edges.store import Store, Translation
from bridge.refdata.hub_bodies import encode_hub_body
from bridge.runtime.demo import demo_frame
from bridge.testing.hostile_cases import hub_delivery
from bridge.testing.rig import SAMU, SDIS, Rig

T0 = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
CASE = "fr.health.samu440.READS-1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _reads(statements: list[str], what: str) -> int:
    """SELECTs of ``messages`` among the traced statements whose text holds ``what``."""
    return sum(1 for sql in statements if sql.lstrip().upper().startswith("SELECT") and " messages" in sql
               and what in sql)


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "reads.sqlite3", max_pending=50) as opened:
        yield opened


def _published(store: Store, n: int, distribution_id: str, case: str = CASE) -> int:
    [message_id] = store.accept_legacy_frame(f"NUM_DOSSIER=READS-{n}".encode(),
                                             [Translation(b'{"m": 1}', distribution_id, case)],
                                             adapter="legacy-text", profile="lrm-alpha-text", received_at=at(n)).ids
    assert store.mark_published(message_id, at=at(n + 0.5))
    return message_id


def test_an_rcref_reads_our_message_once_through_the_service(tmp_path):
    """on_hub_ack: the check's read of our message is the transition's read (two SELECTs by distributionID before)."""
    rig = Rig(tmp_path, peer_listening=False)
    try:
        rig.settled(rig.service.on_legacy_frame(demo_frame(11, assistance=False)))
        rig.run(0.5)
        [ours] = [m for m in rig.store.recent(10) if m.direction.value == "out"]
        assert ours.state.value == "published"
        ref = wrap("reference", make_reference(ours.distribution_id), sender_id=SDIS, recipient_id=SAMU, now=T0,
                   message_uuid=uuid.uuid4(), kind="Ack")
        statements: list[str] = []
        rig.store._conn.set_trace_callback(statements.append)
        try:
            rig.settled(rig.service.on_hub_ack(hub_delivery(encode_hub_body(ref), "ack")))
        finally:
            rig.store._conn.set_trace_callback(None)
        assert _reads(statements, "distribution_id = ") == 1, statements
        assert rig.store.find(ours.distribution_id).state.value == "delivered"
    finally:
        rig.close()


def test_the_kept_row_serves_the_next_transition_in_a_group_only(store):
    _published(store, 1, "fr.health.samu440_r1")
    _published(store, 2, "fr.health.samu440_r2")
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    with store.group():
        assert store.outbound_body("fr.health.samu440_r1") == (b'{"m": 1}', "application/json")
        assert store.mark_delivered("fr.health.samu440_r1", at=at(10)).state.value == "delivered"
    assert _reads(statements, "distribution_id = ") == 1
    statements.clear()
    # outside a group another process may write between the two calls: both read
    assert store.outbound_body("fr.health.samu440_r2") is not None
    assert store.mark_delivered("fr.health.samu440_r2", at=at(11)).state.value == "delivered"
    assert _reads(statements, "distribution_id = ") == 2
    statements.clear()
    # another distributionID, or a write in between, and the transition reads its own row
    _published(store, 3, "fr.health.samu440_r3")
    _published(store, 4, "fr.health.samu440_r4")
    with store.group():
        store.outbound_body("fr.health.samu440_r3")
        assert store.mark_delivered("fr.health.samu440_r4", at=at(12)).state.value == "delivered"
        store.outbound_body("fr.health.samu440_r3")
        store.note_events(1, "note", ["a write between the two"], at=at(12))
        assert store.mark_delivered("fr.health.samu440_r3", at=at(13)).state.value == "delivered"
    store._conn.set_trace_callback(None)
    assert _reads(statements, "distribution_id = ") == 4


def test_a_row_kept_before_a_rollback_is_not_used_after_it(tmp_path):
    """The confirm is rolled back (group aborted) after the check read the row as published: the RC-REF must see
    the message as it is now (translated), and write what a store that never saw the aborted group writes."""
    def run(path, read_in_aborted_group: bool):
        with Store.open(path, max_pending=50) as store:
            [message_id] = store.accept_legacy_frame(b"NUM_DOSSIER=READS-9", [Translation(b'{"m": 1}', "d9", CASE)],
                                                     adapter="legacy-text", profile="p", received_at=at(1)).ids
            store.begin_group()
            assert store.mark_published(message_id, at=at(2))
            if read_in_aborted_group:
                assert store.outbound_body("d9") is not None
            store.abort_group()
            with store.group():
                delivered = store.mark_delivered("d9", at=at(3))
            events = [tuple(r) for r in store._conn.execute("SELECT event, from_state, to_state FROM events")]
            return delivered, events

    assert run(tmp_path / "a.sqlite3", True) == run(tmp_path / "b.sqlite3", False)


def test_a_row_kept_before_a_replay_is_read_again(store):
    """A transition fails after writing inside the group: the group is rolled back and replayed; a row read before
    that is read again by the RC-REF's transition (it may be from the rolled-back transaction)."""
    import sqlite3

    _published(store, 1, "fr.health.samu440_p1")
    statements: list[str] = []
    with store.group():
        store.outbound_body("fr.health.samu440_p1")
        with pytest.raises(sqlite3.IntegrityError):  # its second message reuses a distributionID: undone alone
            store.accept_legacy_frame(b"NUM_DOSSIER=READS-2", [Translation(b"{}", "x1", CASE),
                                                               Translation(b"{}", "fr.health.samu440_p1", CASE)],
                                      adapter="legacy-text", profile="p", received_at=at(5))
        store._conn.set_trace_callback(statements.append)
        assert store.mark_delivered("fr.health.samu440_p1", at=at(6)).state.value == "delivered"
        store._conn.set_trace_callback(None)
    assert _reads(statements, "distribution_id = ") == 1
    assert store.find("x1") is None


def test_has_case_probes_once_per_sheet_and_again_after_any_write(store):
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    with store.group():
        assert not store.has_case(CASE)
        assert not store.has_case(CASE)  # the assistance sheet's second Hub message: same case, nothing written
        assert _reads(statements, "case_id = ") == 1
        assert not store.has_case(CASE, direction="out")  # another question: asked
        assert _reads(statements, "case_id = ") == 2
        _published(store, 1, "fr.health.samu440_h1")
        assert store.has_case(CASE)  # written since: asked again, and now known
        assert _reads(statements, "case_id = ") == 3
    statements.clear()
    assert store.has_case(CASE) and store.has_case(CASE)  # outside a group: asked each time
    store._conn.set_trace_callback(None)
    assert _reads(statements, "case_id = ") == 2


def test_has_case_after_a_rolled_back_write_asks_again(store):
    """A message of the case written then rolled back (the group aborted): the kept 'yes' must not survive it."""
    store.begin_group()
    _published(store, 1, "fr.health.samu440_k1")
    assert store.has_case(CASE)
    store.abort_group()
    with store.group():
        assert not store.has_case(CASE)


def test_from_row_converts_by_position_or_by_name_alike(store):
    """``SELECT *`` rows (the table's columns are the record's fields, in order) take the positional conversion
    message_of uses; rows in another column order, and plain mappings, are read by name: the same records."""
    from bridge.app.records import MESSAGE_FIELDS, Message
    from bridge.core.delivery import RetryPolicy

    first = _published(store, 1, "fr.health.samu440_f1")
    [second] = store.accept_legacy_frame(b"NUM_DOSSIER=READS-F2", [Translation(b"{}", "f2", None)],
                                         adapter="legacy-text", profile=None, received_at=at(2)).ids
    store.mark_publish_failed(second, error="nack", now=at(3), policy=RetryPolicy(), rng_value=0.5)
    store.flag_overdue_rcref(at(10_000))
    inbound, _ = store.record_inbound(b"{}", distribution_id="fr.fire.x_1", case_id="c", case_version="1",
                                      received_at=at(4), adapter="x", content_type="application/json")
    reordered = ", ".join(reversed(MESSAGE_FIELDS))
    for message_id in (first, second, inbound):
        star = store._conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        assert star.keys() == list(MESSAGE_FIELDS)  # the positional path is the one taken
        other = store._conn.execute(f"SELECT {reordered} FROM messages WHERE id = ?", (message_id,)).fetchone()
        by_position, by_name, by_mapping = Message.from_row(star), Message.from_row(other), Message.from_row(dict(star))
        assert by_position == by_name == by_mapping
        assert by_position.created_at.tzinfo is not None and by_position.direction.value in ("in", "out")
    assert Message.from_row(store._conn.execute("SELECT * FROM messages WHERE id = ?", (second,)).fetchone()
                            ).next_attempt_at is not None

"""Replay of dead letters (with and without re-translation) and of a published window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.app.replay import ReplayMeta, replay_all, replay_dead_letter, replay_window
from bridge.core.delivery import State
from bridge.core.errors import OutboundError
from bridge.edges.store import Store, Translation

T0 = datetime(2026, 5, 18, 16, 15, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "bridge.sqlite3", max_pending=3) as opened:
        yield opened


def unmappable(store: Store, body: bytes, n: int = 0) -> int:
    """An outbound message whose translation failed; returns its DLQ id."""
    message_id = store.accept_outbound(body, adapter="legacy-text", profile="demo", received_at=at(n))
    return store.mark_translation_failed(message_id, error="unmapped code Z", error_path="codes.csv:7", at=at(n))


class TestReplayDeadLetter:
    def test_without_reprocess_queues_for_the_service(self, store):
        """The original bytes go back to the outbox as a new RECEIVED message linked to the entry."""
        dlq_id = unmappable(store, b"RAW")
        outcome = replay_dead_letter(store, dlq_id, now=at(10))
        msg = store.get(outcome.message_id)
        assert outcome.ok and (msg.state, msg.original, msg.replay_of, msg.profile) == (
            State.RECEIVED, b"RAW", dlq_id, "demo")
        assert [m.id for m in store.pending_translation()] == [msg.id]
        assert store.dlq_size() == 0 and store.dlq_get(dlq_id).replayed_as == msg.id

    def test_with_reprocess_translates_now(self, store):
        """A fixed mapping turns the entry into a publishable message in one go."""
        dlq_id = unmappable(store, b"RAW")
        seen = []

        def fixed(original: bytes, meta: ReplayMeta) -> Translation:
            seen.append((original, meta.profile))
            return Translation(b"{}", "fr.health.samu440_9", "K1", None)

        outcome = replay_dead_letter(store, dlq_id, now=at(10), reprocess=fixed)
        assert seen == [(b"RAW", "demo")]
        assert [m.id for m in store.next_publishable(at(10))] == [outcome.message_id]

    def test_reprocess_may_give_several_messages(self, store):
        """A frame re-translated into two Hub messages queues both, in order."""
        dlq_id = unmappable(store, b"RAW")

        def two(original: bytes, meta: ReplayMeta) -> list[Translation]:
            return [Translation(b"{1}", "fr.x_1", "K", None), Translation(b"{2}", "fr.x_2", "K", None)]

        outcome = replay_dead_letter(store, dlq_id, now=at(10), reprocess=two)
        assert outcome.ok
        assert [m.distribution_id for m in store.next_publishable(at(10))] == ["fr.x_1"]
        assert store.find("fr.x_2").state is State.TRANSLATED

    def test_still_failing_reprocess_keeps_the_entry(self, store):
        """If the mapping is still wrong nothing is queued and the new error is recorded."""
        dlq_id = unmappable(store, b"RAW")

        def still_broken(original: bytes, meta: ReplayMeta) -> Translation:
            raise OutboundError("unmapped code Z (codes.csv:7)")

        outcome = replay_dead_letter(store, dlq_id, now=at(10), reprocess=still_broken)
        entry = store.dlq_get(dlq_id)
        assert not outcome.ok and entry.replayed_at is None and "codes.csv:7" in entry.last_replay_error
        assert entry.attempts[-1].error.startswith("replay failed")
        assert store.pending_translation() == []

    def test_second_replay_is_refused(self, store):
        """An entry replays once; a second attempt says where it went."""
        dlq_id = unmappable(store, b"RAW")
        first = replay_dead_letter(store, dlq_id, now=at(10))
        second = replay_dead_letter(store, dlq_id, now=at(11))
        assert not second.ok and str(first.message_id) in second.error


class TestMarkReplayed:
    def test_operator_resolution_takes_the_entry_off_the_queue(self, store):
        """An entry handled outside the bridge leaves the list, with the note in its history, once."""
        dlq_id = unmappable(store, b"RAW")
        store.mark_replayed(dlq_id, at=at(5), note="LRM operator re-entered the case by hand")
        entry = store.dlq_get(dlq_id)
        assert store.dlq_size() == 0 and entry.attempts[-1].error.startswith("LRM operator")
        assert not replay_dead_letter(store, dlq_id, now=at(6)).ok


class TestReplayAll:
    def test_since_filters_and_back_pressure_stops_without_loss(self, store):
        """--since selects entries; a full outbox stops the run and leaves the rest in the DLQ."""
        ids = [unmappable(store, f"m{i}".encode(), n=i) for i in range(5)]
        outcomes = replay_all(store, now=at(100), since=at(1))
        assert [o.dlq_id for o in outcomes] == ids[1:5]
        assert [o.ok for o in outcomes] == [True, True, True, False] and "outbox full" in outcomes[-1].error
        assert [e.id for e in store.dlq_list()] == [ids[0], ids[4]]


class TestReplayWindow:
    def test_republishes_with_same_distribution_id(self, store):
        """Messages published in the window are queued again, unchanged, and others are not."""
        ids = []
        for n in range(3):
            message_id = store.accept_outbound(b"x", adapter="a", profile=None, received_at=at(n))
            store.record_translated(message_id, Translation(b"{}", f"fr.x_{n}", f"K{n}", None), at=at(n))
            store.mark_published(message_id, at=at(10 * n))
            ids.append(message_id)
        store.mark_delivered("fr.x_1", at=at(15))
        assert replay_window(store, at(5), at(25), now=at(30)) == ids[1:]
        again = store.next_publishable(at(30))
        assert [(m.id, m.distribution_id) for m in again] == [(ids[1], "fr.x_1"), (ids[2], "fr.x_2")]
        assert store.get(ids[0]).state is State.PUBLISHED

    def test_receiver_inbox_makes_the_replay_idempotent(self, store, tmp_path):
        """Re-published messages reach a receiver's inbox as duplicates: acknowledged, not applied twice."""
        with Store.open(tmp_path / "receiver.sqlite3") as receiver:
            message_id = store.accept_outbound(b"x", adapter="a", profile=None, received_at=at(0))
            store.record_translated(message_id, Translation(b"{}", "fr.x_0", "K0", None), at=at(0))
            [msg] = store.next_publishable(at(1))
            store.mark_published(msg.id, at=at(1))
            first = receiver.record_inbound(msg.translated, distribution_id=msg.distribution_id, case_id="K0",
                                            case_version=None, received_at=at(2))
            replay_window(store, at(0), at(10), now=at(20))
            [again] = store.next_publishable(at(20))
            second = receiver.record_inbound(again.translated, distribution_id=again.distribution_id,
                                             case_id="K0", case_version=None, received_at=at(21))
            assert first == (first[0], False) and second == (first[0], True)
            assert receiver.counts() == {("in", "received"): 1}

    def test_empty_window_refused(self, store):
        """--to before --from is an error, not a silent no-op."""
        with pytest.raises(ValueError, match="empty window"):
            replay_window(store, at(10), at(5), now=at(20))

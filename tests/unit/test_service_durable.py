"""What waits for the group commit: the LRM's reply (ack, or nack when the commit fails) and the broker acks."""

from __future__ import annotations

from twisted.internet import defer

from bridge.app.ports import FrameHandled
from bridge.runtime.demo import demo_frame


def test_the_reply_fires_with_the_ack_only_after_the_commit(rig):
    reply = rig.service.on_legacy_frame(demo_frame(1))
    assert isinstance(reply, FrameHandled) and reply.accepted is True
    fired: list[object] = []
    reply.addCallback(fired.append)
    assert fired == [] and rig.store.grouping
    rig.clock.advance(0)
    assert fired == [b"ACK=DEMO-000001"] and not rig.store.grouping


def test_a_failed_commit_answers_every_waiting_frame_with_its_nack_and_fails_the_broker_waiters(rig, monkeypatch):
    first, second = rig.service.on_legacy_frame(demo_frame(1)), rig.service.on_legacy_frame(demo_frame(2))
    broker_waiter = rig.service.durable()
    replies: list[object] = []
    failures: list[object] = []
    first.addCallback(replies.append)
    second.addCallback(replies.append)
    broker_waiter.addErrback(failures.append)

    def lost():
        raise OSError("disk gone")

    monkeypatch.setattr(rig.store, "commit_group", lost)
    rig.service.commit()
    assert replies == [b"NACK=DEMO-000001;STORE;bridge store failed, retry",
                       b"NACK=DEMO-000002;STORE;bridge store failed, retry"]
    assert [f.check(OSError) for f in failures] == [OSError]


def test_a_frame_waits_on_one_deferred(rig, monkeypatch):
    """The reply is the one Deferred made per frame (a durable() waiter with the reply chained onto it made two)."""
    made = []
    init = defer.Deferred.__init__

    def counting(self, *args, **kwargs):
        made.append(type(self).__name__)
        init(self, *args, **kwargs)

    rig.service.on_legacy_frame(demo_frame(1))  # opens the group: the next frame shares it
    monkeypatch.setattr(defer.Deferred, "__init__", counting)
    rig.service.on_legacy_frame(demo_frame(2))
    monkeypatch.undo()
    assert made == ["FrameHandled"]


def test_the_store_nack_is_built_only_when_a_commit_fails(rig, monkeypatch):
    """Every accepted frame used to build its STORE nack up front, for the rare failed commit."""
    built: list[str] = []
    nack_for = rig.service.translator.nack_for

    def spy(frame, code, reason, reference=None):
        built.append(code)
        return nack_for(frame, code, reason, reference)

    monkeypatch.setattr(rig.service.translator, "nack_for", spy)
    replies = [rig.service.on_legacy_frame(demo_frame(n)) for n in (1, 2, 3)]
    rig.clock.advance(0)
    assert built == [] and all(r.called for r in replies)


def test_only_a_commit_that_stored_a_frame_calls_a_publish_pass(rig, monkeypatch):
    """A publish pass (a query of the outbox) follows the commit of an accepted frame; the commit of a group with
    nothing new for the outbox (an RC-REF's mark, an inbound message) calls none: it called one after every commit."""
    kicks: list[int] = []
    monkeypatch.setattr(rig.service, "kick", lambda: kicks.append(1))
    rig.service._open_group()  # what on_hub_ack and on_hub_message open for their marks
    waiter = rig.service.durable()
    rig.service.commit()
    assert waiter.called and kicks == []
    reply = rig.service.on_legacy_frame(demo_frame(1))
    rig.service.commit()
    assert reply.called and kicks == [1]
    refused = rig.service.on_legacy_frame(b"not a frame of this profile")
    rig.service.commit()
    assert refused.called and refused.accepted is False and kicks == [1]  # dead-lettered: nothing to publish


def test_every_group_commit_is_counted_once_on_the_metrics(tmp_path):
    """``bridge_store_commits_total`` counts the group COMMITs (one fsync each), not the transitions in them:
    benchmarks/e2e.py reads it to say how many COMMITs a case sheet costs at each rate."""
    from bridge.edges.metrics import BridgeMetrics
    from bridge.testing.rig import Rig

    metrics = BridgeMetrics()
    rig = Rig(tmp_path)
    try:
        rig.service.metrics = metrics
        replies = [rig.service.on_legacy_frame(demo_frame(n)) for n in (1, 2, 3)]  # one group
        rig.service.commit()
        rig.service.commit()  # nothing open: no COMMIT
        rig.service.on_legacy_frame(demo_frame(4))
        rig.service.commit()
        assert all(r.called for r in replies)
        assert metrics.group_commits._value.get() == 2
        assert b"bridge_store_commits_total 2.0" in metrics.render()[0]
    finally:
        rig.close()

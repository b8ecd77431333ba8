"""Consumer acks gathered per channel and reactor turn (ChannelAcks), against a model of the broker's rules.

The broker model: a delivery is outstanding until settled; ``basic_ack(n, multiple=True)`` settles every
outstanding tag <= n, and acking a tag that is not outstanding is a channel error (PRECONDITION_FAILED).
Whatever the order of outcomes and turns, each delivery whose callback succeeded is acked exactly once,
after its callback, and no delivery is ever acked whose callback failed or has not finished.
"""

from __future__ import annotations

from types import SimpleNamespace

import pika
from hypothesis import given, settings
from hypothesis import strategies as st
from pika.adapters.twisted_connection import ClosableDeferredQueue, ReceivedMessage
from twisted.internet import defer, task

from bridge.app.ports import Drop, Nack
from bridge.edges.amqp.consumer import ChannelAcks, Consumer


class BrokerChannel:
    """One channel, several consumers: tags numbered per channel; checks every settle against the broker's rules."""

    def __init__(self) -> None:
        self.queues: dict[str, ClosableDeferredQueue] = {}
        self.outstanding: set[int] = set()
        self.next_tag = 0
        self.acked: list[int] = []  # every tag the broker counts as acked, in order
        self.nacked: list[int] = []
        self.frames: list[tuple] = []
        self.may_ack: set[int] = set()  # tags whose callback succeeded (set by the test's callback)
        self.is_open = True

    def basic_qos(self, prefetch_count):
        return defer.succeed(None)

    def basic_consume(self, queue, auto_ack=False):
        self.queues[queue] = ClosableDeferredQueue()
        return defer.succeed((self.queues[queue], f"ctag-{queue}"))

    def basic_cancel(self, tag):
        return defer.succeed(None)

    def _settle(self, tag: int, multiple: bool) -> list[int]:
        assert tag in self.outstanding, f"PRECONDITION_FAILED - unknown delivery tag {tag}"
        tags = sorted(t for t in self.outstanding if t <= tag) if multiple else [tag]
        self.outstanding -= set(tags)
        return tags

    def basic_ack(self, tag, multiple=False):
        self.frames.append(("ack", tag, multiple))
        tags = self._settle(tag, multiple)
        assert set(tags) <= self.may_ack, f"acked before (or without) its callback's success: {tags}"
        self.acked += tags

    def basic_nack(self, tag, requeue):
        self.frames.append(("nack", tag, requeue))
        self.nacked += self._settle(tag, False)

    def basic_reject(self, tag, requeue):
        self.frames.append(("reject", tag, requeue))
        self.nacked += self._settle(tag, False)

    def deliver(self, queue: str, body: bytes) -> int:
        self.next_tag += 1
        tag = self.next_tag
        self.outstanding.add(tag)
        method = SimpleNamespace(delivery_tag=tag, redelivered=False, routing_key=queue, exchange="")
        props = pika.BasicProperties(content_type="application/json", delivery_mode=2)
        self.queues[queue].put(ReceivedMessage(channel=self, method=method, properties=props, body=body))
        return tag


def _rig():
    clock, channel = task.Clock(), BrokerChannel()
    acks = ChannelAcks(channel, clock)
    pending: dict[int, defer.Deferred] = {}

    def callback(delivery):
        outcome = delivery.body.decode()
        tag = delivery.delivery_tag
        if outcome == "ok":
            channel.may_ack.add(tag)
            return None
        if outcome == "nack":
            raise Nack("later")
        if outcome == "drop":
            raise Drop("poison")
        d = pending[tag] = defer.Deferred()  # "wait": fired by the test in a later turn
        d.addCallback(lambda _: channel.may_ack.add(tag))
        return d

    consumers = [Consumer(channel, queue, callback, acks=acks) for queue in ("me.message", "me.ack")]
    for consumer in consumers:
        consumer.start()
    return clock, channel, acks, pending, consumers


def test_a_turns_acks_leave_as_one_multiple_ack_at_the_end_of_the_turn():
    clock, channel, acks, _pending, _consumers = _rig()
    for queue in ("me.ack", "me.message", "me.ack"):
        channel.deliver(queue, b"ok")
    assert channel.frames == []  # nothing before the end of the turn
    clock.advance(0)
    assert channel.frames == [("ack", 3, True)] and channel.acked == [1, 2, 3] and acks.frames == 1


def test_a_delivery_still_in_its_callback_ends_the_run_and_later_acks_go_alone():
    clock, channel, _acks, pending, _consumers = _rig()
    channel.deliver("me.ack", b"ok")
    channel.deliver("me.ack", b"wait")
    channel.deliver("me.message", b"ok")
    clock.advance(0)
    assert channel.frames == [("ack", 1, True), ("ack", 3, False)] and channel.outstanding == {2}
    pending[2].callback(None)
    clock.advance(0)
    assert channel.frames[-1] == ("ack", 2, True) and channel.outstanding == set()


def test_the_multiple_ack_names_an_acked_tag_never_a_rejected_one():
    """1 acked, 2 rejected: the run is 1..2 but the ack names 1 (acking 2 again would close the channel)."""
    clock, channel, _acks, _pending, _consumers = _rig()
    channel.deliver("me.ack", b"ok")
    channel.deliver("me.ack", b"drop")
    channel.deliver("me.ack", b"nack")
    channel.deliver("me.ack", b"ok")
    clock.advance(0)
    assert channel.frames == [("reject", 2, False), ("nack", 3, True), ("ack", 4, True)]
    assert channel.acked == [1, 4] and channel.nacked == [2, 3]


def test_a_tag_no_consumer_took_is_never_covered():
    """A delivery pika holds for a stopped consumer (a gap in the tags we saw) is not swept by a multiple ack."""
    clock, channel, _acks, _pending, consumers = _rig()
    consumers[0]._stopping = True  # its queue keeps what arrives: no consumer takes it
    channel.deliver("me.ack", b"ok")
    consumers[0]._messages.waiting.clear()  # no getter waiting any more
    channel.deliver("me.message", b"ok")  # tag 2: queued in pika, never seen by a callback
    channel.deliver("me.ack", b"ok")
    clock.advance(0)
    assert channel.frames == [("ack", 1, True), ("ack", 3, False)] and channel.outstanding == {2}


def test_stop_sends_the_turns_acks_before_returning():
    _clock, channel, _acks, pending, consumers = _rig()
    channel.deliver("me.ack", b"wait")
    stopped = []
    defer.DeferredList([c.stop() for c in consumers]).addCallback(stopped.append)
    pending[1].callback(None)
    assert stopped and channel.acked == [1]  # without waiting for the reactor's turn


def test_without_a_reactor_each_ack_leaves_at_once_alone():
    channel = BrokerChannel()
    consumer = Consumer(channel, "me.ack", lambda d: channel.may_ack.add(d.delivery_tag))
    consumer.start()
    channel.deliver("me.ack", b"ok")
    channel.deliver("me.ack", b"ok")
    assert channel.frames == [("ack", 1, False), ("ack", 2, False)]


OUTCOMES = st.sampled_from(["ok", "ok", "ok", "wait", "nack", "drop"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["me.message", "me.ack"]), OUTCOMES, st.booleans(),
                          st.lists(st.integers(0, 30), max_size=3)), min_size=1, max_size=30))
def test_every_succeeded_delivery_is_acked_once_and_nothing_else_is(script):
    """Random deliveries, outcomes, turn ends and late completions: the broker model's checks always hold."""
    clock, channel, _acks, pending, _consumers = _rig()
    succeeded_late: set[int] = set()
    for queue, outcome, end_turn, completions in script:
        channel.deliver(queue, outcome.encode())
        for tag in completions:
            if tag in pending and not pending[tag].called:
                pending[tag].callback(None)
                succeeded_late.add(tag)
        if end_turn:
            clock.advance(0)
    clock.advance(0)
    still_waiting = {tag for tag, d in pending.items() if not d.called}
    assert channel.outstanding == still_waiting
    assert sorted(channel.acked) == sorted(channel.may_ack) and len(set(channel.acked)) == len(channel.acked)
    for tag in still_waiting:
        pending[tag].callback(None)
    clock.advance(0)
    assert channel.outstanding == set() and sorted(channel.acked) == sorted(channel.may_ack)

"""Consumer ack/requeue/dead-letter rules and publisher error translation, on a fake channel (no socket)."""

from __future__ import annotations

from types import SimpleNamespace

import pika
import pytest
from pika.adapters.twisted_connection import ClosableDeferredQueue, ReceivedMessage
from twisted.internet import defer

from bridge.app.ports import Drop, Nack
from bridge.core.errors import InboundError
from bridge.edges.amqp.consumer import Consumer
from bridge.edges.amqp.errors import ConnectionLost, PublishNacked, PublishReturned
from bridge.edges.amqp.publisher import Publisher


class FakeChannel:
    """Records what the consumer/publisher asks of the broker."""

    def __init__(self, publish_result=None):
        self.queue = ClosableDeferredQueue()
        self.settled: list[tuple[str, int, bool | None]] = []
        self.published: list[tuple] = []
        self.publish_result = publish_result
        self.is_open = True

    def basic_qos(self, prefetch_count):
        self.prefetch = prefetch_count
        return defer.succeed(None)

    def basic_consume(self, queue, auto_ack=False):
        assert auto_ack is False
        return defer.succeed((self.queue, "ctag"))

    def basic_cancel(self, tag):
        self.queue.close(RuntimeError("cancelled"))
        return defer.succeed(None)

    def basic_ack(self, tag):
        self.settled.append(("ack", tag, None))

    def basic_nack(self, tag, requeue):
        self.settled.append(("nack", tag, requeue))

    def basic_reject(self, tag, requeue):
        self.settled.append(("reject", tag, requeue))

    def deliver(self, tag: int, body: bytes = b"{}", redelivered: bool = False):
        method = SimpleNamespace(delivery_tag=tag, redelivered=redelivered, routing_key="x.message", exchange="d")
        props = pika.BasicProperties(content_type="application/json", delivery_mode=2)
        self.queue.put(ReceivedMessage(channel=self, method=method, properties=props, body=body))

    def basic_publish(self, exchange, key, body, properties=None, mandatory=False):
        self.published.append((exchange, key, body, properties, mandatory))
        return self.publish_result if self.publish_result is not None else defer.succeed(SimpleNamespace())

    def confirm_delivery(self):
        return defer.succeed(None)


def _raise(exc):
    def callback(_delivery):
        raise exc
    return callback


@pytest.mark.parametrize(("callback", "redelivered", "expected"), [
    (lambda d: None, False, ("ack", 1, None)),
    (_raise(Nack("later")), False, ("nack", 1, True)),
    (_raise(Drop("poison")), False, ("reject", 1, False)),
    (_raise(InboundError("bad bytes")), False, ("reject", 1, False)),
    (_raise(RuntimeError("bug")), False, ("nack", 1, True)),
    (_raise(RuntimeError("bug again")), True, ("reject", 1, False)),
], ids=["ok-ack", "nack-requeue", "drop-dead-letter", "inbound-dead-letter", "bug-requeue-once", "bug-redelivered-dl"])
def test_consumer_settles_by_outcome(callback, redelivered, expected):
    """Success acks; Nack requeues; Drop/InboundError dead-letter; a bug requeues once, then dead-letters."""
    channel = FakeChannel()
    consumer = Consumer(channel, "x.message", callback, prefetch=7)
    consumer.start()
    channel.deliver(1, redelivered=redelivered)
    assert channel.settled == [expected] and channel.prefetch == 7


def test_ack_waits_for_the_callbacks_deferred_and_stop_waits_too():
    """The ack is sent only when the callback's Deferred fires; stop() waits for it."""
    channel, pending = FakeChannel(), defer.Deferred()
    consumer = Consumer(channel, "x.message", lambda d: pending)
    consumer.start()
    channel.deliver(5)
    stopped = []
    consumer.stop().addCallback(stopped.append)
    assert channel.settled == [] and stopped == []
    pending.callback(None)
    assert channel.settled == [("ack", 5, None)] and len(stopped) == 1


def test_broker_cancel_reports_lost():
    """A consumer ended by the broker (not by stop) calls on_lost so the session reconnects."""
    channel, lost = FakeChannel(), []
    consumer = Consumer(channel, "x.message", lambda d: None, on_lost=lost.append)
    consumer.start()
    channel.queue.close(RuntimeError("queue deleted"))
    assert lost and "x.message" in lost[0]


@pytest.mark.parametrize(("error", "expected"), [
    (pika.exceptions.UnroutableError([]), PublishReturned),
    (pika.exceptions.NackError([]), PublishNacked),
    (pika.exceptions.ChannelClosedByBroker(406, "PRECONDITION_FAILED"), ConnectionLost),
])
def test_publisher_translates_pika_errors(error, expected):
    """pika's publish failures become the edge's error types."""
    channel = FakeChannel(publish_result=defer.fail(error))
    failures = []
    Publisher(channel, "hubsante", routing_key="me").publish(b"{}").addErrback(failures.append)
    assert failures[0].check(expected)


def test_publish_is_persistent_mandatory_with_content_type():
    """Every publish is delivery_mode 2, mandatory, with the configured content type and routing key."""
    channel = FakeChannel()
    Publisher(channel, "hubsante", routing_key="fr.health.samu440", content_type="application/xml").publish(b"<a/>")
    exchange, key, _body, props, mandatory = channel.published[0]
    assert (exchange, key, mandatory) == ("hubsante", "fr.health.samu440", True)
    assert (props.delivery_mode, props.content_type) == (2, "application/xml")

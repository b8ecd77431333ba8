"""Publish with publisher confirms, ``mandatory`` and ``delivery_mode=2``.

The Deferred returned by :meth:`Publisher.publish` fires when the broker has
taken responsibility for the message (Basic.Ack) and errbacks with a
:mod:`bridge.edges.amqp.errors` type otherwise, so the outbox knows whether it
may forget the message.
"""

from __future__ import annotations

import pika
from pika.adapters.twisted_connection import TwistedChannel
from twisted.internet import defer
from twisted.python.failure import Failure

from bridge.edges.amqp.errors import ConnectionLost, PublishNacked, PublishReturned

PERSISTENT = 2


class Publisher:
    """Publishes on one confirm-mode channel to one exchange."""

    def __init__(self, channel: TwistedChannel, exchange: str, *, routing_key: str | None = None,
                 content_type: str = "application/json", on_lost=None) -> None:
        self.channel = channel
        self.on_lost = on_lost  # told when the channel dies under us (the session then reconnects)
        self.exchange = exchange
        self.routing_key = routing_key
        self.content_type = content_type
        self.in_flight: set[defer.Deferred] = set()

    @defer.inlineCallbacks
    def setup(self):
        """Turn on confirm mode; fires when the broker agreed."""
        yield self.channel.confirm_delivery()

    def publish(self, body: bytes, *, content_type: str | None = None, routing_key: str | None = None,
                message_id: str | None = None, headers: dict | None = None) -> defer.Deferred:
        """Publish ``body``; fires with None on broker ack, errbacks with an edge error."""
        key = routing_key or self.routing_key
        if not key:
            return defer.fail(ValueError("no routing key"))
        properties = pika.BasicProperties(
            content_type=content_type or self.content_type, delivery_mode=PERSISTENT,
            message_id=message_id, headers=headers)
        try:
            d = self.channel.basic_publish(self.exchange, key, body, properties=properties, mandatory=True)
        except Exception as exc:  # noqa: BLE001 - pika raises synchronously on a closing channel
            if self.on_lost is not None:
                self.on_lost(f"publish channel unusable: {exc!r}")
            return defer.fail(ConnectionLost(f"cannot publish: {exc}"))
        self.in_flight.add(d)
        return d.addCallbacks(self._confirmed, self._translate, callbackArgs=(d,), errbackArgs=(key, d))

    def _confirmed(self, _frame: object, d: defer.Deferred) -> None:
        self.in_flight.discard(d)

    def _translate(self, failure: Failure, key: str, d: defer.Deferred):
        self.in_flight.discard(d)
        if failure.check(pika.exceptions.UnroutableError):
            raise PublishReturned(f"broker returned the message: no queue bound for routing key {key!r}")
        if failure.check(pika.exceptions.NackError):
            raise PublishNacked("broker refused the message (Basic.Nack)")
        if failure.check(pika.exceptions.AMQPError, pika.exceptions.ChannelClosed, pika.exceptions.ConnectionClosed):
            if self.on_lost is not None:
                self.on_lost(f"publish channel closed: {failure.value!r}")
            raise ConnectionLost(f"connection lost before the broker confirmed: {failure.value!r}")
        return failure

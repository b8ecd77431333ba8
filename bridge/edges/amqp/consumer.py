"""Consume a queue with manual acks and a bounded prefetch.

The callback gets a :class:`Delivery` and returns a value or a Deferred. The
message is acked only after that succeeds, so a crash before the ack leaves
it in the queue (redelivered later with ``redelivered=True``: receivers are
idempotent on distributionID). Raising :class:`Nack` requeues it; raising
:class:`Drop` or an :class:`~bridge.core.errors.InboundError` rejects it
without requeue (the queue dead-letters it: nothing is silently lost). Any
other exception requeues a first delivery and dead-letters a redelivery, so a
poison message cannot loop for ever.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from pika.adapters.twisted_connection import TwistedChannel
from twisted.internet import defer

from bridge.app.ports import Drop, Nack
from bridge.core.errors import InboundError

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One received message, independent of pika's types."""

    body: bytes
    queue: str
    routing_key: str
    content_type: str | None
    delivery_mode: int | None
    redelivered: bool
    delivery_tag: int
    message_id: str | None = None
    headers: dict[str, Any] = field(default_factory=dict)
    exchange: str = ""


Callback = Callable[[Delivery], Any]


class Consumer:
    """One consumer on one queue; :meth:`stop` cancels it and waits for in-flight callbacks."""

    def __init__(self, channel: TwistedChannel, queue: str, callback: Callback, *, prefetch: int = 10,
                 on_lost: Callable[[str], None] | None = None) -> None:
        self.channel = channel
        self.on_lost = on_lost  # told when the broker ends this consumer without our asking
        self.queue = queue
        self.callback = callback
        self.prefetch = prefetch
        self.consumer_tag: str | None = None
        self.in_flight: set[defer.Deferred] = set()
        self._messages = None
        self._stopping = False

    @defer.inlineCallbacks
    def start(self):
        """Set the prefetch and register the consumer; fires once the broker confirmed it."""
        yield self.channel.basic_qos(prefetch_count=self.prefetch)
        self._messages, self.consumer_tag = yield self.channel.basic_consume(self.queue, auto_ack=False)
        self._next()

    def _next(self) -> None:
        if self._stopping or self._messages is None:
            return
        d = self._messages.get()
        d.addCallbacks(self._received, self._queue_closed)

    def _queue_closed(self, failure) -> None:
        log.debug("amqp_consumer_closed", queue=self.queue, reason=str(failure.value))
        if not self._stopping and self.on_lost is not None:
            self.on_lost(f"consumer on {self.queue} ended: {failure.value!r}")

    def _received(self, received) -> None:
        self._next()  # keep reading: prefetch bounds how many are in flight
        delivery = _delivery(self.queue, received)
        d = defer.maybeDeferred(self.callback, delivery)
        self.in_flight.add(d)
        d.addCallbacks(self._ack, self._failed, callbackArgs=(received,), errbackArgs=(received, delivery))
        d.addBoth(self._forget, d)

    def _forget(self, _result, d) -> None:
        self.in_flight.discard(d)

    def _ack(self, _result, received) -> None:
        self._settle(received, "ack")

    def _failed(self, failure, received, delivery: Delivery) -> None:
        if failure.check(Nack):
            self._settle(received, "requeue")
        elif failure.check(Drop, InboundError):
            log.warning("amqp_message_rejected", queue=self.queue, reason=str(failure.value))
            self._settle(received, "reject")
        else:
            log.error("amqp_consumer_callback_failed", queue=self.queue, redelivered=delivery.redelivered,
                      error=repr(failure.value))
            self._settle(received, "reject" if delivery.redelivered else "requeue")

    def _settle(self, received, how: str) -> None:
        channel, tag = received.channel, received.method.delivery_tag
        try:
            if how == "ack":
                channel.basic_ack(tag)
            elif how == "requeue":
                channel.basic_nack(tag, requeue=True)
            else:
                channel.basic_reject(tag, requeue=False)
        except Exception as exc:  # noqa: BLE001 - channel gone: the broker redelivers it
            log.warning("amqp_settle_failed", reason="the broker will redeliver it", queue=self.queue,
                        action=how, error=repr(exc))

    @defer.inlineCallbacks
    def stop(self):
        """Stop receiving, then wait for the callbacks in flight (which ack their messages)."""
        self._stopping = True
        if self.consumer_tag and self.channel.is_open:
            try:
                yield self.channel.basic_cancel(self.consumer_tag)
            except Exception as exc:  # noqa: BLE001
                log.debug("amqp_cancel_failed", queue=self.queue, error=repr(exc))
        if self.in_flight:
            yield defer.DeferredList(list(self.in_flight), consumeErrors=True)


def _delivery(queue: str, received) -> Delivery:
    props, method = received.properties, received.method
    return Delivery(
        body=received.body,
        queue=queue,
        routing_key=method.routing_key,
        content_type=props.content_type,
        delivery_mode=props.delivery_mode,
        redelivered=bool(method.redelivered),
        delivery_tag=method.delivery_tag,
        message_id=props.message_id,
        headers=dict(props.headers or {}),
        exchange=method.exchange,
    )

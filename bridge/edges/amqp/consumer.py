"""Consume a queue with manual acks and a bounded prefetch.

The callback gets a :class:`Delivery` and returns a value or a Deferred. The
message is acked only after that succeeds, so a crash before the ack leaves
it in the queue (redelivered later with ``redelivered=True``: receivers are
idempotent on distributionID). Raising :class:`Nack` requeues it; raising
:class:`Drop` or an :class:`~bridge.core.errors.InboundError` rejects it
without requeue (the queue dead-letters it: nothing is silently lost). Any
other exception requeues a first delivery and dead-letters a redelivery, so a
poison message cannot loop for ever.

Acks are gathered per channel (:class:`ChannelAcks`) and sent once per reactor turn:
the run of settled delivery tags from the lowest one goes as one ``multiple=True``
ack, the rest one by one. An ack still leaves only after the callback's Deferred
fired (for the service: after the commit that recorded the message).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from pika.adapters.twisted_connection import TwistedChannel
from twisted.internet import defer
from twisted.python.failure import Failure

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
MAX_SETTLED_ABOVE_FLOOR = 4096  # settled tags remembered above a delivery still in its callback


class ChannelAcks:
    """The acks of one channel, sent once per reactor turn; one ``multiple=True`` ack for a settled run.

    Delivery tags are numbered 1, 2, 3... per channel, across all its consumers. A
    ``multiple=True`` ack of tag *n* acks every unsettled delivery up to *n*, so it is
    sent only for a run in which every tag was seen by one of our consumers and is
    settled: acked now, or already acked, requeued or rejected one by one. A delivery
    still in a callback, or one pika has queued but no consumer has taken (a gap in
    the tags), ends the run; the acks above it go one by one in the same turn. Without
    a ``reactor`` every ack leaves at once, one frame per tag.
    """

    def __init__(self, channel: Any, reactor: Any = None) -> None:
        self.channel = channel
        self.reactor = reactor
        self.floor = 0  # every tag up to here is settled
        self._settled: set[int] = set()  # settled tags above the floor
        self._due: list[int] = []  # acks to send at the end of this turn
        self._scheduled = False
        self.frames = 0  # ack frames sent (for tests and benchmarks)

    def ack(self, tag: int) -> None:
        """Ack ``tag`` at the end of this reactor turn (at once, alone, without a reactor)."""
        if self.reactor is None:
            self.channel.basic_ack(tag)
            self.frames += 1
            return
        self._due.append(tag)
        if not self._scheduled:
            self._scheduled = True
            self.reactor.callLater(0, self.flush)

    def settled(self, tag: int) -> None:
        """``tag`` was requeued or rejected (sent by the caller): a later multiple ack may pass over it."""
        if self.reactor is not None and tag > self.floor:
            self._settled.add(tag)

    def flush(self) -> None:
        """Send the acks due: the settled run from the floor as one multiple ack, the rest one by one."""
        self._scheduled = False
        due, self._due = self._due, []
        if not due:
            return
        settled = self._settled
        if len(settled) > MAX_SETTLED_ABOVE_FLOOR:  # a delivery stuck in a callback: forget the run (single acks)
            settled.clear()
        settled.update(due)
        due_set = set(due)
        floor, top = self.floor, 0
        while floor + 1 in settled:
            floor += 1
            settled.discard(floor)
            if floor in due_set:
                top = floor  # the highest tag acked now in the run: the run's other tags are settled already
        self.floor = floor
        try:
            if top:
                self.channel.basic_ack(top, multiple=True)
                self.frames += 1
            for tag in due:
                if tag > floor:
                    self.channel.basic_ack(tag)
                    self.frames += 1
        except Exception as exc:  # noqa: BLE001 - channel gone: the broker redelivers them
            log.warning("amqp_settle_failed", reason="the broker will redeliver it", action="ack", count=len(due),
                        error=repr(exc))


class Consumer:
    """One consumer on one queue; :meth:`stop` cancels it and waits for in-flight callbacks."""

    def __init__(self, channel: TwistedChannel, queue: str, callback: Callback, *, prefetch: int = 10,
                 on_lost: Callable[[str], None] | None = None, acks: ChannelAcks | None = None) -> None:
        self.channel = channel
        self.acks = acks if acks is not None else ChannelAcks(channel)  # shared by the consumers of one channel
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
        try:
            result = self.callback(delivery)
        except Exception:  # noqa: BLE001 - settled by the rules of _failed
            self._failed(Failure(), received, delivery)
            return
        if not isinstance(result, defer.Deferred):
            self._settle(received, "ack")
            return
        self.in_flight.add(result)
        result.addCallbacks(self._ack, self._failed, callbackArgs=(received, result),
                            errbackArgs=(received, delivery, result))

    def _ack(self, _result, received, d: defer.Deferred | None = None) -> None:
        self.in_flight.discard(d)  # type: ignore[arg-type]
        self._settle(received, "ack")

    def _failed(self, failure, received, delivery: Delivery, d: defer.Deferred | None = None) -> None:
        self.in_flight.discard(d)  # type: ignore[arg-type]
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
                self.acks.ack(tag)
            elif how == "requeue":
                channel.basic_nack(tag, requeue=True)
            else:
                channel.basic_reject(tag, requeue=False)
            if how != "ack":
                self.acks.settled(tag)
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
        self.acks.flush()  # the acks of this turn leave before the connection closes


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

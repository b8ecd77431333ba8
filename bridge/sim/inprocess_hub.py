"""An in-memory Hub with the same client interface as :class:`~bridge.edges.amqp.client.HubClient`.

``bridge run`` with no broker configured and ``bridge demo`` use it, so they
need no RabbitMQ. It applies the same :func:`bridge.sim.dispatcher.check` as
the real emulator and keeps the same delivery semantics where they matter to
the bridge: publish fires once the Hub has the message (faults come back as an
RS-ERROR on the sender's ``info`` callback), each client has ``message``,
``ack`` and ``info`` queues, messages wait until a consumer is there, acks are
manual (``Nack`` requeues with ``redelivered=True``, ``Drop``/``InboundError``
dead-letter into :attr:`InProcessHub.dead_letters`), prefetch is bounded.
Not modelled: the 24 h TTL and persistence across restarts (it is memory).
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from twisted.internet import defer

from bridge.app.clock import utc_now
from bridge.app.ports import Drop, Nack
from bridge.core.errors import BridgeError, InboundError, Issue
from bridge.edges.amqp.consumer import Delivery
from bridge.edges.amqp.errors import NotConnected
from bridge.edges.amqp.factory import CONNECTED, DISCONNECTED, STOPPED
from bridge.sim.dispatcher import Reject, Route, build_error_message, check, dead_letter_reject, encode_json
from bridge.sim.hub_emulator.convert import convert_route

log = structlog.get_logger(__name__)

QUEUE_KINDS = ("message", "ack", "info")
Handler = Callable[[Delivery], Any]
REQUEUE_DELAY = 0.5


@dataclass
class _Queue:
    name: str
    items: deque = field(default_factory=deque)  # (body, content_type, redelivered)
    handler: Handler | None = None
    prefetch: int = 10
    in_flight: int = 0


class InProcessHub:
    """The Hub's routing and checks, in memory, driven by the Twisted reactor."""

    def __init__(self, known_clients: Iterable[str], validate: Callable[[bytes], list[Issue]],
                 clock: Callable[[], datetime] = utc_now, *, reactor=None, hub_id: str = "fr.health.hub",
                 id_factory: Callable[[], str] = lambda: str(uuid.uuid4()),
                 formats: dict[str, str] | None = None) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.reactor = reactor
        self.validate = validate
        self.clock = clock
        self.hub_id = hub_id
        self.id_factory = id_factory
        self.formats = dict(formats or {})  # client ID -> content type it wants (the Hub's optional conversion)
        self.queues: dict[str, _Queue] = {}
        self.dead_letters: list[Delivery] = []
        self._tags = 0
        for client_id in known_clients:
            self.provision(client_id)

    @property
    def known_clients(self) -> set[str]:
        return {name.rsplit(".", 1)[0] for name in self.queues}

    def provision(self, client_id: str) -> None:
        """Create the three queues of ``client_id`` (idempotent)."""
        for kind in QUEUE_KINDS:
            self.queues.setdefault(f"{client_id}.{kind}", _Queue(f"{client_id}.{kind}"))

    def client(self, client_id: str, *, on_message: Handler | None = None, on_ack: Handler | None = None,
               on_info: Handler | None = None, prefetch: int = 10) -> InProcessHubClient:
        """A client bound to this hub (provisions ``client_id`` if needed)."""
        self.provision(client_id)
        return InProcessHubClient(self, client_id, on_message=on_message, on_ack=on_ack, on_info=on_info,
                                  prefetch=prefetch)

    # ------------------------------------------------------------------ routing

    def dispatch(self, body: bytes, *, content_type: str | None, routing_key: str,
                 delivery_mode: int | None = 2) -> None:
        """What the Hub does with one published message: route it or answer RS-ERROR."""
        result = check(body, content_type=content_type, routing_key=routing_key, delivery_mode=delivery_mode,
                       now=self.clock(), known_clients=self.known_clients, validate=self.validate)
        if isinstance(result, Route) and self.formats:
            converted = convert_route(result, content_type, self.formats)
            result, content_type = converted if isinstance(converted, tuple) else (converted, content_type)
        if isinstance(result, Reject):
            self._reject(result)
        else:
            self.enqueue(f"{result.recipient}.{result.queue_suffix}", result.body, content_type)

    def _reject(self, reject: Reject) -> None:
        log.info("hub_rejected", sender=reject.sender, code=int(reject.code), reason=reject.reason)
        message = build_error_message(reject, hub_id=self.hub_id, message_uuid=self.id_factory(), now=self.clock())
        if f"{reject.sender}.info" in self.queues:
            self.enqueue(f"{reject.sender}.info", encode_json(message), "application/json")
        else:
            log.warning("hub_error_unreportable", reason="the routing key names no client", routing_key=reject.sender)

    def enqueue(self, queue_name: str, body: bytes, content_type: str | None, redelivered: bool = False) -> None:
        queue = self.queues[queue_name]
        queue.items.append((body, content_type, redelivered))
        self.reactor.callLater(0, self._pump, queue)

    def _pump(self, queue: _Queue) -> None:
        while queue.handler is not None and queue.items and queue.in_flight < queue.prefetch:
            body, content_type, redelivered = queue.items.popleft()
            self._tags += 1
            delivery = Delivery(body=body, queue=queue.name, routing_key=queue.name, content_type=content_type,
                                delivery_mode=2, redelivered=redelivered, delivery_tag=self._tags,
                                exchange="distribution")
            queue.in_flight += 1
            d = defer.maybeDeferred(queue.handler, delivery)
            d.addCallbacks(lambda _r: None, self._failed, errbackArgs=(queue, delivery))
            d.addBoth(self._settled, queue)

    def _failed(self, failure, queue: _Queue, delivery: Delivery) -> None:
        if failure.check(Nack) or not (failure.check(Drop, InboundError) or delivery.redelivered):
            if not failure.check(Nack):
                log.error("hub_consumer_callback_failed", queue=queue.name, error=repr(failure.value))
            self.reactor.callLater(REQUEUE_DELAY, self.enqueue, queue.name, delivery.body, delivery.content_type, True)
        else:
            log.warning("hub_message_rejected", queue=queue.name, reason=str(failure.value))
            self.dead_letters.append(delivery)
            report = dead_letter_reject(delivery.body, content_type=delivery.content_type,
                                        reason=f"rejected in queue {queue.name}", hub_id=self.hub_id)
            if report is not None:
                self._reject(report)

    def _settled(self, _result, queue: _Queue) -> None:
        queue.in_flight -= 1
        # Next turn of the reactor, not now: a synchronous handler would otherwise
        # settle inside _pump's loop and recurse once per queued message.
        self.reactor.callLater(0, self._pump, queue)


class InProcessHubClient:
    """Same interface as ``HubClient``: ``start``, ``publish``, ``stop``, ``state``, callbacks."""

    def __init__(self, hub: InProcessHub, client_id: str, *, on_message: Handler | None, on_ack: Handler | None,
                 on_info: Handler | None, prefetch: int = 10) -> None:
        self.hub = hub
        self.client_id = client_id
        self.on_message, self.on_ack, self.on_info = on_message, on_ack, on_info
        self.prefetch = prefetch
        self.state = DISCONNECTED
        self._listeners: list[Callable[[str], None]] = []
        self._in_flight: set[defer.Deferred] = set()

    def add_state_listener(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    def _set_state(self, state: str) -> None:
        self.state = state
        for listener in list(self._listeners):
            listener(state)

    def queue(self, kind: str) -> str:
        return f"{self.client_id}.{kind}"

    def start(self) -> defer.Deferred:
        """Register the callbacks as consumers; fires at once (nothing to connect to)."""
        for kind, handler in (("message", self.on_message), ("ack", self.on_ack), ("info", self.on_info)):
            if handler is not None:
                queue = self.hub.queues[self.queue(kind)]
                queue.handler, queue.prefetch = self._tracked(handler), self.prefetch
                self.hub.reactor.callLater(0, self.hub._pump, queue)
        self._set_state(CONNECTED)
        return defer.succeed(self)

    def _tracked(self, handler: Handler) -> Handler:
        def run(delivery: Delivery):
            d = defer.maybeDeferred(handler, delivery)
            self._in_flight.add(d)
            d.addBoth(self._forget, d)
            return d
        return run

    def _forget(self, result, d):
        self._in_flight.discard(d)
        return result

    def publish(self, body: bytes, *, content_type: str | None = None, message_id: str | None = None,
                delivery_mode: int = 2) -> defer.Deferred:
        """Hand the message to the hub's dispatcher; fires when it has it (like a broker confirm)."""
        if self.state != CONNECTED:
            return defer.fail(NotConnected(f"{self.client_id}: not started ({self.state})"))
        try:
            self.hub.dispatch(body, content_type=content_type or "application/json", routing_key=self.client_id,
                              delivery_mode=delivery_mode)
        except BridgeError as exc:  # check() reports faults as Reject; this is a bug guard
            return defer.fail(exc)
        return defer.succeed(None)

    @defer.inlineCallbacks
    def stop(self):
        """Stop consuming and wait for in-flight callbacks; undelivered messages stay queued."""
        for kind in QUEUE_KINDS:
            queue = self.hub.queues[self.queue(kind)]
            queue.handler = None
        if self._in_flight:
            yield defer.DeferredList(list(self._in_flight), consumeErrors=True)
        self._set_state(STOPPED)

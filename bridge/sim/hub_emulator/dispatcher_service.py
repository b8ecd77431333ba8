"""The emulator's dispatcher: consume ``dispatch``, apply the Hub's checks, route or answer RS-ERROR.

It runs on its own privileged connection (PLAIN admin login on the loopback
port, or TLS). A routed message is republished unchanged (same content type,
persistent, confirmed, mandatory) on ``distribution`` with routing key
``{recipient}.message`` (``.ack`` for RC-REF, ``.info`` for a client's
RS-ERROR). A refused one gets an RS-ERROR on ``{routing key}.info``: the Hub
identifies the sender by the routing key it published with. The incoming
message is acked only after the outgoing one is confirmed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

import structlog
from twisted.internet import defer

from bridge.app.clock import utc_now
from bridge.app.ports import Nack
from bridge.core.errors import HubErrorCode
from bridge.edges.amqp.consumer import Consumer, Delivery
from bridge.edges.amqp.errors import PublishReturned
from bridge.edges.amqp.factory import ReconnectingSession
from bridge.edges.amqp.publisher import Publisher
from bridge.edges.amqp.settings import AmqpConnectionSettings
from bridge.sim.dispatcher import Reject, Route, build_error_message, check, dead_letter_reject, encode_json
from bridge.sim.hub_emulator.convert import convert_route
from bridge.sim.hub_emulator.schemas import Validator

log = structlog.get_logger(__name__)

HUB_ID = "fr.health.hub"


class DispatcherService:
    """Consumes ``dispatch`` in one vHost and applies :func:`bridge.sim.dispatcher.check`."""

    def __init__(self, settings: AmqpConnectionSettings, reactor, *, known_clients: Iterable[str],
                 validate: Validator, clock: Callable[[], datetime] = utc_now, hub_id: str = HUB_ID,
                 prefetch: int = 50, formats: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.reactor = reactor
        self.known_clients = set(known_clients)
        self.validate = validate
        self.clock = clock
        self.hub_id = hub_id
        self.prefetch = prefetch
        self.formats = dict(formats or {})  # client ID -> content type it wants (the Hub's optional conversion)
        self.session = ReconnectingSession(settings, reactor, self._setup, name="hub-dispatcher")
        self._publisher: Publisher | None = None
        self._consumers: list[Consumer] = []
        self.counts: dict[str, int] = {}

    def start(self) -> defer.Deferred:
        return self.session.start().addCallback(lambda _s: self)

    @defer.inlineCallbacks
    def _setup(self, connection):
        def lost(reason: str) -> None:
            self.session.reset(connection, reason)

        out = yield connection.channel()
        publisher = Publisher(out, "distribution", on_lost=lost)
        yield publisher.setup()
        inbound = yield connection.channel()
        consumer = Consumer(inbound, "dispatch", self.handle, prefetch=self.prefetch, on_lost=lost)
        dead = Consumer(inbound, "dispatch.dlq", self.handle_dead_letter, prefetch=self.prefetch, on_lost=lost)
        self._publisher = publisher
        yield consumer.start()
        yield dead.start()
        self._consumers = [consumer, dead]

    @defer.inlineCallbacks
    def handle(self, delivery: Delivery):
        """Check one published message; route it or answer the sender with an RS-ERROR."""
        result = check(delivery.body, content_type=delivery.content_type, routing_key=delivery.routing_key,
                       delivery_mode=delivery.delivery_mode, now=self.clock(), known_clients=self.known_clients,
                       validate=self.validate)
        content_type = delivery.content_type
        if isinstance(result, Route) and self.formats:
            converted = convert_route(result, content_type, self.formats)
            result, content_type = converted if isinstance(converted, tuple) else (converted, content_type)
        if isinstance(result, Route):
            try:
                yield self._route(result, content_type)
                return
            except PublishReturned:
                result = Reject(HubErrorCode.UNROUTABLE_MESSAGE, f"no queue for recipient {result.recipient!r}",
                                result.distribution_id, delivery.routing_key)
        yield self._reject(result)

    def _publisher_or_nack(self) -> Publisher:
        if self._publisher is None:
            raise Nack("dispatcher not connected")
        return self._publisher

    def _route(self, route: Route, content_type: str | None) -> defer.Deferred:
        self._count("routed")
        log.info("hub_routed", sender=route.sender, recipient=route.recipient, queue=route.queue_suffix,
                 distribution_id=route.distribution_id)
        return self._publisher_or_nack().publish(route.body, content_type=content_type,
                                                 routing_key=f"{route.recipient}.{route.queue_suffix}")

    @defer.inlineCallbacks
    def _reject(self, reject: Reject):
        self._count(str(int(reject.code)))
        log.info("hub_rejected", sender=reject.sender, code=int(reject.code), reason=reject.reason,
                 distribution_id=reject.referenced_distribution_id)
        message = build_error_message(reject, hub_id=self.hub_id, message_uuid=str(uuid.uuid4()), now=self.clock())
        try:
            yield self._publisher_or_nack().publish(encode_json(message), content_type="application/json",
                                                    routing_key=f"{reject.sender}.info")
        except PublishReturned:
            log.warning("hub_error_unreportable", reason="the routing key names no client", routing_key=reject.sender,
                        code=int(reject.code))

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    @defer.inlineCallbacks
    def handle_dead_letter(self, delivery: Delivery):
        """A message expired (24 h TTL) or was rejected in a client queue: tell its sender (500)."""
        death = (delivery.headers.get("x-death") or [{}])[0]
        reason = f"{death.get('reason', 'dead-lettered')} in queue {death.get('queue', '?')}"
        reject = dead_letter_reject(delivery.body, content_type=delivery.content_type, reason=reason,
                                    hub_id=self.hub_id)
        if reject is None:
            log.warning("hub_dead_letter_unreportable", reason=reason)
            return
        yield self._reject(reject)

    @defer.inlineCallbacks
    def stop(self):
        for consumer in self._consumers:
            yield consumer.stop()
        yield self.session.stop()

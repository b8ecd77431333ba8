"""The Hub client used by ``bridge run``: publish to ``hubsante``, consume our three queues.

Callback semantics (``on_message``, ``on_ack``, ``on_info``): each receives a
:class:`~bridge.edges.amqp.consumer.Delivery` and returns a value or a
Deferred; the message is acked when that succeeds. Raise
:class:`~bridge.edges.amqp.errors.Nack` to requeue, :class:`~bridge.edges.amqp.errors.Drop`
(or an ``InboundError``) to dead-letter. A queue whose callback is ``None`` is
not consumed. ``publish`` fires on the broker's confirm and errbacks with
``PublishReturned`` / ``PublishNacked`` / ``ConnectionLost`` / ``NotConnected``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import structlog
from pika.adapters.twisted_connection import TwistedProtocolConnection
from twisted.internet import defer

from bridge.edges.amqp import frames
from bridge.edges.amqp.consumer import ChannelAcks, Consumer, Delivery
from bridge.edges.amqp.errors import NotConnected
from bridge.edges.amqp.factory import CONNECTED, ReconnectingSession
from bridge.edges.amqp.publisher import Publisher
from bridge.edges.amqp.settings import HubClientSettings

log = structlog.get_logger(__name__)

Handler = Callable[[Delivery], Any]


class HubClient:
    """One client ID's link to the Hub (or to the emulator): TLS, EXTERNAL, passive declares only."""

    def __init__(self, settings: HubClientSettings, reactor=None, *, on_message: Handler | None = None,
                 on_ack: Handler | None = None, on_info: Handler | None = None,
                 stop_on_shutdown: bool = True) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.settings = settings
        self.reactor = reactor
        self.on_message, self.on_ack, self.on_info = on_message, on_ack, on_info
        self.stop_on_shutdown = stop_on_shutdown
        self.session = ReconnectingSession(settings, reactor, self._setup, name=settings.client_id)
        self._publisher: Publisher | None = None
        self._consumers: list[Consumer] = []
        self._shutdown_trigger = None
        self.content_frames: frames.ContentFrames | None = None  # the current connection's publish path

    @property
    def client_id(self) -> str:
        return self.settings.client_id

    @property
    def state(self) -> str:
        """``connecting`` / ``connected`` / ``disconnected`` / ``stopped`` / ``failed``."""
        return self.session.state

    def add_state_listener(self, listener: Callable[[str], None]) -> None:
        self.session.add_state_listener(listener)

    def queue(self, kind: str) -> str:
        return f"{self.client_id}.{kind}"

    def start(self) -> defer.Deferred:
        """Connect, check the topology (passive), register consumers; fires when all of that is done.

        Also registers ``stop`` as a before-shutdown trigger, so SIGTERM stops
        consuming, lets in-flight callbacks finish and ack, then closes.
        """
        if self.stop_on_shutdown and self._shutdown_trigger is None:
            self._shutdown_trigger = self.reactor.addSystemEventTrigger("before", "shutdown", self.stop)
        return self.session.start().addCallback(lambda _session: self)

    @defer.inlineCallbacks
    def _setup(self, connection: TwistedProtocolConnection):
        def lost(reason: str) -> None:
            self.session.reset(connection, reason)

        # a publish's three frames in one write (bridge/edges/amqp/frames.py), on this connection only
        self.content_frames = frames.install(getattr(connection, "_impl", None))
        publish_channel = yield connection.channel()
        yield publish_channel.exchange_declare(self.settings.exchange, passive=True)
        publisher = Publisher(publish_channel, self.settings.exchange, routing_key=self.client_id,
                              content_type=self.settings.content_type, on_lost=lost)
        yield publisher.setup()
        consumers = []
        handlers = {"message": self.on_message, "ack": self.on_ack, "info": self.on_info}
        if any(handlers.values()):
            consume_channel = yield connection.channel()
            acks = ChannelAcks(consume_channel, self.reactor)  # one per channel: delivery tags are per channel
            for kind, handler in handlers.items():
                if handler is None:
                    continue
                yield consume_channel.queue_declare(self.queue(kind), passive=True)
                consumer = Consumer(consume_channel, self.queue(kind), handler, prefetch=self.settings.prefetch,
                                    on_lost=lost, acks=acks)
                yield consumer.start()
                consumers.append(consumer)
        self._publisher, self._consumers = publisher, consumers

    def publish(self, body: bytes, *, content_type: str | None = None, message_id: str | None = None) -> defer.Deferred:
        """Publish to ``hubsante`` with routing key = our client ID; fires on broker confirm."""
        if self.session.state != CONNECTED or self._publisher is None:
            return defer.fail(NotConnected(f"{self.client_id}: not connected to the Hub ({self.session.state})"))
        return self._publisher.publish(body, content_type=content_type, message_id=message_id)

    @defer.inlineCallbacks
    def stop(self):
        """Stop consuming, wait for in-flight callbacks and confirms, close; bounded by shutdown_timeout."""
        if self._shutdown_trigger is not None:
            with contextlib.suppress(ValueError, KeyError):
                self.reactor.removeSystemEventTrigger(self._shutdown_trigger)
            self._shutdown_trigger = None
        work = defer.DeferredList([c.stop() for c in self._consumers], consumeErrors=True)
        pending = list(self._publisher.in_flight) if self._publisher else []
        if pending:
            work = defer.DeferredList([work, *pending], consumeErrors=True)
        work.addTimeout(self.settings.shutdown_timeout, self.reactor)
        try:
            yield work
        except defer.TimeoutError:
            log.warning("amqp_shutdown_timeout", reason="closing with work in flight; the broker will redeliver",
                        client=self.client_id)
        self._consumers, self._publisher = [], None
        yield self.session.stop()

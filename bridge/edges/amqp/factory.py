"""Keep one AMQP connection alive: reconnect with jittered exponential backoff.

A :class:`ReconnectingSession` connects, hands the connection to a setup
function (open channels, passive declares, consumers) and, when the
connection drops, waits ``min(max, initial * 2**n) * U(0.5, 1)`` seconds and
starts again. ``reconnect_attempts`` bounds the number of consecutive failures
(``None``: for ever, what a control-room service wants). The state
(``connecting``/``connected``/``disconnected``/``stopped``/``failed``) is
observable for metrics and ``/readyz``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import structlog
from pika.adapters.twisted_connection import TwistedProtocolConnection
from twisted.internet import defer

from bridge.edges.amqp.connection import connect, describe
from bridge.edges.amqp.errors import ConnectionFailed
from bridge.edges.amqp.settings import AmqpConnectionSettings

log = structlog.get_logger(__name__)

CONNECTING, CONNECTED, DISCONNECTED, STOPPED, FAILED = "connecting", "connected", "disconnected", "stopped", "failed"


def backoff_delay(attempt: int, initial: float, maximum: float, rng: Callable[[], float] = random.random) -> float:
    """Delay before retry number ``attempt`` (1-based): exponential, capped, with 'equal jitter'."""
    base = min(maximum, initial * (2 ** max(0, attempt - 1)))
    return base * (0.5 + 0.5 * rng())


class ReconnectingSession:
    """Connects, runs ``setup(connection)`` and reconnects when the link drops."""

    def __init__(self, settings: AmqpConnectionSettings, reactor,
                 setup: Callable[[TwistedProtocolConnection], Any], *, name: str = "amqp",
                 rng: Callable[[], float] = random.random) -> None:
        self.settings = settings
        self.reactor = reactor
        self.setup = setup
        self.name = name
        self.rng = rng
        self.connection: TwistedProtocolConnection | None = None
        self.state = DISCONNECTED
        self.last_error: str | None = None
        self._listeners: list[Callable[[str], None]] = []
        self._failures = 0
        self._retry = None
        self._first: defer.Deferred | None = None

    def add_state_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(state)`` on every state change."""
        self._listeners.append(listener)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            log.info("amqp_state", link=self.name, state=state, error=self.last_error)
            for listener in list(self._listeners):
                listener(state)

    def start(self) -> defer.Deferred:
        """Fires once the first connection is set up; errbacks if the attempts bound is reached."""
        self._first = defer.Deferred()
        self._attempt()
        return self._first

    def _attempt(self) -> None:
        self._retry = None
        if self.state == STOPPED:
            return
        self._set_state(CONNECTING)
        d = connect(self.settings, self.reactor)
        d.addCallback(self._connected)
        d.addErrback(self._failed)

    @defer.inlineCallbacks
    def _connected(self, connection: TwistedProtocolConnection):
        if self.state == STOPPED:  # stop() ran while we were connecting: open no consumer
            connection.close()
            return
        self.connection = connection
        try:
            yield defer.maybeDeferred(self.setup, connection)
        except Exception as exc:
            connection.close()
            raise ConnectionFailed(f"connected but setup failed: {describe(exc)}") from exc
        if self.state == STOPPED:
            connection.close()
            return
        self._failures = 0
        self.last_error = None
        connection.closed.addCallback(self._lost)
        self._set_state(CONNECTED)
        first, self._first = self._first, None
        if first is not None:
            first.callback(self)

    def _lost(self, reason) -> None:
        self.connection = None
        if self.state == STOPPED:
            return
        self.last_error = describe(reason) if isinstance(reason, BaseException) else str(reason)
        self._set_state(DISCONNECTED)
        self._schedule()

    def _failed(self, failure) -> None:
        self.last_error = str(failure.value)
        log.warning("amqp_connect_failed", link=self.name, error=self.last_error)
        if self.state == STOPPED:
            return
        self._set_state(DISCONNECTED)
        self._schedule()

    def _schedule(self) -> None:
        self._failures += 1
        bound = self.settings.reconnect_attempts
        if bound is not None and self._failures > bound:
            self._set_state(FAILED)
            first, self._first = self._first, None
            if first is not None:
                first.errback(ConnectionFailed(f"{self.name}: gave up after {self._failures} attempts: "
                                               f"{self.last_error}"))
            return
        delay = backoff_delay(self._failures, self.settings.reconnect_initial, self.settings.reconnect_max, self.rng)
        self._retry = self.reactor.callLater(delay, self._attempt)

    def reset(self, connection: TwistedProtocolConnection, reason: str) -> None:
        """A channel of ``connection`` died (consumer cancelled, channel error): close it to start afresh."""
        if connection is self.connection and connection.is_open and self.state == CONNECTED:
            log.warning("amqp_channel_lost", link=self.name, reason=reason)
            connection.close(reply_text=reason[:200])

    @defer.inlineCallbacks
    def stop(self):
        """Stop reconnecting and close the connection; fires when it is closed."""
        self._set_state(STOPPED)
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        first, self._first = self._first, None
        if first is not None:
            first.errback(ConnectionFailed(f"{self.name}: stopped before connecting"))
        connection, self.connection = self.connection, None
        if connection is not None and connection.is_open:
            closed = connection.closed
            connection.close()
            if closed is not None:
                yield closed

"""Errors of the AMQP edge: pika's exceptions, translated into the bridge's vocabulary."""

from __future__ import annotations

from bridge.core.errors import BridgeError


class AmqpError(BridgeError):
    """Something went wrong talking to the broker."""


class ConnectionFailed(AmqpError):
    """TCP, TLS or AMQP handshake failed (refused certificate, wrong vhost, unreachable)."""


class ConnectionLost(AmqpError):
    """The connection or channel closed while an operation was pending; retry later."""


class NotConnected(AmqpError):
    """``publish`` was called while the client is not connected; the outbox keeps the message."""


class PublishNacked(AmqpError):
    """The broker refused the message (Basic.Nack): it was not stored."""


class PublishReturned(AmqpError):
    """The broker could not route the message (``mandatory`` publish returned)."""

"""Durable outbox / inbox / dead-letter store (SQLite, WAL, ``synchronous=FULL``)."""

from bridge.app.records import (
    Attempt,
    DeadLetter,
    Message,
    MessageId,
    StoredEvent,
    StoreFull,
    StoreUnavailable,
    Translation,
    UnknownMessage,
)
from bridge.edges.store.sqlite import DEFAULT_MAX_PENDING, Store

__all__ = [
    "DEFAULT_MAX_PENDING",
    "Attempt",
    "DeadLetter",
    "Message",
    "MessageId",
    "Store",
    "StoreFull",
    "StoreUnavailable",
    "StoredEvent",
    "Translation",
    "UnknownMessage",
]

"""Durable outbox / inbox / dead-letter store (SQLite, WAL, ``synchronous=FULL``)."""

from bridge.app.records import (
    Attempt, DeadLetter, Message, MessageId, StoredEvent, StoreFull, StoreUnavailable, Translation,
    UnknownMessage,
)
from bridge.edges.store.sqlite import DEFAULT_MAX_PENDING, Store

__all__ = [
    "Attempt", "DeadLetter", "DEFAULT_MAX_PENDING", "Message", "MessageId", "Store", "StoredEvent",
    "StoreFull", "StoreUnavailable", "Translation", "UnknownMessage",
]

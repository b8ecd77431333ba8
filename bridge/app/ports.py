"""What the message life shares with the edges that carry it.

The edges (AMQP, SQLite, TCP, files) implement these; the service only knows
this vocabulary, so it never imports an edge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from twisted.internet import defer

from bridge.app.records import DeadLetter, MessageId, StoreFull, StoreUnavailable, Translation
from bridge.core.pipeline import HubPayload

__all__ = ["CaseResourceStore", "DeadLetterStore", "Drop", "FrameHandled", "HubDelivery", "HubPayload",
           "LegacyUnavailable", "Nack", "Scheduler", "StoreFull", "StoreUnavailable", "Translation"]


class Nack(Exception):
    """Raised by a consumer callback: put the message back in the queue (retry later)."""


class FrameHandled(defer.Deferred["bytes | None"]):
    """What ``on_legacy_frame`` returns: the reply to come, and at once whether the frame was a valid message.

    ``accepted`` is False when the frame was dead-lettered (it did not speak the
    profile). The TCP link uses it to decide which connection is the LRM and to
    cap the garbage one connection may send; other callers just wait for the reply.
    """

    accepted: bool = True


class LegacyUnavailable(Exception):
    """Raised by a legacy side's ``send``: no LRM can take it now (the message waits in the inbox)."""


class Drop(Exception):
    """Raised by a consumer callback: reject without requeue (the queue dead-letters it)."""


class Scheduler(Protocol):
    """The part of the reactor the service uses (``IReactorTime``; zope interfaces are opaque to mypy)."""

    def callLater(self, delay: float, callable: Callable[..., object], *args: object,
                  **kwargs: object) -> object: ...

    def seconds(self) -> float: ...


class HubDelivery(Protocol):
    """One message taken from a Hub queue (``bridge.edges.amqp.consumer.Delivery`` implements it)."""

    @property
    def body(self) -> bytes: ...

    @property
    def content_type(self) -> str | None: ...


class DeadLetterStore(Protocol):
    """The part of the store that dead-letter replay needs (``bridge.edges.store.Store`` implements it)."""

    def dlq_list(self, since: datetime | None = None, *, include_replayed: bool = False) -> list[DeadLetter]: ...

    def dlq_get(self, dlq_id: int) -> DeadLetter: ...

    def requeue_dead_letter(self, dlq_id: int, *, at: datetime,
                            translations: Sequence[Translation] = ()) -> MessageId: ...

    def note_replay_failed(self, dlq_id: int, *, error: str, at: datetime) -> None: ...

    def republish_window(self, t0: datetime, t1: datetime, *, at: datetime) -> list[MessageId]: ...


class CaseResourceStore(Protocol):
    """The part of the store a health LRM's status merge needs (``bridge.edges.store.Store`` implements it)."""

    def case_resource_messages(self, case_id: str, *, limit: int) -> list[tuple[bytes, str | None]]: ...

    def case_sent_messages(self, case_id: str, payload: str, *, limit: int) -> list[tuple[bytes, str | None]]: ...

"""Delivery state machine, retry schedule and per-case ordering rule (sans-IO).

The rules are data, as in h11's ``_state.py``: :data:`TRANSITIONS` maps
``(direction, state, event)`` to the next state, and anything not in the table
is refused by :func:`next_state` with an error naming the message, the state and
the event. The SQLite store (``bridge.edges.store``) applies these rules inside
one transaction per transition; nothing here reads the clock or a random
source: times and random draws are passed in so the schedule is testable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridge.core.errors import BridgeError

__all__ = [
    "IDEMPOTENT",
    "PENDING_OUTBOUND",
    "PURGEABLE",
    "TERMINAL",
    "TRANSITIONS",
    "Direction",
    "Event",
    "IllegalTransition",
    "Queued",
    "RetryPolicy",
    "State",
    "is_repeat",
    "next_state",
    "select_publishable",
]


class Direction(StrEnum):
    """Which way a message travels: ``out`` = legacy side to Hub, ``in`` = Hub to legacy side."""

    OUT = "out"
    IN = "in"


class State(StrEnum):
    """Where a message is in its life; stored as these lowercase strings."""

    RECEIVED = "received"          # original bytes stored (before the sender is acked)
    TRANSLATED = "translated"      # outbound: ready to publish / inbound: mapped for the legacy side
    PUBLISHED = "published"        # outbound: broker publisher confirm received
    DELIVERED = "delivered"        # outbound: RC-REF received from the recipient
    ANSWERED = "answered"          # outbound: functional reply received
    HANDED_OVER = "handed_over"    # inbound: given to the legacy side (LRM acked it)
    ACKED = "acked"                # inbound: our RC-REF sent back to the Hub
    FAILED = "failed"              # RS-ERROR, mapping error or rejection
    DEAD_LETTERED = "dead_lettered"  # parked in the dead-letter table, waits for an operator


class Event(StrEnum):
    """What happened to a message; each transition is recorded with its event name."""

    TRANSLATE = "translate"
    PUBLISH_FAILED = "publish_failed"  # retry scheduled, state unchanged
    CONFIRM = "confirm"
    RCREF = "rcref"
    ANSWER = "answer"
    HUB_ERROR = "hub_error"
    FAIL = "fail"
    GIVE_UP = "give_up"
    DEAD_LETTER = "dead_letter"
    REPUBLISH = "republish"            # replay of a published window, same distributionID
    REPLAY = "replay"                  # operator replay of a dead-lettered inbound message
    HAND_OVER = "hand_over"
    ACK = "ack"


_O, _I = Direction.OUT, Direction.IN
_S, _E = State, Event

#: (direction, from-state, event) -> to-state. Nothing else is allowed.
TRANSITIONS: dict[tuple[Direction, State, Event], State] = {
    # outbound: legacy side -> Hub
    (_O, _S.RECEIVED, _E.TRANSLATE): _S.TRANSLATED,
    (_O, _S.RECEIVED, _E.FAIL): _S.FAILED,
    (_O, _S.TRANSLATED, _E.PUBLISH_FAILED): _S.TRANSLATED,
    (_O, _S.TRANSLATED, _E.CONFIRM): _S.PUBLISHED,
    (_O, _S.TRANSLATED, _E.GIVE_UP): _S.DEAD_LETTERED,
    (_O, _S.TRANSLATED, _E.RCREF): _S.DELIVERED,      # RC-REF overtook the broker confirm
    (_O, _S.TRANSLATED, _E.HUB_ERROR): _S.FAILED,     # RS-ERROR overtook the broker confirm
    (_O, _S.TRANSLATED, _E.ANSWER): _S.ANSWERED,      # the reply overtook confirm and RC-REF both
    (_O, _S.TRANSLATED, _E.FAIL): _S.FAILED,
    (_O, _S.PUBLISHED, _E.RCREF): _S.DELIVERED,
    (_O, _S.PUBLISHED, _E.ANSWER): _S.ANSWERED,       # reply overtook the RC-REF
    (_O, _S.PUBLISHED, _E.HUB_ERROR): _S.FAILED,
    (_O, _S.PUBLISHED, _E.REPUBLISH): _S.TRANSLATED,
    (_O, _S.DELIVERED, _E.ANSWER): _S.ANSWERED,
    (_O, _S.DELIVERED, _E.HUB_ERROR): _S.FAILED,      # the peer received it, then refused it (7xx)
    (_O, _S.DELIVERED, _E.REPUBLISH): _S.TRANSLATED,
    (_O, _S.ANSWERED, _E.REPUBLISH): _S.TRANSLATED,
    (_O, _S.FAILED, _E.DEAD_LETTER): _S.DEAD_LETTERED,
    # inbound: Hub -> legacy side
    (_I, _S.RECEIVED, _E.TRANSLATE): _S.TRANSLATED,
    (_I, _S.RECEIVED, _E.HAND_OVER): _S.HANDED_OVER,
    (_I, _S.RECEIVED, _E.FAIL): _S.FAILED,
    (_I, _S.TRANSLATED, _E.HAND_OVER): _S.HANDED_OVER,
    (_I, _S.TRANSLATED, _E.FAIL): _S.FAILED,
    (_I, _S.HANDED_OVER, _E.ACK): _S.ACKED,
    (_I, _S.FAILED, _E.DEAD_LETTER): _S.DEAD_LETTERED,
    (_I, _S.DEAD_LETTERED, _E.REPLAY): _S.RECEIVED,
}

#: Events that may repeat harmlessly once their effect is reached (duplicate RC-REF...).
IDEMPOTENT: dict[tuple[Direction, Event], frozenset[State]] = {
    (_O, _E.RCREF): frozenset({_S.DELIVERED, _S.ANSWERED}),
    (_O, _E.ANSWER): frozenset({_S.ANSWERED}),
    (_O, _E.CONFIRM): frozenset({_S.PUBLISHED, _S.DELIVERED, _S.ANSWERED}),
    (_I, _E.HAND_OVER): frozenset({_S.HANDED_OVER, _S.ACKED}),
    (_I, _E.ACK): frozenset({_S.ACKED}),
}

#: States with no further automatic transition.
TERMINAL = frozenset({_S.DELIVERED, _S.ANSWERED, _S.ACKED, _S.FAILED, _S.DEAD_LETTERED})
#: Outbound states that count against the store's back-pressure limit.
PENDING_OUTBOUND = frozenset({_S.RECEIVED, _S.TRANSLATED})
#: States the retention purge may delete without an explicit "include failed".
PURGEABLE = frozenset({_S.DELIVERED, _S.ANSWERED, _S.ACKED})


class IllegalTransition(BridgeError):
    """A transition the table does not allow (a bug, a race or a peer out of sequence)."""


def next_state(direction: Direction, state: State, event: Event, *, message: object = "?") -> State:
    """The state after ``event``, or :class:`IllegalTransition` naming message, state and event."""
    try:
        return TRANSITIONS[(Direction(direction), State(state), Event(event))]
    except KeyError:
        raise IllegalTransition(
            f"message {message} ({direction}): event {event!s} is not allowed in state {state!s}"
        ) from None


def is_repeat(direction: Direction, state: State, event: Event) -> bool:
    """True when ``event`` was already applied (a duplicate RC-REF, a second confirm...)."""
    return State(state) in IDEMPOTENT.get((Direction(direction), Event(event)), frozenset())


class RetryPolicy(BaseModel):
    """Jittered exponential backoff with a bounded number of publish attempts.

    ``next_delay(attempt, rng_value)`` gives the wait in seconds after the
    ``attempt``-th failed attempt (1-based), or ``None`` when ``max_attempts``
    attempts have failed and the message must be dead-lettered. The jitter
    removes up to ``jitter`` of the delay ("equal jitter"), so retries of many
    messages after a Hub outage spread out instead of hitting it together.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base: float = Field(default=1.0, gt=0, description="first delay, seconds")
    factor: float = Field(default=2.0, ge=1.0)
    max_delay: float = Field(default=300.0, gt=0, description="cap on one delay, seconds")
    max_attempts: int = Field(default=8, ge=1, description="total publish attempts before dead-letter")
    jitter: float = Field(default=0.5, ge=0.0, le=1.0, description="fraction of the delay randomised")

    @model_validator(mode="after")
    def _cap_not_below_base(self) -> RetryPolicy:
        if self.max_delay < self.base:
            raise ValueError(f"max_delay ({self.max_delay}) must be >= base ({self.base})")
        return self

    def next_delay(self, attempt: int, rng_value: float) -> float | None:
        """Seconds to wait after failed attempt number ``attempt``; ``None`` means give up."""
        if attempt < 1:
            raise ValueError(f"attempt must be >= 1, got {attempt}")
        if not 0.0 <= rng_value <= 1.0:
            raise ValueError(f"rng_value must be in [0, 1], got {rng_value}")
        if attempt >= self.max_attempts:
            return None
        ceiling = min(self.max_delay, self.base * self.factor ** (attempt - 1))
        return ceiling * (1.0 - self.jitter * rng_value)


@dataclass(frozen=True, slots=True)
class Queued:
    """An outbound message waiting to be published (what the ordering rule needs)."""

    id: int
    case_id: str | None
    next_attempt_at: datetime | None = None


def select_publishable(
    queued: Sequence[Queued], *, now: datetime, in_flight: Iterable[int] = (), limit: int = 100
) -> list[int]:
    """Ids of queued messages that may be published now, oldest first.

    ``queued`` is in acceptance order. Per case only the oldest queued message is
    a candidate, and only if no message of that case is in flight and its retry
    time has come: an update never overtakes its predecessor, even while the
    predecessor waits for a retry. Messages without a case ID are independent.
    """
    busy = set(in_flight)
    blocked_cases: set[str] = {q.case_id for q in queued if q.id in busy and q.case_id is not None}
    chosen: list[int] = []
    for item in queued:
        if len(chosen) >= limit:
            break
        if item.case_id is not None:
            if item.case_id in blocked_cases:
                continue
            blocked_cases.add(item.case_id)  # later messages of this case wait for this one
        if item.id in busy:
            continue
        if item.next_attempt_at is None or item.next_attempt_at <= now:
            chosen.append(item.id)
    return chosen

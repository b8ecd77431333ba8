"""Delivery state machine, retry schedule and per-case ordering (sans-IO)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from bridge.core.delivery import (
    TRANSITIONS,
    Direction,
    Event,
    IllegalTransition,
    Queued,
    RetryPolicy,
    State,
    is_repeat,
    next_state,
    select_publishable,
)

NOW = datetime(2026, 5, 18, 16, 15, tzinfo=UTC)


class TestTransitions:
    @pytest.mark.parametrize(("key", "target"), sorted(TRANSITIONS.items()), ids=lambda v: str(v))
    def test_every_listed_transition_is_allowed(self, key, target):
        """Each entry of the table is what next_state returns."""
        direction, state, event = key
        assert next_state(direction, state, event) == target

    def test_unlisted_transitions_are_refused(self):
        """Every (direction, state, event) triple outside the table raises IllegalTransition."""
        refused = 0
        for direction in Direction:
            for state in State:
                for event in Event:
                    if (direction, state, event) in TRANSITIONS:
                        continue
                    with pytest.raises(IllegalTransition):
                        next_state(direction, state, event)
                    refused += 1
        assert refused > 100

    def test_refusal_names_message_state_and_event(self):
        """The error says which message, which state and which event."""
        with pytest.raises(IllegalTransition) as caught:
            next_state(Direction.OUT, State.DEAD_LETTERED, Event.CONFIRM, message=42)
        text = str(caught.value)
        assert "42" in text and "dead_lettered" in text and "confirm" in text

    def test_outbound_happy_path(self):
        """received -> translated -> published -> delivered -> answered."""
        state = State.RECEIVED
        for event in (Event.TRANSLATE, Event.CONFIRM, Event.RCREF, Event.ANSWER):
            state = next_state(Direction.OUT, state, event)
        assert state is State.ANSWERED

    def test_inbound_happy_path(self):
        """received -> translated -> handed over -> acked."""
        state = State.RECEIVED
        for event in (Event.TRANSLATE, Event.HAND_OVER, Event.ACK):
            state = next_state(Direction.IN, state, event)
        assert state is State.ACKED

    def test_inbound_cannot_be_published(self):
        """Outbound-only events are refused on inbound messages."""
        with pytest.raises(IllegalTransition):
            next_state(Direction.IN, State.TRANSLATED, Event.CONFIRM)

    def test_duplicate_rcref_is_a_repeat_not_an_error(self):
        """A second RC-REF on a delivered message is recognised as a repeat."""
        assert is_repeat(Direction.OUT, State.DELIVERED, Event.RCREF)
        assert not is_repeat(Direction.OUT, State.PUBLISHED, Event.RCREF)


class TestRetryPolicy:
    def test_delays_grow_exponentially_without_jitter(self):
        """With jitter 0 the delays are base * factor**(n-1)."""
        policy = RetryPolicy(base=1, factor=2, max_delay=100, max_attempts=5, jitter=0)
        assert [policy.next_delay(n, 0.7) for n in range(1, 5)] == [1, 2, 4, 8]

    def test_delay_is_capped(self):
        """No delay exceeds max_delay."""
        policy = RetryPolicy(base=10, factor=10, max_delay=60, max_attempts=10, jitter=0)
        assert policy.next_delay(5, 0.0) == 60

    def test_attempts_are_bounded(self):
        """After max_attempts failures the policy gives up (None)."""
        policy = RetryPolicy(max_attempts=3)
        assert policy.next_delay(2, 0.5) is not None
        assert policy.next_delay(3, 0.5) is None

    @pytest.mark.parametrize("rng", [0.0, 0.25, 0.5, 1.0])
    def test_jitter_stays_within_its_fraction(self, rng):
        """Jitter removes at most `jitter` of the nominal delay."""
        policy = RetryPolicy(base=8, factor=1, max_delay=8, max_attempts=4, jitter=0.5)
        delay = policy.next_delay(1, rng)
        assert 4.0 <= delay <= 8.0
        assert delay == pytest.approx(8 * (1 - 0.5 * rng))

    def test_bad_parameters_are_refused(self):
        """Nonsense policies fail at construction, naming the field."""
        with pytest.raises(ValidationError, match="max_delay"):
            RetryPolicy(base=10, max_delay=1)
        with pytest.raises(ValidationError, match="jitter"):
            RetryPolicy(jitter=2)

    def test_bad_arguments_are_refused(self):
        """Attempt numbers start at 1 and the random draw is in [0, 1]."""
        with pytest.raises(ValueError):
            RetryPolicy().next_delay(0, 0.5)
        with pytest.raises(ValueError):
            RetryPolicy().next_delay(1, 1.5)


class TestSelectPublishable:
    def test_one_message_per_case_oldest_first(self):
        """Only the oldest queued message of a case is eligible."""
        queued = [Queued(1, "A"), Queued(2, "A"), Queued(3, "B"), Queued(4, None), Queued(5, None)]
        assert select_publishable(queued, now=NOW) == [1, 3, 4, 5]

    def test_in_flight_blocks_its_case(self):
        """While a case has a message in flight, its successors wait."""
        queued = [Queued(1, "A"), Queued(2, "A"), Queued(3, "B")]
        assert select_publishable(queued, now=NOW, in_flight={1}) == [3]

    def test_retry_wait_blocks_successors(self):
        """A head waiting for its retry time holds back later updates of the same case."""
        later = NOW + timedelta(seconds=30)
        queued = [Queued(1, "A", later), Queued(2, "A"), Queued(3, "B", later), Queued(4, "C")]
        assert select_publishable(queued, now=NOW) == [4]
        assert select_publishable(queued, now=later) == [1, 3, 4]

    def test_limit_is_respected(self):
        """No more than `limit` ids are returned."""
        queued = [Queued(i, None) for i in range(10)]
        assert select_publishable(queued, now=NOW, limit=3) == [0, 1, 2]


def test_answer_overtaking_confirm_and_rcref_is_recorded():
    """An EMSI answer that arrives before the request's confirm is recorded still marks it answered."""
    assert next_state(Direction.OUT, State.TRANSLATED, Event.ANSWER) == State.ANSWERED

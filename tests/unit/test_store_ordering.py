"""Property: whatever the mix of arrivals, publish failures and retries, a case's updates go out in order."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.core.delivery import RetryPolicy, State
from bridge.edges.store import Store, Translation

T0 = datetime(2026, 5, 18, tzinfo=UTC)
POLICY = RetryPolicy(base=1, factor=2, max_delay=4, max_attempts=4, jitter=0.5)

# One step of the simulated bridge: a frame arrives for a case, or the publisher
# runs once with a script of broker outcomes (True = confirm, False = nack).
arrival = st.tuples(st.just("arrive"), st.sampled_from(["A", "B", "C", None]))
pump = st.tuples(st.just("pump"), st.lists(st.booleans(), min_size=1, max_size=4))
tick = st.tuples(st.just("tick"), st.integers(min_value=1, max_value=5))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(arrival, pump, tick), min_size=1, max_size=40), st.floats(0, 1))
def test_per_case_publish_order_is_arrival_order(steps, rng_value):
    """Confirmed publishes of one case follow acceptance order; nothing is lost or published twice."""
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "s.db", max_pending=1000) as store:
        now, confirmed, accepted = T0, [], []
        for kind, arg in steps:
            if kind == "arrive":
                message_id = store.accept_outbound(b"f", adapter="a", profile=None, received_at=now)
                store.record_translated(message_id, Translation(b"{}", f"d{message_id}", arg), at=now)
                accepted.append((message_id, arg))
            elif kind == "tick":
                now += timedelta(seconds=arg)
            else:
                outcomes = iter(arg)
                for msg in store.next_publishable(now, limit=len(arg)):
                    if next(outcomes, True):
                        store.mark_published(msg.id, at=now)
                        confirmed.append((msg.id, msg.case_id))
                    else:
                        store.mark_publish_failed(msg.id, error="nack", now=now, policy=POLICY, rng_value=rng_value)
        for case in ("A", "B", "C"):
            ids = [i for i, c in confirmed if c == case]
            assert ids == sorted(ids)
        assert len({i for i, _ in confirmed}) == len(confirmed)
        for message_id, _ in accepted:
            state = store.get(message_id).state
            assert state in {State.TRANSLATED, State.PUBLISHED, State.DEAD_LETTERED}
        assert store.dlq_size() == sum(store.get(i).state is State.DEAD_LETTERED for i, _ in accepted)

"""Memory stays bounded: hundreds of hostile inputs (some over 1 MiB) leave no trace in the heap."""

from __future__ import annotations

import gc
import os
import random
import tracemalloc

import pytest

from bridge.testing.hostile import BAD_OUTCOMES
from bridge.testing.hostile_cases import (
    json_attack_cases,
    legacy_attack_cases,
    random_hub_cases,
    random_legacy_cases,
    xml_attack_cases,
)

GROWTH_BOUND = 1024 * 1024  # a leak of the hostile bodies alone would be several MiB


def _round(campaign, tmp_path, rng, first: int):
    cases = (xml_attack_cases(tmp_path) + json_attack_cases(first) + legacy_attack_cases(first + 50)
             + list(random_hub_cases(rng, 20, first + 100)) + list(random_legacy_cases(rng, 20, first + 200)))
    # keep only the judgement: a Verdict holds its case, and some cases hold 2 MiB of bytes
    results = [(v.outcome, v.good_message_ok) for v in map(campaign.feed, cases)]
    campaign.rig.forget_test_records()  # what the fake LRM and NexSIS recorded is not the bridge's memory
    return results


def test_heap_does_not_grow_with_hostile_inputs(campaign, tmp_path):
    """After a warm-up round, two more rounds of hostile inputs grow the traced heap by less than 1 MiB."""
    rng = random.Random(6)
    _round(campaign, tmp_path, rng, 10_000)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        verdicts = []
        for n in range(2):
            verdicts += _round(campaign, tmp_path, rng, 20_000 + 1000 * n)
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert len(verdicts) > 150
    assert not [(outcome, good) for outcome, good in verdicts if outcome in BAD_OUTCOMES or not good]
    assert growth < GROWTH_BOUND, f"heap grew by {growth} bytes over {len(verdicts)} hostile inputs"


@pytest.mark.skipif(not os.environ.get("HUB_BRIDGE_CAMPAIGN"),
                    reason="full-size campaign: set HUB_BRIDGE_CAMPAIGN=N (cases per generator) or run "
                           "benchmarks/hostile.py")
def test_full_size_campaign(campaign):
    """Thousands of generated cases: no crash, no unclear dead letter, no lost good message."""
    rng = random.Random(int(os.environ.get("HUB_BRIDGE_CAMPAIGN_SEED", "1")))
    count = int(os.environ["HUB_BRIDGE_CAMPAIGN"])
    tally = campaign.run([*random_hub_cases(rng, count, 100_000), *random_legacy_cases(rng, count, 200_000)])
    assert tally.bad == 0 and tally.lost_good == 0

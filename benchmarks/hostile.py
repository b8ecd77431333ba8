"""The full-size hostile-input campaign: thousands of bad inputs through the real service entry points.

Every case goes through ``on_hub_message`` (as the AMQP consumer delivers it),
``on_legacy_frame`` or the legacy deframer (``on_legacy_garbage`` for what it
refuses), on the deterministic rig (real service, real SQLite store, in-process
Hub, simulated NexSIS peer, fake clock). After each case a good frame must go
end to end (acked, stored, published, RC-REF'd). Prints cases per category and
outcome, the heap growth (tracemalloc, after a warm-up) and the peak RSS.

Run: ``.venv/bin/python benchmarks/hostile.py [--n 1000] [--seed 1] [--budget 1.0] [--reference ../shared/hub-reference]``
(``--n`` random cases per generator; ``--budget`` seconds one input may take
before it counts as hung; exit status 1 if anything crashed, hung, was accepted
wrongly, was lost, was parked without a clear error, or a good message did not get
through). ``--trust-only`` runs just issue 12's classes (Hub peers, hand-over,
numbers, XML shapes, STX runs, dates, file drop, HTTP, legacy TCP) and prints the
per-class table: tried / refused cleanly / taken (valid) / crashed / hung /
accepted wrongly / lost.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import structlog

from bridge.testing.hostile import BAD_OUTCOMES, JSON, REFUSED_CLEANLY, TAKEN, Campaign, Case, Outcome, Tally
from bridge.testing.hostile_cases import (
    all_fixed_cases,
    json_attack_cases,
    legacy_xml_attack_cases,
    mutate,
    random_ack_info_cases,
    random_hub_cases,
    random_json_documents,
    random_legacy_cases,
    random_stream_cases,
    trust_cases,
    xml_attack_cases,
)
from bridge.testing.rig import Rig

PROJECT = Path(__file__).resolve().parent.parent
OTHER_DIALECTS = ("lrm-alpha-xml", "lrm-beta-text", "lrm-beta-xml")


def _random_json_cases(rng: random.Random, count: int):
    import json

    for _ in range(count):
        document = {key: random_json_documents(rng) for key in rng.sample(
            ["distributionID", "senderID", "content", "descriptor", "dateTimeSent", "x"], rng.randrange(1, 6))}
        yield Case("generated-json", json.dumps(document).encode(), "hub", JSON)


def _on_ack_and_info_queues(work: Path):
    """The hand-written XML and JSON attacks again, on the RC-REF and RS-ERROR queues."""
    for entry in ("hub-ack", "hub-info"):
        for case in xml_attack_cases(work) + json_attack_cases(900_000):
            yield Case("attacks on ack/info queues", case.data, entry, case.content_type, case.name)


def _feed_all(campaign: Campaign, cases, tally: Tally, record_heap: bool) -> None:
    for i, case in enumerate(cases):
        tally.add(campaign.feed(case))
        if i % 200 == 199:
            campaign.rig.forget_test_records()
            if record_heap:
                gc.collect()


def run_trust(budget: float, work: Path, rounds: int = 1) -> int:
    """Issue 12's classes only, ``rounds`` times each (fresh case numbers each round)."""
    tally = Tally()
    started = time.perf_counter()
    rig = Rig(work / "trust", max_pending=1_000_000)
    campaign = Campaign(rig, hung_after=budget)
    for r in range(rounds):
        _feed_all(campaign, trust_cases(2000 + 100 * r), tally, False)
    campaign.close()
    rig.close()
    _trust_report(tally, budget, time.perf_counter() - started)
    return 1 if tally.bad or tally.lost_good else 0


def _trust_report(tally: Tally, budget: float, seconds: float) -> None:
    columns = [("refused cleanly", REFUSED_CLEANLY), ("taken (valid)", TAKEN), ("crashed", {Outcome.CRASHED}),
               ("hung", {Outcome.HUNG}), ("accepted wrongly", {Outcome.ACCEPTED_WRONGLY}),
               ("lost", {Outcome.LOST, Outcome.UNCLEAR})]
    total = sum(tally.counts.values())
    print(f"issue-12 classes: {total} cases in {seconds:.1f} s, budget {budget} s per input, "
          "each followed by a good frame end to end\n")
    print("| class | tried | " + " | ".join(name for name, _ in columns) + " | slowest input (s) |")
    print("|---|---:|" + "---:|" * len(columns) + "---:|")
    for category in dict.fromkeys(category for category, _ in tally.counts):
        row = [sum(c for (cat, o), c in tally.counts.items() if cat == category and o in outcomes)
               for _, outcomes in columns]
        tried = sum(c for (cat, _), c in tally.counts.items() if cat == category)
        print(f"| {category} | {tried} | " + " | ".join(str(v) for v in row)
              + f" | {tally.slowest.get(category, 0.0):.2f} |")
    print(f"\ngood messages not delivered after a hostile input: {tally.lost_good} (must be 0)")
    for (category, outcome), detail in tally.examples.items():
        if outcome in BAD_OUTCOMES:
            print(f"  BAD {category} {outcome.name}: {detail}")


def run(n: int, seed: int, reference: Path | None, work: Path, budget: float | None = None) -> int:
    rng = random.Random(seed)
    tally = Tally()
    started = time.perf_counter()
    text_rig = Rig(work / "text", max_pending=1_000_000)
    campaign = Campaign(text_rig, hung_after=budget)
    _feed_all(campaign, all_fixed_cases(work, reference, text_rig.profile.max_frame), tally, False)  # warm-up too
    _feed_all(campaign, trust_cases(), tally, False)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    _feed_all(campaign, random_hub_cases(rng, n, 100_000), tally, True)
    _feed_all(campaign, _random_json_cases(rng, n), tally, True)
    _feed_all(campaign, random_legacy_cases(rng, n, 200_000), tally, True)
    _feed_all(campaign, random_stream_cases(rng, n // 2, 300_000, text_rig.profile.max_frame), tally, True)
    _feed_all(campaign, random_ack_info_cases(rng, n // 2), tally, True)
    _feed_all(campaign, _on_ack_and_info_queues(work), tally, True)
    campaign.rig.forget_test_records()
    campaign.close()
    gc.collect()
    growth, peak = tracemalloc.get_traced_memory()[0] - base, tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    text_rig.close()
    for profile in OTHER_DIALECTS:
        rig = Rig(work / profile, profile=profile, max_pending=1_000_000)
        dialect = Campaign(rig)
        if profile == "lrm-alpha-xml":
            _feed_all(dialect, legacy_xml_attack_cases(dialect.good_frame_bytes(1), work), tally, False)
        _feed_all(dialect, (Case("mutated sheets, other dialects", mutate(dialect.good_frame_bytes(10 + i), rng),
                                 "legacy", None) for i in range(n // 4)), tally, False)
        rig.close()
    seconds = time.perf_counter() - started
    _report(tally, n, seed, seconds, growth, peak)
    return 1 if tally.bad or tally.lost_good else 0


def _report(tally: Tally, n: int, seed: int, seconds: float, growth: int, peak: int) -> None:
    categories = sorted({category for category, _ in tally.counts})
    outcomes = list(Outcome)  # every column, so the zeros (crashed, lost...) are printed too
    total = sum(tally.counts.values())
    print(f"hostile-input campaign: --n {n} --seed {seed}: {total} cases in {seconds:.1f} s "
          f"({total / seconds:.0f} cases/s, each followed by a good frame end to end)\n")
    short = {o: o.name.lower().replace("_", " ") for o in outcomes}
    print(f"| category | cases | {' | '.join(short[o] for o in outcomes)} |")
    print("|---|---:|" + "---:|" * len(outcomes))
    per_category = Counter()
    for (category, _), count in tally.counts.items():
        per_category[category] += count
    for category in categories:
        cells = " | ".join(str(tally.counts.get((category, o), 0) or "") for o in outcomes)
        print(f"| {category} | {per_category[category]} | {cells} |")
    sums = " | ".join(str(sum(c for (_, o), c in tally.counts.items() if o is outcome)) for outcome in outcomes)
    print(f"| **total** | **{total}** | {sums} |\n")
    print(f"crashed / hung / accepted wrongly / unclear / lost hostile inputs: {tally.bad} (must be 0)")
    print(f"good messages not delivered after a hostile input: {tally.lost_good} (must be 0)")
    answers = sum(tally.answer_dead_letters.values())
    print(f"replies to accepted legacy inputs dead-lettered on their way back to the LRM: {answers}")
    for error, count in tally.answer_dead_letters.most_common(3):
        print(f"  {count} x {error}")
    print(f"heap growth over the random part (tracemalloc, after warm-up): {growth / 1024:.0f} KiB; "
          f"peak above start {peak / 1024 / 1024:.1f} MiB")
    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    bad = [(key, detail) for key, detail in tally.examples.items() if key[1] in BAD_OUTCOMES]
    for (category, outcome), detail in bad:
        print(f"  BAD {category} {outcome.name}: {detail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="random cases per generator (default 1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=float, default=1.0,
                        help="seconds one input may take before it counts as hung (default 1.0)")
    parser.add_argument("--trust-only", action="store_true", help="only issue 12's classes, with their table")
    parser.add_argument("--rounds", type=int, default=1, help="with --trust-only: how many times each case")
    parser.add_argument("--reference", type=Path, default=PROJECT.parent / "shared" / "hub-reference",
                        help="official corpus (its failing/ folder is fed too, when present)")
    args = parser.parse_args(argv)
    structlog.configure(logger_factory=structlog.ReturnLoggerFactory())  # thousands of warnings: keep quiet
    reference = args.reference if (args.reference / "failing").is_dir() else None
    if reference is None:
        print(f"(official corpus not found at {args.reference}: failing/ samples skipped)", file=sys.stderr)
    with tempfile.TemporaryDirectory() as work:
        if args.trust_only:
            return run_trust(args.budget, Path(work), args.rounds)
        return run(args.n, args.seed, reference, Path(work), args.budget)


if __name__ == "__main__":
    sys.exit(main())

"""Health <-> CISU conversion rate on one core, output validated: RS-EDA -> RC-EDA and RC-EDA -> RS-EDA.

Usage: .venv/bin/python benchmarks/convert.py [--seconds 5] [--reference ../shared/hub-reference] [--json]

Each direction cycles over the official examples of its source type (``examples/RS-EDA/*.json``,
``examples/RC-EDA/*.json``): bytes in -> adapter decode -> canonical case (-> confidentiality table
towards the fire side) -> adapter encode -> bytes out, then the output is validated against the
official JSON Schema of its type by the same compiled validator as the service's hot path
(``Bundle.json_validator(...)``: fastjsonschema, ``bridge/core/validation.py``) through the
pipeline's ``validator`` hook. An invalid output stops the run. Rates are per CPU-second of this
process pinned to one core (so a shared machine does not understate them); the wall-clock rate is
printed too. ``--json``: the last line is one JSON object with both rates.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from pathlib import Path

from bridge.core.pipeline import translate
from bridge.refdata.bundle import load_bundle
from bridge.refdata.profiles import build_context

ROOT = Path(__file__).resolve().parents[1]
DIRECTIONS = (
    ("rs-eda->rc-eda", "RS-EDA", "rs-eda-json", "rc-eda-json", "fr.health.samu440", "fr.fire.nexsis.sdis44"),
    ("rc-eda->rs-eda", "RC-EDA", "rc-eda-json", "rs-eda-json", "fr.fire.nexsis.sdis44", "fr.health.samu440"),
)


def run(reference: Path, seconds: float) -> dict[str, dict[str, float]]:
    """Both directions' figures: messages, cpu and wall seconds, rates."""
    bundle = load_bundle(reference)

    def validator(name: str, payload: dict) -> list:
        return bundle.json_validator(name).issues(payload, f"/{name}")

    results = {}
    for label, folder, source, target, sender, recipient in DIRECTIONS:
        counter = itertools.count()
        ctx = build_context(nomenclature_dir=reference / "nomenclatures", schemas=reference, sender_id=sender,
                            recipient_id=recipient, new_id=lambda counter=counter: f"id-{next(counter)}")
        messages = [path.read_bytes() for path in sorted((reference / "examples" / folder).glob("*.json"))]
        if not messages:
            raise SystemExit(f"no examples in {reference / 'examples' / folder}")
        cycle = itertools.cycle(messages)

        def one(cycle=cycle, source=source, target=target, ctx=ctx) -> None:
            translate(next(cycle), source=source, target=target, ctx=ctx, validator=validator)

        for _ in range(100):
            one()
        count, start, wall = 0, time.process_time(), time.perf_counter()
        while time.process_time() - start < seconds:
            for _ in range(50):
                one()
            count += 50
        cpu, wall = time.process_time() - start, time.perf_counter() - wall
        results[label] = {"examples": len(messages), "messages": count, "cpu_seconds": round(cpu, 3),
                          "wall_seconds": round(wall, 3), "rate_per_core": round(count / cpu, 1),
                          "wall_rate": round(count / wall, 1)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="CPU seconds per direction")
    parser.add_argument("--reference", type=Path, default=ROOT.parent / "shared" / "hub-reference")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of both directions' figures")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    results = run(args.reference, args.seconds)
    for label, figures in results.items():
        print(f"{label}: {figures['messages']} conversions of {figures['examples']} official examples, "
              f"cpu={figures['cpu_seconds']:.2f}s wall={figures['wall_seconds']:.2f}s "
              f"rate={figures['rate_per_core']:,.0f} conversions/s per core (cpu time; wall-clock "
              f"{figures['wall_rate']:,.0f}/s) [output validated against the official JSON Schema, fastjsonschema]")
    if args.json:
        print(json.dumps({label: figures["rate_per_core"] for label, figures in results.items()}))


if __name__ == "__main__":
    main()

"""Throughput of the translation pipeline on one core: legacy -> RC-EDA JSON, schema-validated.

Usage: .venv/bin/python benchmarks/translate.py [--seconds 5] [--profile lrm-alpha-text]
                                                 [--reference ../shared/hub-reference]

Rates are per CPU-second of this process (one core), so a busy shared machine does not
understate them; the wall-clock rate is printed too. Each message is the golden "normal" message of the profile: decoded (encoding, fields,
mapping tables), encoded to a createCase JSON document, then validated against the
official RC-EDA JSON Schema (fastjsonschema, the hot-path validator). Prints messages/s.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from decimal import Decimal
from pathlib import Path

import fastjsonschema
import simplejson

from bridge.core.pipeline import translate
from bridge.refdata.profiles import build_context, load_profile

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--profile", default="lrm-alpha-text")
    parser.add_argument("--reference", type=Path, default=ROOT.parent / "shared" / "hub-reference")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    profile = load_profile(args.profile)
    counter = itertools.count()
    ctx = build_context(nomenclature_dir=args.reference / "nomenclatures", profile=args.profile,
                        new_id=lambda: f"id-{next(counter)}", sender_id="fr.health.samu440")
    schema = json.loads((args.reference / "json-schema" / "RC-EDA.schema.json").read_text())
    check = fastjsonschema.compile(schema)
    suffix = ".xml" if profile.adapter == "legacy-xml" else ".txt"
    message = (ROOT / "tests" / "golden" / args.profile / f"normal{suffix}").read_bytes()

    def one() -> None:
        result = translate(message, source=profile.adapter, target="rc-eda-json", ctx=ctx)
        check(simplejson.loads(result.data, parse_float=Decimal)["createCase"])

    for _ in range(200):
        one()
    # CPU time of this process, not wall time: the rate of one core even on a shared machine.
    count, start, wall = 0, time.process_time(), time.perf_counter()
    while time.process_time() - start < args.seconds:
        for _ in range(100):
            one()
        count += 100
    cpu, wall = time.process_time() - start, time.perf_counter() - wall
    print(f"profile={args.profile} message={len(message)} bytes messages={count} cpu={cpu:.2f}s wall={wall:.2f}s "
          f"rate={count / cpu:,.0f} msg/s per core (cpu time; wall-clock rate {count / wall:,.0f}) "
          f"[{profile.adapter} -> RC-EDA JSON + official schema validation]")


if __name__ == "__main__":
    main()

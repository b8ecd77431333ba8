"""Health <-> CISU conversion rate on one core, output validated: RS-EDA -> RC-EDA and RC-EDA -> RS-EDA.

Usage: .venv/bin/python benchmarks/convert.py [--seconds 3] [--rounds 3] [--parts] [--reference DIR] [--json]

Each direction cycles over the official examples of its source type (``examples/RS-EDA/*.json``,
``examples/RC-EDA/*.json``) through :func:`bridge.core.pipeline.translate`, the function
``bridge translate F --from rs-eda-json --to rc-eda-json`` runs: bytes in -> strict JSON read ->
the input checked against its official JSON Schema (RC-EDA; see docs/performance.md for RS-EDA) ->
adapter decode -> canonical case (-> confidentiality table towards the fire side, one declared drop
per withheld value) -> adapter encode (declared drops of what it did not read) -> bytes out, and the
output validated against the official JSON Schema of its type by the same compiled validator as the
service's hot path (``Bundle.json_validator(...)``: jsonschema-rs, then fastjsonschema on a no, ``bridge/core/validation.py``)
through the pipeline's ``validator`` hook. An invalid output stops the run.

Rates are per CPU-second (``time.process_time``) of this process pinned to one core, so other jobs on a
shared machine do not understate them; the directions alternate, ``--rounds`` times, and the best round
of each is kept (a shared machine still inflates CPU time through cache and core sharing). The
wall-clock rate of the best round is printed too. ``--parts``: where the time of one message goes,
step by step, measured inside the same loop (the steps of ``translate`` run one by one with a CPU-time
stamp between them; the run checks they give ``translate``'s bytes). ``--json``: the last line is one
JSON object with both rates. With ``--parts`` a "floor" is measured too: the strict read of the input,
its JSON Schema check, the write of the output and its validation alone, in a loop of their own: what
no change to the mapping can remove.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.core import confidentiality
from bridge.core.adapters.base import AdapterContext
from bridge.core.adapters.hubjson import dump_document
from bridge.core.adapters.registry import get_adapter
from bridge.core.jsonstrict import loads_strict
from bridge.core.pipeline import HUB_PAYLOAD_OF, Validator, to_fire_side, translate
from bridge.refdata.bundle import load_bundle
from bridge.refdata.profiles import build_context

ROOT = Path(__file__).resolve().parents[1]
DIRECTIONS = (
    ("rs-eda->rc-eda", "RS-EDA", "rs-eda-json", "rc-eda-json", "fr.health.samu440", "fr.fire.nexsis.sdis44"),
    ("rc-eda->rs-eda", "RC-EDA", "rc-eda-json", "rs-eda-json", "fr.fire.nexsis.sdis44", "fr.health.samu440"),
)
PARTS = ("decode (strict read, input schema check, mapping)", "confidentiality", "encode (dict, drops, bytes)",
         "output validation", "pipeline and result")


class Direction:
    """One direction's adapters, context and examples."""

    def __init__(self, reference: Path, label: str, folder: str, source: str, target: str, sender: str,
                 recipient: str, validator: Validator) -> None:
        counter = itertools.count()
        self.label, self.source, self.target, self.validator = label, source, target, validator
        self.ctx: AdapterContext = build_context(
            nomenclature_dir=reference / "nomenclatures", schemas=reference, sender_id=sender,
            recipient_id=recipient, new_id=lambda: f"id-{next(counter)}")
        self.messages = [path.read_bytes() for path in sorted((reference / "examples" / folder).glob("*.json"))]
        if not self.messages:
            raise SystemExit(f"no examples in {reference / 'examples' / folder}")

    def one(self, data: bytes, ctx: AdapterContext | None = None) -> bytes:
        return translate(data, source=self.source, target=self.target, ctx=ctx or self.ctx,
                         validator=self.validator).data

    def stepped(self, data: bytes, spent: list[float], ctx: AdapterContext | None = None) -> bytes:
        """``translate``'s steps one by one, adding each one's CPU time to ``spent`` (in PARTS order)."""
        ctx = ctx or self.ctx
        clock = time.process_time
        start = clock()
        decoder, encoder = get_adapter(self.source, ctx.adapters), get_adapter(self.target, ctx.adapters)
        t0 = clock()
        decoded = decoder.decode(bytes(data), ctx)
        t1 = clock()
        case, withheld = decoded.case, []
        if to_fire_side(encoder, ctx):
            case, withheld = confidentiality.apply(case, ctx.confidentiality, ctx.recipient_id)
        t2 = clock()
        encoded = encoder.encode(case, ctx)
        t3 = clock()
        name = HUB_PAYLOAD_OF[self.target]
        assert encoded.document is not None
        if self.validator(name, encoded.document[name]):
            raise SystemExit(f"{self.label}: invalid output")
        t4 = clock()
        report = withheld + decoded.dropped + encoded.dropped + decoded.warnings + encoded.warnings
        end = clock()
        for index, seconds in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3, (t0 - start) + (end - t4))):
            spent[index] += seconds
        del report
        return encoded.data


def _rate(function: Callable[[bytes], Any], messages: list[bytes], seconds: float) -> tuple[int, float, float]:
    cycle = itertools.cycle(messages)
    for _ in range(len(messages) * 5):
        function(next(cycle))
    count, start, wall = 0, time.process_time(), time.perf_counter()
    while time.process_time() - start < seconds:
        for _ in range(50):
            function(next(cycle))
        count += 50
    return count, time.process_time() - start, time.perf_counter() - wall


def _floor(direction: Direction, seconds: float, rounds: int) -> float:
    """CPU seconds per message of what no mapping change removes: the strict read of the input, its JSON
    Schema check, the JSON write of the output and its validation (each output written from its dict)."""
    source_name, target_name = HUB_PAYLOAD_OF[direction.source], HUB_PAYLOAD_OF[direction.target]
    outputs = {data: loads_strict(direction.one(data)) for data in direction.messages}

    def floor(data: bytes) -> None:
        document = loads_strict(data)
        direction.validator(source_name, document[source_name])
        output = outputs[data]
        dump_document(output)
        direction.validator(target_name, output[target_name])

    best = float("inf")
    for _ in range(rounds):
        count, cpu, _ = _rate(floor, direction.messages, seconds)
        best = min(best, cpu / count)
    return best


def run(reference: Path, seconds: float, rounds: int = 3, parts: bool = False) -> dict[str, dict[str, Any]]:
    """Both directions' figures (best round of each): messages, cpu and wall seconds, rates, and parts."""
    bundle = load_bundle(reference)

    def validator(name: str, payload: dict[str, Any]) -> list:
        return bundle.json_validator(name).issues(payload, f"/{name}")

    directions = [Direction(reference, *spec, validator=validator) for spec in DIRECTIONS]
    best: dict[str, dict[str, Any]] = {}
    for _ in range(rounds):
        for direction in directions:  # alternate: a burst of load on the machine hits both
            count, cpu, wall = _rate(direction.one, direction.messages, seconds)
            figures = {"examples": len(direction.messages), "messages": count, "cpu_seconds": round(cpu, 3),
                       "wall_seconds": round(wall, 3), "rate_per_core": round(count / cpu, 1),
                       "wall_rate": round(count / wall, 1)}
            if direction.label not in best or figures["rate_per_core"] > best[direction.label]["rate_per_core"]:
                best[direction.label] = figures
    if parts:
        for direction in directions:
            fixed = dataclasses.replace(direction.ctx, new_id=lambda: "id-check")
            for data in direction.messages:  # the stepped path is translate's path: same bytes out
                if direction.stepped(data, [0.0] * len(PARTS), fixed) != direction.one(data, fixed):
                    raise SystemExit(f"{direction.label}: the stepped path differs from translate")
            best_total, best_spent = float("inf"), [0.0] * len(PARTS)
            for _ in range(rounds):
                spent = [0.0] * len(PARTS)
                count, cpu, _ = _rate(lambda data, spent=spent, d=direction: d.stepped(data, spent),
                                      direction.messages, seconds)
                if cpu / count < best_total:
                    best_total, best_spent = cpu / count, [value / count for value in spent]
            best[direction.label]["parts_us"] = {name: round(value * 1e6, 1)
                                                 for name, value in zip(PARTS, best_spent, strict=True)}
            best[direction.label]["parts_total_us"] = round(best_total * 1e6, 1)
            best[direction.label]["floor_us"] = round(_floor(direction, seconds, rounds) * 1e6, 1)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="CPU seconds per direction and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each direction is kept")
    parser.add_argument("--parts", action="store_true", help="also where one message's time goes, step by step")
    parser.add_argument("--reference", type=Path, default=ROOT.parent / "shared" / "hub-reference")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of both directions' figures")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    results = run(args.reference, args.seconds, max(1, args.rounds), args.parts)
    for label, figures in results.items():
        print(f"{label}: {figures['messages']} conversions of {figures['examples']} official examples, "
              f"cpu={figures['cpu_seconds']:.2f}s wall={figures['wall_seconds']:.2f}s "
              f"rate={figures['rate_per_core']:,.0f} conversions/s per core (cpu time, best of {args.rounds}; "
              f"wall-clock {figures['wall_rate']:,.0f}/s) [output validated against the official JSON Schema, "
              "jsonschema-rs, fastjsonschema on a no]")
        for name, micros in figures.get("parts_us", {}).items():
            print(f"    {name:60s} {micros:7.1f} µs")
        if "parts_us" in figures:
            print(f"    {'one message, stepped (CPU-time stamps included)':60s} {figures['parts_total_us']:7.1f} µs")
            print(f"    {'floor: strict read + input schema + write + output schema':60s} {figures['floor_us']:7.1f} µs")
    if args.json:
        print(json.dumps({label: figures["rate_per_core"] for label, figures in results.items()}))


if __name__ == "__main__":
    main()

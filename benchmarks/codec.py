"""Codec throughput on one core: messages/second per direction and type, with and without validation.

    .venv/bin/python benchmarks/codec.py [--reference DIR] [--seconds 2]

Inputs are the official examples (RC-EDA FuiteDeGaz, EMSI Complet). Columns:
``convert`` is bytes -> bytes conversion only (hardened parse included);
``+xsd`` adds libxml2 XSD validation of the XML side; ``+xsd+json`` also runs the
compiled JSON Schema on the JSON side (the "full validation" of the Hub).
Peak RSS is the process's maximum resident set size at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bridge.core.codec.json_to_xml import build_element, serialize
from bridge.core.codec.xml_to_json import element_to_json
from bridge.core.xmlsafe import parse_xml
from bridge.refdata.bundle import load_bundle
from bridge.refdata.hub_codec import dump_json

SAMPLES = {
    "RC-EDA": ("createCase", "examples/RC-EDA/RC-EDA-FuiteDeGaz-AliceGregoireNormand.01"),
    "EMSI": ("emsi", "examples/EMSI/EMSI-Complet-DC-RDC-OPG-message"),
}
MODES = ("convert", "+xsd", "+xsd+json")


def json_to_xml_step(bundle, root: str, mode: str):
    spec, xsd, schema = bundle.spec(root), bundle.xml_validator(root), bundle.json_validator(root)

    def step(data: bytes) -> bytes:
        payload = json.loads(data, parse_float=Decimal)[root]
        if mode == "+xsd+json" and not schema.is_valid(payload):
            raise AssertionError("invalid JSON")
        element = build_element(payload, spec)
        if mode != "convert" and not xsd.is_valid(element):
            raise AssertionError("invalid XML")
        return serialize(element)

    return step


def xml_to_json_step(bundle, root: str, mode: str):
    spec, xsd, schema = bundle.spec(root), bundle.xml_validator(root), bundle.json_validator(root)

    def step(data: bytes) -> bytes:
        element = parse_xml(data)
        if mode != "convert" and not xsd.is_valid(element):
            raise AssertionError("invalid XML")
        document = element_to_json(element, spec)
        if mode == "+xsd+json" and not schema.is_valid(document[root]):
            raise AssertionError("invalid JSON")
        return dump_json(document)

    return step


def rate(step, data: bytes, seconds: float) -> float:
    """Messages per CPU-second (process time: other load on the machine does not count) after a warm-up."""
    for _ in range(50):
        step(data)
    count, start = 0, time.process_time()
    while (elapsed := time.process_time() - start) < seconds:
        for _ in range(100):
            step(data)
        count += 100
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=Path(os.environ.get("HUB_REFERENCE", ROOT.parent / "shared" / "hub-reference")))
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    bundle = load_bundle(args.reference)
    print(f"{'direction':<12} {'type':<7} {'bytes':>6} " + " ".join(f"{m:>10}" for m in MODES) + "   (msg/s, one core)")
    for name, (root, stem) in SAMPLES.items():
        for direction, make, suffix in (("JSON->XML", json_to_xml_step, ".json"), ("XML->JSON", xml_to_json_step, ".xml")):
            data = (args.reference / (stem + suffix)).read_bytes()
            rates = [rate(make(bundle, root, mode), data, args.seconds) for mode in MODES]
            print(f"{direction:<12} {name:<7} {len(data):>6} " + " ".join(f"{r:>10,.0f}" for r in rates))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mb:.1f} MB")


if __name__ == "__main__":
    main()

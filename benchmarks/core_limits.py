"""Worst-case CPU cost of the single-message attacks of issue 12 (log redaction, XML shapes,
numbers, STX runs), one call each, after the schemas are loaded.

    .venv/bin/python benchmarks/core_limits.py [redact|xml|number|stx|budget ...]

Prints one line per attack: CPU seconds of the call, peak RSS of the process so far, and
the outcome (a value, or the refusal). The figures in docs/security.md come from this script.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REF = Path(os.environ.get("HUB_REFERENCE", ROOT.parent / "shared" / "hub-reference"))
EXAMPLE = REF / "examples" / "RC-EDA" / "RC-EDA-DouleurThoracique-PierreLegrand"


def timed(label: str, fn: Callable[[], object]) -> None:
    start = time.process_time()
    try:
        outcome = "ok " + repr(fn())[:80]
    except Exception as exc:  # noqa: BLE001 - the refusal is the outcome being measured
        outcome = f"{type(exc).__name__}: {str(exc).splitlines()[0][:100]}"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{label}: {time.process_time() - start:.3f} s CPU, maxrss {rss} MB -> {outcome}", flush=True)


def redact() -> None:
    from bridge.runtime.security import redact_secrets

    for size in (40_000, 200_000):
        for name, text in (("letters", "a" * size), ("digits", "7" * size), ("alnum", "ab1" * (size // 3))):
            timed(f"redact {name} {size}",
                  lambda text=text: len(redact_secrets(None, "info", {"event": "x", "error": text})["error"]))


def _nested_namespaces(levels: int, per_level: int) -> bytes:
    inner = "<caseId>x</caseId>"
    for level in range(levels):
        decls = " ".join(f'xmlns:p{level}_{i}="urn:x:{level}:{i}"' for i in range(per_level))
        inner = f"<p{level}_0:e{level} {decls}>{inner}</p{level}_0:e{level}>"
    return inner.encode()


def xml() -> None:
    from bridge.api import validate

    good = EXAMPLE.with_suffix(".xml").read_bytes()
    timed("warm-up (schemas, xmlschema load)", lambda: len(validate(good.replace(b"<caseId>", b"<x/><caseId>", 1),
                                                                    schemas=REF)))
    attrs = " ".join(f'a{i}="v"' for i in range(2000)).encode()
    cases = {
        "2000 attributes on caseId": good.replace(b"<caseId>", b"<caseId " + attrs + b">", 1),
        "40 x 100 namespace declarations": good.replace(b"<caseId>", _nested_namespaces(40, 100) + b"<caseId>", 1),
        "12,000 unexpected empty children": good.replace(b"<caseId>", b"<x/>" * 12_000 + b"<caseId>", 1),
        "1,800 unexpected children": good.replace(b"<caseId>", b"<x/>" * 1800 + b"<caseId>", 1),
        "49,000 unexpected elements": good.replace(b"<caseId>", b"<xyzxyzxyzxyzxyzxyz/>" * 49_000 + b"<caseId>", 1),
    }
    for label, data in cases.items():
        timed(f"validate {label} ({len(data)} B)", lambda data=data: [i.code for i in validate(data, schemas=REF)][:3])


def number() -> None:
    from bridge.api import translate, validate

    body = json.loads(EXAMPLE.with_suffix(".json").read_text(encoding="utf-8"))
    text = json.dumps(body)
    assert '"lat": 47.2184' in text
    for value in ("NaN", "Infinity", "1e-9999999", "1e9999999"):
        data = text.replace('"lat": 47.2184', f'"lat": {value}').encode()
        timed(f"validate lat={value}", lambda data=data: [i.code for i in validate(data, schemas=REF)])
        timed(f"translate lat={value}", lambda data=data: len(translate(data, "xml", schemas=REF)))


def stx() -> None:
    from bridge.core.framing import Deframer

    whole = Deframer("stx-etx")
    whole.feed(b"\x02" * 100_000 + b"ok\x03")
    timed("deframe 100,000 STX fed whole", whole.frames)
    single = Deframer("stx-etx")

    def byte_by_byte() -> list[bytes]:
        found: list[bytes] = []
        for _ in range(100_000):
            single.feed(b"\x02")
            found += single.frames()
        single.feed(b"ok\x03")
        return found + single.frames()

    timed("deframe 100,000 STX fed byte by byte", byte_by_byte)


def budget() -> None:
    from bridge.api import translate, validate

    body = json.loads(EXAMPLE.with_suffix(".json").read_text(encoding="utf-8"))
    body["createCase"]["initialAlert"]["notes"] = [{"freetext": "x" * 100}] * 8000
    data = json.dumps(body).encode()
    timed(f"validate JSON with 8,000 notes ({len(data)} B)", lambda: len(validate(data, schemas=REF)))
    timed("translate JSON with 8,000 notes", lambda: len(translate(data, "xml", schemas=REF, validate=False)))


ATTACKS = {"redact": redact, "xml": xml, "number": number, "stx": stx, "budget": budget}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("attacks", nargs="*", help=f"any of {', '.join(ATTACKS)} (default: all)")
    names = parser.parse_args().attacks or list(ATTACKS)
    unknown = [name for name in names if name not in ATTACKS]
    if unknown:
        parser.error(f"unknown attack(s) {', '.join(unknown)}; choose from {', '.join(ATTACKS)}")
    for name in names:
        ATTACKS[name]()


if __name__ == "__main__":
    main()

"""Cost of one inbound resource update merged onto the LRM's sheet, by how many earlier messages it re-reads.

The service merges each RC-RI / EMSI operation with the Hub messages of its case received
since the LRM's last frame (bounded by ``MAX_CASE_HISTORY``). This measures the pure
translation cost (``PipelineTranslator.to_legacy`` with a decoded history of N messages), on
one core, for the profiles given.

Run: ``.venv/bin/python benchmarks/case_life.py --history 0 10 100 --profile lrm-alpha-text lrm-beta-xml``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.app.translator import PipelineTranslator
from bridge.core.edxl import unwrap, wrap
from bridge.refdata.profiles import build_context, load_profile
from bridge.sim.nexsis_rules import STATUS_STEPS

SAMU, SDIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _rc_ri(case_id: str, step: int):
    status = STATUS_STEPS[step % len(STATUS_STEPS)]
    payload = {"caseId": case_id, "resource": [{
        "datetime": NOW.isoformat(), "resourceId": f"{SDIS}.resource.V{n}", "orgId": SDIS, "name": f"V{n}",
        "vehicleType": "SIS", "state": {"status": status, "datetime": (NOW + timedelta(seconds=step)).isoformat()}}
        for n in range(3)]}
    return unwrap(wrap("resourcesInfoCisu", payload, sender_id=SDIS, recipient_id=SAMU, now=NOW,
                       message_uuid=f"00000000-0000-4000-8000-{step:012d}"))


def measure(profile_name: str, history: int, repeat: int) -> dict:
    profile = load_profile(profile_name)
    translator = PipelineTranslator(profile, build_context(sender_id=SAMU, recipient_id=SDIS), clock=lambda: NOW)
    golden = Path(__file__).resolve().parents[1] / "tests" / "golden" / profile_name
    sheet = (golden / ("normal.txt" if profile.adapter == "legacy-text" else "normal.xml")).read_bytes()
    case_id = "fr.health.samu440.BENCH1"
    earlier = [_rc_ri(case_id, i) for i in range(history)]
    message = _rc_ri(case_id, history)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        translator.to_legacy(message, sheet, earlier)
        times.append(1000 * (time.perf_counter() - started))
    return {"profile": profile_name, "history": history, "median_ms": round(statistics.median(times), 3),
            "max_ms": round(max(times), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, nargs="+", default=[0, 10, 100])
    parser.add_argument("--profile", nargs="+", default=["lrm-alpha-text", "lrm-beta-xml"])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    for profile in args.profile:
        for history in args.history:
            row = measure(profile, history, args.repeat)
            print(json.dumps(row) if args.json else
                  f"{row['profile']:<16} history {row['history']:>4}: median {row['median_ms']:>8} ms, "
                  f"max {row['max_ms']:>8} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

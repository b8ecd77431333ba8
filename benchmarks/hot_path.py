"""CPU per case sheet of each step of the bridge's hot path, in one process, without a broker.

The real service, translator and SQLite store of ``bridge.testing.rig`` (store on disk, WAL,
``synchronous=FULL``, commits grouped by 20 as a loaded bridge groups them); each step is timed
with ``time.process_time`` around the service's or the store's own call, so other load on the
machine does not count. What the end-to-end benchmark adds on top (pika framing, Twisted, the
legacy TCP link, metrics) is not in these figures: compare their total with the bridge's CPU per
sheet printed by ``benchmarks/e2e.py``.

    .venv/bin/python benchmarks/hot_path.py [--sheets 600] [--rounds 3] [--profile FILE]

Prints, per step, the best of ``--rounds`` rounds (ms per sheet), and the cost of one INFO line
of a message's life (rendered as JSON, hygiene processors included) against one filtered out.
``--profile FILE``: one more round under ``cProfile`` (CPU time), its statistics written to FILE
(``python -m pstats FILE``) and the functions with the most internal time printed.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bridge.runtime.logging import configure_logging

STEPS = {
    "translate": "legacy decode + createCase build (translator.to_hub)",
    "wrap": "EDXL envelope + payload check + JSON (service._wrap)",
    "intake": "store the frame and its message (accept_legacy_frame, commit share)",
    "publishable": "publish pass query (next_publishable)",
    "confirm": "broker confirm (mark_published)",
    "rcref_read": "RC-REF body: strict JSON + unwrap",
    "rcref_check": "RC-REF checks: addressing, sender = our recipient",
    "rcref_mark": "RC-REF: mark delivered",
}


class _Delivery:
    queue = "ack"
    content_type = "application/json"

    def __init__(self, body: bytes) -> None:
        self.body = body


def one_round(sheets: int, first: int) -> dict[str, float]:
    """CPU seconds per step for ``sheets`` case sheets through a fresh store."""
    from bridge.core.edxl import make_reference, wrap
    from bridge.runtime.demo import demo_frame
    from bridge.testing.rig import SAMU, SDIS, Rig

    rig = Rig(Path(tempfile.mkdtemp(prefix="bridge-hot-path-")), max_pending=10 * sheets)
    service, store, translator = rig.service, rig.store, rig.service.translator
    spent = dict.fromkeys(STEPS, 0.0)

    def timed(step: str, call: Callable[[], Any]) -> Any:
        started = time.process_time()
        result = call()
        spent[step] += time.process_time() - started
        return result

    try:
        frames = [demo_frame(first + n, assistance=False) for n in range(sheets)]
        for frame in frames[:10]:  # warm-up: tables, specs, caches
            translator.to_hub(frame)
        stored = []
        for n, frame in enumerate(frames):
            items = timed("translate", lambda f=frame: translator.to_hub(f))
            messages = timed("wrap", lambda i=items: [service._wrap(item) for item in i])
            if n % 20 == 0:
                store.begin_group()
            timed("intake", lambda f=frame, m=messages: store.accept_legacy_frame(
                f, m, adapter=translator.adapter, profile=translator.profile, received_at=rig.now()))
            if n % 20 == 19 or n == sheets - 1:
                timed("intake", store.commit_group)
            stored.append(frame)
        published = []
        while len(published) < sheets:
            batch = timed("publishable", lambda: store.next_publishable(rig.now(), 50))
            if not batch:
                break
            store.begin_group()
            for msg in batch:
                timed("confirm", lambda m=msg: store.mark_published(m.id, at=rig.now(), rcref_deadline=rig.now()))
            timed("confirm", store.commit_group)
            published += batch
        references = [_Delivery(translator.encode_hub(wrap(
            "reference", make_reference(msg.distribution_id), sender_id=SDIS, recipient_id=SAMU, now=rig.now(),
            message_uuid=str(uuid.uuid4()), kind="Ack"), "application/json")) for msg in published]
        for n, delivery in enumerate(references):
            received = timed("rcref_read", lambda d=delivery: service._read(d.body, d.content_type))
            if n % 20 == 0:
                store.begin_group()
            problem = timed("rcref_check", lambda r=received: service._addressing_problem(r, "ack")
                            or service._ack_problem(r))
            assert problem is None, problem
            timed("rcref_mark", lambda r=received: store.mark_delivered(r.payload["distributionID"], at=rig.now()))
            if n % 20 == 19 or n == len(references) - 1:
                timed("rcref_mark", store.commit_group)
        states = rig.states()
        if states != {"delivered": sheets}:
            raise RuntimeError(f"not every sheet went through: {states}")
    finally:
        rig.close()
    return {step: seconds / sheets for step, seconds in spent.items()}


def log_line_cost(lines: int = 20_000) -> tuple[float, float]:
    """CPU seconds of one lifelog line at INFO (rendered) and at WARNING (filtered out)."""
    from bridge.app import lifelog

    costs = []
    for level in ("INFO", "WARNING"):
        configure_logging("json", level, stream=io.StringIO())
        started = time.process_time()
        for _ in range(lines):
            lifelog.step("message_published", distribution_id="fr.health.samu440_0c16439b-b284-4cd5-9509-4f769ddaf8b5",
                         case_id="fr.health.samu440.DEMO-000001", direction="out", adapter="legacy-text", attempt=1)
        costs.append((time.process_time() - started) / lines)
    return costs[0], costs[1]


def _profiled_round(sheets: int, path: Path) -> None:
    """One round under cProfile with a CPU-time clock; the statistics go to ``path``, the top 25 to stdout."""
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    one_round(sheets, 900_000)
    profiler.disable()
    profiler.dump_stats(str(path))
    print(f"profile of one round of {sheets} sheets written to {path}; by internal time:")
    pstats.Stats(str(path), stream=sys.stdout).sort_stats("tottime").print_stats(25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="one more round under cProfile (CPU time); its statistics written to FILE")
    args = parser.parse_args()
    configure_logging("json", "WARNING", stream=io.StringIO())  # as benchmarks/e2e.py runs the bridge
    rounds = [one_round(args.sheets, 300_000 + r * args.sheets) for r in range(args.rounds)]
    if args.profile is not None:
        _profiled_round(args.sheets, args.profile)
    best = {step: min(r[step] for r in rounds) for step in STEPS}
    print(f"CPU per case sheet, best of {args.rounds} rounds of {args.sheets} sheets (ms):")
    for step, what in STEPS.items():
        print(f"  {step:12s} {1000 * best[step]:6.3f}  {what}")
    print(f"  {'total':12s} {1000 * sum(best.values()):6.3f}  (best round total:"
          f" {1000 * min(sum(r.values()) for r in rounds):.3f})")
    info, filtered = log_line_cost()
    print(f"one message-life log line: {1e6 * info:.1f} us at INFO (JSON, hygiene processors),"
          f" {1e6 * filtered:.1f} us filtered out (level WARNING); 5 per case sheet")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

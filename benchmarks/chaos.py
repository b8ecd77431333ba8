"""Crash and broker-restart campaign: kill -9 the bridge and restart RabbitMQ while cases flow both ways.

Starts a private RabbitMQ (test CA, loopback ports), the Hub topology and
dispatcher, a NexSIS peer counting distributionIDs, the bridge as a subprocess
and an LRM re-sending what was not acked; kills the bridge ``--kills`` times
and restarts the broker ``--broker-restarts`` times at random moments, waits
for quiescence and prints the counts (``bridge/testing/chaos.py`` says how
each is judged). Exit status 0 when nothing was lost or applied twice.

Run: ``.venv/bin/python benchmarks/chaos.py --messages 5000 --kills 20 --broker-restarts 3``
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bridge.runtime.logging import configure_logging
from bridge.testing.chaos import Campaign, CampaignPlan
from bridge.testing.reactor import ReactorThread


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000, help="legacy frames the LRM sends")
    parser.add_argument("--revisions", type=int, default=4, help="updates per case (the last is the final state)")
    parser.add_argument("--kills", type=int, default=20, help="kill -9 of the bridge")
    parser.add_argument("--broker-restarts", type=int, default=3, help="rabbitmqctl stop_app/start_app")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    parser.add_argument("--window", type=int, default=20, help="frames the LRM sends ahead of their acks")
    parser.add_argument("--timeout", type=float, default=3600.0, help="bound on the whole run, seconds")
    parser.add_argument("--dir", type=Path, help="work directory (kept); default: a temp dir, removed")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    plan = CampaignPlan(messages=args.messages, revisions=args.revisions, kills=args.kills,
                        broker_restarts=args.broker_restarts, seed=args.seed, window=args.window,
                        timeout=args.timeout)
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="bridge-chaos-"))
    configure_logging(level="WARNING")  # the driver's own AMQP links reconnect noisily at each broker restart
    rt = ReactorThread().start()
    try:
        report = Campaign(plan, workdir, rt, log=lambda line: print(f"[{time.strftime('%H:%M:%S')}] {line}",
                                                                    flush=True)).run()
    finally:
        rt.stop()
        if args.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

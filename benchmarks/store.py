"""Throughput of the durable store: how many transitions per second this disk allows.

Each figure is one committed transaction per message step (what the bridge
does), on a real file, for ``synchronous=FULL`` (the default) and ``NORMAL``.
Run: ``.venv/bin/python benchmarks/store.py [--n 2000] [--dir PATH]``; use
``--dir`` to measure the disk the production store will live on (``/tmp``
may be a RAM disk and flatter the figures).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.edges.store import Store, Translation

PAYLOAD = b"<legacy>" + b"x" * 1000 + b"</legacy>"  # about one legacy frame
TRANSLATED = b"{" + b'"k": "v", ' * 400 + b"}"      # about one RC-EDA JSON message


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:10.0f}/s  ({seconds * 1e6 / count:7.0f} µs each)"


def bench(path: Path, synchronous: str, n: int) -> None:
    t0 = datetime(2026, 5, 18, tzinfo=UTC)
    with Store.open(path, synchronous=synchronous, max_pending=n + 1) as store:
        start = time.perf_counter()
        ids = [store.accept_outbound(PAYLOAD, adapter="bench", profile=None, received_at=t0) for _ in range(n)]
        accepted = time.perf_counter()
        for i, message_id in enumerate(ids):
            store.record_translated(message_id, Translation(TRANSLATED, f"fr.bench_{i}", f"K{i % 50}"), at=t0)
        translated = time.perf_counter()
        queued = store.next_publishable(t0, limit=100)
        picked = time.perf_counter()
        for message_id in ids:
            store.mark_published(message_id, at=t0 + timedelta(seconds=1))
        published = time.perf_counter()
        for i in range(n):
            store.mark_delivered(f"fr.bench_{i}", at=t0 + timedelta(seconds=2))
        delivered = time.perf_counter()
        inbound = [store.record_inbound(PAYLOAD, distribution_id=f"fr.in_{i}", case_id=None, case_version=None,
                                        received_at=t0) for i in range(n)]
        received = time.perf_counter()
    assert len(queued) == 50 and len(inbound) == n
    print(f"synchronous={synchronous}, n={n}")
    print(f"  accept_outbound     {_rate(n, accepted - start)}")
    print(f"  record_translated   {_rate(n, translated - accepted)}")
    print(f"  next_publishable    {(picked - translated) * 1e3:10.1f} ms with {n} queued (50 cases)")
    print(f"  mark_published      {_rate(n, published - picked)}")
    print(f"  mark_delivered      {_rate(n, delivered - published)}")
    print(f"  record_inbound      {_rate(n, received - delivered)}")
    print(f"  full outbound life  {_rate(n, delivered - start)}  (4 transactions per message)")


def _filesystem(path: Path) -> str:
    try:
        out = subprocess.run(["df", "-T", str(path)], capture_output=True, text=True, timeout=10).stdout
        return out.splitlines()[-1].split()[1]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="messages per run")
    parser.add_argument("--dir", type=Path, default=None, help="where to create the store (default: a temp dir)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-store-", dir=args.dir))
    try:
        print(f"store in {workdir} (filesystem {_filesystem(workdir)}), {os.cpu_count()} CPUs")
        for mode in ("FULL", "NORMAL"):
            bench(workdir / f"{mode}.sqlite3", mode, args.n)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

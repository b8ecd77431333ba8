"""Console page costs on a large store: charts, searches and a case page, as the console runs them.

Fills a temporary store with ``--messages`` outbound messages spread over two days (each with an
RC-REF line), then times each page's provider call (its queries on a read-only connection, as in
the worker thread). Prints one line per page with the milliseconds it took.

Run: ``.venv/bin/python benchmarks/console.py --messages 200000``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.app.records import to_db_time
from bridge.edges.http import StoreConsoleProvider
from bridge.edges.http.views import Search
from bridge.edges.store import Store


def fill(store: Store, count: int, now: datetime) -> None:
    conn = store._conn
    conn.execute("BEGIN")
    rows = []
    for i in range(count):
        at = to_db_time(now - timedelta(seconds=2 * 86400 * (count - i) / count))
        rows.append(("out", "delivered", f"d{i}", f"case{i // 2}", b"x" * 300, b'{"createCase":1}' + b"y" * 1500, at, at))
    conn.executemany("INSERT INTO messages (direction, state, distribution_id, case_id, original, translated,"
                     " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)", rows)
    conn.execute("INSERT INTO events (message_id, ts, event, from_state, to_state)"
                 " SELECT id, created_at, 'rcref', 'published', 'delivered' FROM messages")
    conn.execute("COMMIT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "b.sqlite3", synchronous="NORMAL") as store:
        fill(store, args.messages, now)
        provider = StoreConsoleProvider(store, clock=lambda: now, case_prefix="x")
        provider.search(Search(limit=1))  # open this thread's reader first
        pages = [
            ("charts, last hour", lambda: provider.stats("hour")),
            ("charts, last day", lambda: provider.stats("day")),
            ("newest 100 messages", lambda: provider.search(Search())),
            ("state=delivered, newest 100", lambda: provider.search(Search(state="delivered"))),
            ("one case", lambda: provider.search(Search(case_id="case5000"))),
            ("last 3 hours, newest 100", lambda: provider.search(Search(since=now - timedelta(hours=3)))),
            ("state=failed over 3 days (no match)",
             lambda: provider.search(Search(since=now - timedelta(days=3), state="failed"))),
            ("case page", lambda: provider.case("case5000")),
        ]
        print(f"{args.messages} messages over two days")
        for name, call in pages:
            provider._stats_cache.clear()
            started = time.perf_counter()
            call()
            print(f"{name:<40} {1000 * (time.perf_counter() - started):8.1f} ms")


if __name__ == "__main__":
    main()

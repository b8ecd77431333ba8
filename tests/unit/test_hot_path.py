"""The bridge's hot path (LRM frame -> createCase published -> confirm -> RC-REF) reads no whole table.

A sheet's cost must not grow with the age of the store: every statement the service runs for it
is checked against SQLite's query plan on an aged store (other cases' rows, ``ANALYZE`` done),
and the statements are counted, not timed (performance itself lives in ``benchmarks/``).
"""

from __future__ import annotations

import re

from bridge.runtime.demo import demo_frame
from bridge.testing.rig import Rig

SHEETS = 5


def _aged(rig: Rig, rows: int = 3000) -> None:
    conn = rig.store._conn
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO messages (direction, state, distribution_id, case_id, original, created_at, updated_at)"
        " VALUES ('out', 'delivered', ?, ?, x'00', '2026-01-01', '2026-01-01')",
        [(f"fr.health.samu440_old{i}", f"fr.health.samu440.OLD-{i // 3}") for i in range(rows)])
    conn.execute("COMMIT")
    conn.execute("ANALYZE")


def _sheets_through(rig: Rig, first: int) -> list[str]:
    """The SQL run while SHEETS case sheets go from the LRM to their RC-REF (periodic passes included)."""
    statements: list[str] = []
    rig.store._conn.set_trace_callback(statements.append)
    try:
        for n in range(first, first + SHEETS):
            assert rig.settled(rig.service.on_legacy_frame(demo_frame(n, assistance=False))) is not None
        rig.run(0.5)
    finally:
        rig.store._conn.set_trace_callback(None)
    return statements


def test_a_sheet_reads_no_whole_table_on_an_aged_store(tmp_path):
    """Frame, publish, confirm and RC-REF: no statement scans ``messages`` (a second sheet of a dossier
    is sent as an Update: that lookup once matched the case id with a ``LIKE '%.…'``, a full scan per frame)."""
    rig = Rig(tmp_path, max_pending=1000)
    try:
        _aged(rig)
        statements = _sheets_through(rig, 1)
        assert rig.states()["delivered"] == 3000 + SHEETS
        reads = {s for s in statements if s.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE"))}
        assert reads
        for query in reads:
            plan = " ".join(row[3] for row in rig.store._conn.execute(f"EXPLAIN QUERY PLAN {query}"))
            assert not re.search(r"\bSCAN (messages|events|legacy_intake)\b", plan), (query[:200], plan)
    finally:
        rig.close()


def test_an_answered_sheet_reads_no_whole_table_on_an_aged_store(tmp_path):
    """Assistance: the EMSI request, the peer's answer merged onto the LRM's sheet, our RC-REF for it.

    The answer is merged with the case's earlier messages, read by the Hub case id: that read
    once matched the id with a ``LIKE '%.…'`` as well, a full scan per inbound message.
    """
    rig = Rig(tmp_path, max_pending=1000)
    try:
        _aged(rig)
        statements: list[str] = []
        rig.store._conn.set_trace_callback(statements.append)
        try:
            for n in range(1, 1 + SHEETS):
                assert rig.settled(rig.service.on_legacy_frame(demo_frame(n, assistance=True))) is not None
            rig.run(2.0)
        finally:
            rig.store._conn.set_trace_callback(None)
        assert len([f for f in rig.lrm.sent if b"REPONSE=" in f]) == SHEETS  # every answer reached the LRM
        reads = {s for s in statements if s.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE"))}
        for query in reads:
            plan = " ".join(row[3] for row in rig.store._conn.execute(f"EXPLAIN QUERY PLAN {query}"))
            assert not re.search(r"\bSCAN (messages|events|legacy_intake)\b", plan), (query[:200], plan)
    finally:
        rig.close()


def _golden_cases():
    from pathlib import Path

    from bridge.core.pipeline import get_adapter
    from bridge.refdata.profiles import build_context, load_profile

    golden = Path(__file__).resolve().parents[1] / "golden"
    for folder in sorted(p for p in golden.iterdir() if p.is_dir()):
        profile = load_profile(folder.name)
        ctx = build_context(sender_id="fr.health.samu440", recipient_id="fr.fire.nexsis.sdis44").with_profile(profile)
        adapter = get_adapter(profile.adapter, ctx.adapters)
        frames = sorted(p for p in folder.iterdir() if p.suffix in (".txt", ".xml"))
        for path in frames:
            try:
                yield f"{folder.name}/{path.name}", adapter.decode(path.read_bytes(), ctx).case
            except Exception:  # noqa: BLE001, S112 - a frame made to be refused: no case to compare
                continue


def _held_by_model(value, path=""):
    """``held()`` as it was: each sub-model dumped again on the way down (the reference)."""
    from pydantic import BaseModel

    def child(step):
        return f"{path}/{step}" if isinstance(step, int) else (f"{path}.{step}" if path else step)

    leaves = {}
    if isinstance(value, BaseModel):
        dumped = value.model_dump(exclude_defaults=True, exclude={"dropped"} if "dropped" in type(value).model_fields
                                  else None)
        for name in dumped:
            leaves.update(_held_by_model(getattr(value, name), child(name)))
    elif isinstance(value, dict):
        for key, item in value.items():
            leaves.update(_held_by_model(item, child(str(key))))
    elif isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            leaves.update(_held_by_model(item, child(index)))
    elif value is not None and value != "":
        leaves[path] = value
    return leaves


def test_held_walks_one_dump_and_finds_the_same_leaves_as_dumping_each_sub_model():
    """The dropped-field report's ``held()`` (one model_dump walked) = the per-sub-model reference, same order."""
    from bridge.core.adapters.consumed import held

    cases = list(_golden_cases())
    assert len(cases) > 20
    for name, case in cases:
        fast, reference = held(case), _held_by_model(case)
        assert list(fast) == list(reference), name
        assert all(type(fast[k]) is type(reference[k]) and fast[k] == reference[k] for k in fast), name


def test_covered_tries_the_separators_and_finds_what_trying_every_cut_found():
    from itertools import product

    from bridge.core.adapters.consumed import _covered

    def reference(leaf: str, used: set[str]) -> bool:
        return "" in used or any((cut == len(leaf) or leaf[cut] in "./") and leaf[:cut] in used
                                 for cut in range(len(leaf), 0, -1))

    pieces = ["a", "b", ".", "/", "0", "ab"]
    leaves = {"".join(p) for n in range(1, 5) for p in product(pieces, repeat=n)}
    for leaf in sorted(leaves):
        prefixes = {leaf[:i] for i in range(len(leaf) + 1)}
        for used in ({p} for p in prefixes):
            assert _covered(leaf, used) == reference(leaf, used), (leaf, used)
        assert _covered(leaf, {"x"}) == reference(leaf, {"x"})

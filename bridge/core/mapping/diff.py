"""What changed between two sets of mapping tables, and between two translations (sans-IO).

:func:`diff_tables` compares parsed tables row by row for ``bridge mappings diff``;
:func:`json_leaves` / :func:`diff_leaves` compare two produced messages leaf by leaf for
``bridge mappings test`` (``/createCase/qualification/whatsHappen/code: C09.03.00 → C09.01.00``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.core.mapping.table import DirectionRules, MappingTable, Row

ABSENT = "(absent)"


# ---- translations, leaf by leaf -------------------------------------------------------------------------

def json_leaves(document: Any, prefix: str = "") -> dict[str, str]:
    """``/path/to/leaf -> value`` of a JSON-like document (lists indexed ``/items/0``); values as text."""
    leaves: dict[str, str] = {}
    if isinstance(document, Mapping):
        for key, value in document.items():
            leaves.update(json_leaves(value, f"{prefix}/{key}"))
        if not document:
            leaves[prefix or "/"] = "{}"
    elif isinstance(document, list | tuple):
        for index, value in enumerate(document):
            leaves.update(json_leaves(value, f"{prefix}/{index}"))
        if not document:
            leaves[prefix or "/"] = "[]"
    else:
        leaves[prefix or "/"] = "null" if document is None else str(document)
    return leaves


@dataclass(frozen=True, slots=True)
class LeafChange:
    """One path whose value differs between two translations (``ABSENT`` on the side without it)."""

    path: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.path}: {self.old} → {self.new}"


def diff_leaves(old: Mapping[str, str], new: Mapping[str, str]) -> list[LeafChange]:
    """Every path whose value differs, in path order."""
    return [LeafChange(path, old.get(path, ABSENT), new.get(path, ABSENT))
            for path in sorted(set(old) | set(new)) if old.get(path) != new.get(path)]


# ---- tables, row by row ---------------------------------------------------------------------------------

@dataclass
class TableDiff:
    """The changes of one table, as sentences a maintainer reads."""

    name: str
    status: str = "changed"  # "added", "removed" or "changed"
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.status == "changed" and not (self.added or self.removed or self.changed or self.rules)

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.name, "status": self.status, "added": self.added, "removed": self.removed,
                "changed": self.changed, "rules": self.rules}


def _directions(row: Row) -> str:
    if row.forward and row.reverse:
        return "both ways"
    return "forward only" if row.forward else "reverse only"


def _describe(row: Row, file: str) -> str:
    default = ", default" if row.default else ""
    comment = f" ({row.comment})" if row.comment else ""
    return f"{row.source} → {row.target}, {_directions(row)}{default}{comment} [{file}:{row.line}]"


def _rules_text(rules: DirectionRules) -> str:
    text = rules.unmapped.value + (f" to {rules.fallback}" if rules.fallback else "")
    return text + (", inherit from parent codes" if rules.inherit else "")


def _key(row: Row) -> tuple[str, bool, bool, bool]:
    return (row.target, row.forward, row.reverse, row.default)


def diff_table(old: MappingTable, new: MappingTable) -> TableDiff:
    """Rows added, removed and changed (same source code, other target or flags) between two versions."""
    result = TableDiff(old.spec.name)
    for direction in ("forward", "reverse"):
        before, after = getattr(old.spec, direction), getattr(new.spec, direction)
        if _rules_text(before) != _rules_text(after):
            result.rules.append(f"{direction} unmapped codes: {_rules_text(before)} → {_rules_text(after)}")
    for attribute in ("source", "target", "file"):
        if getattr(old.spec, attribute) != getattr(new.spec, attribute):
            result.rules.append(f"{attribute}: {getattr(old.spec, attribute)} → {getattr(new.spec, attribute)}")
    by_source_old: dict[str, list[Row]] = defaultdict(list)
    by_source_new: dict[str, list[Row]] = defaultdict(list)
    for row in old.rows:
        by_source_old[row.source].append(row)
    for row in new.rows:
        by_source_new[row.source].append(row)
    for source in sorted(set(by_source_old) | set(by_source_new)):
        rows_old, rows_new = by_source_old.get(source, []), by_source_new.get(source, [])
        if sorted(map(_key, rows_old)) == sorted(map(_key, rows_new)):
            continue
        if len(rows_old) == 1 and len(rows_new) == 1:
            a, b = rows_old[0], rows_new[0]
            parts = []
            if a.target != b.target:
                parts.append(f"target {a.target} → {b.target}")
            if (a.forward, a.reverse) != (b.forward, b.reverse):
                parts.append(f"{_directions(a)} → {_directions(b)}")
            if a.default != b.default:
                parts.append("now the default" if b.default else "no longer the default")
            result.changed.append(f"{source}: {', '.join(parts)} [{new.spec.file}:{b.line}, was line {a.line}]")
            continue
        kept_new = list(rows_new)
        for row in rows_old:
            match = next((r for r in kept_new if _key(r) == _key(row)), None)
            if match is None:
                result.removed.append(_describe(row, old.spec.file))
            else:
                kept_new.remove(match)
        result.added.extend(_describe(row, new.spec.file) for row in kept_new)
    return result


def diff_tables(old: Mapping[str, MappingTable], new: Mapping[str, MappingTable]) -> list[TableDiff]:
    """One :class:`TableDiff` per table that changed, was added or was removed, by table name."""
    diffs: list[TableDiff] = []
    for name in sorted(set(old) | set(new)):
        if name not in new:
            diffs.append(TableDiff(name, "removed", removed=[_describe(r, old[name].spec.file) for r in old[name].rows]))
        elif name not in old:
            diffs.append(TableDiff(name, "added", added=[_describe(r, new[name].spec.file) for r in new[name].rows]))
        else:
            diff = diff_table(old[name], new[name])
            if not diff.empty:
                diffs.append(diff)
    return diffs

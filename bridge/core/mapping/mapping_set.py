"""Look codes up in the mapping tables in force, applying each table's unmapped policy.

A :class:`MappingSet` is immutable: the loader builds a new one when the files change and
swaps it in whole, so a lookup never sees half an edit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from bridge.core.errors import HubErrorCode, InboundError, Issue
from bridge.core.mapping.table import MappingTable, Policy, Row
from bridge.core.nomenclature import CodeList, Nomenclatures

CONFLICTING_ROW = "conflicting-row"
AMBIGUOUS_REVERSE = "ambiguous-reverse"
DUPLICATE_ROW = "duplicate-row"


@dataclass(frozen=True, slots=True)
class Mapped:
    """The result of one lookup: the code (None only if the policy allows it), why, and from where.

    ``source`` is the ``file:line`` of the row used, or the manifest line of the policy applied.
    """

    code: str | None
    warning: str | None = None
    source: str = ""
    how: str = "row"  # row | inherited | parent-prefix | fallback | pass-through
    original: str | None = None  # the code looked up, when ``how`` is not "row"
    table: str = ""


class UnmappedCode(InboundError):
    """A code no row maps, in a table whose policy for that direction is ``reject``."""

    def __init__(self, table: str, direction: str, code: str, where: str):
        message = f"table {table!r} has no {direction} mapping for code {code!r} (policy 'reject' at {where})"
        super().__init__(message, [Issue(where, message, "unmapped-code")], HubErrorCode.MESSAGE_CONVERSION_ERROR)
        self.table, self.direction, self.code = table, direction, code


class UnknownTable(KeyError):
    """A lookup named a table the manifest does not declare: a wiring bug, not bad input."""


_NO_HITS: dict[str, Mapped] = {}


def _key(row: Row, direction: str) -> tuple[str, str]:
    return (row.source, row.target) if direction == "forward" else (row.target, row.source)


def resolve(table: MappingTable, direction: str) -> tuple[dict[str, Row], list[Issue]]:
    """Key -> winning row for one direction; several distinct values need exactly one default row."""
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in table.rows:
        if row.forward if direction == "forward" else row.reverse:
            groups[_key(row, direction)[0]].append(row)
    index: dict[str, Row] = {}
    issues: list[Issue] = []
    for key, rows in groups.items():
        winner, issue = _winner(table.spec.file, direction, key, rows)
        index[key] = winner
        if issue:
            issues.append(issue)
    return index, issues


def _winner(file: str, direction: str, key: str, rows: list[Row]) -> tuple[Row, Issue | None]:
    values = {_key(r, direction)[1] for r in rows}
    if len(values) == 1:
        return rows[0], None
    defaults = [r for r in rows if r.default]
    if len(defaults) == 1:
        return defaults[0], None
    side, code = ("source", CONFLICTING_ROW) if direction == "forward" else ("target", AMBIGUOUS_REVERSE)
    lines = ", ".join(str(r.line) for r in rows)
    why = "none is" if not defaults else f"{len(defaults)} are"
    culprit = rows[1] if not defaults else defaults[1]
    message = (f"{side} {key!r} maps {direction} to {len(values)} codes ({', '.join(sorted(values))}) on lines "
               f"{lines} and {why} marked default=yes; mark exactly one")
    return (defaults or rows)[0], Issue(f"{file}:{culprit.line}", message, code)


def key_list(table: MappingTable, direction: str, nomenclatures: Nomenclatures | None) -> CodeList | None:
    """The code list a direction reads its keys from (source list forward, target list reverse)."""
    name = table.spec.source if direction == "forward" else table.spec.target
    return nomenclatures.get(name) if nomenclatures is not None and name else None


def prefix_parents(code: str) -> list[str]:
    """Ancestors of a hierarchical code by its own spelling, nearest first (``SAV/AR/FR_PPL/GRP`` ->
    ``SAV/AR/FR_PPL``, ``SAV/AR``, ``SAV``; ``AMBULANC.AASC`` -> ``AMBULANC``): the degrade path used when
    no official list is installed to say who the parent is."""
    parents: list[str] = []
    current = code
    while True:
        cut = max(current.rfind("/"), current.rfind("."))
        if cut <= 0:
            return parents
        current = current[:cut]
        parents.append(current)


def inherited_row(index: dict[str, Row], code_list: CodeList | None, code: str) -> tuple[str, Row] | None:
    """The nearest ancestor of ``code`` that has a row, with that row."""
    seen: set[str] = set()
    entry = code_list.codes.get(code) if code_list is not None else None
    while entry is not None and entry.parent and entry.parent not in seen:
        seen.add(entry.parent)
        if entry.parent in index:
            return entry.parent, index[entry.parent]
        entry = code_list.codes.get(entry.parent) if code_list is not None else None
    return None


class MappingSet:
    """The tables in force, indexed both ways, with a version string (hash of their files).

    ``nomenclatures`` is needed only by directions declared ``inherit = true`` (to walk a
    code's ancestors); without it those directions behave as if ``inherit`` were false.
    """

    def __init__(self, tables: dict[str, MappingTable], version: str = "",
                 nomenclatures: Nomenclatures | None = None):
        self.tables = dict(tables)
        self.version = version
        self._index = {(name, d): resolve(table, d)[0] for name, table in tables.items()
                       for d in ("forward", "reverse")}
        self._lists = {(name, d): key_list(table, d, nomenclatures) for name, table in tables.items()
                       for d in ("forward", "reverse")
                       if getattr(table.spec, d).inherit}
        # A row's lookup result, built once at load (Mapped is frozen): a hit on the hot path is one dict read.
        self._hits = {(name, d): {key: Mapped(_key(row, d)[1], None, f"{table.spec.file}:{row.line}", table=name)
                                  for key, row in self._index[(name, d)].items()}
                      for name, table in tables.items() for d in ("forward", "reverse")}

    def names(self) -> list[str]:
        return sorted(self.tables)

    def forward(self, table: str, code: str) -> Mapped:
        """Source code -> target code."""
        hit = self._hits.get((table, "forward"), _NO_HITS).get(code)  # a row's exact key: no strip, no policy
        return hit if hit is not None else self._lookup(table, "forward", code)

    def reverse(self, table: str, code: str) -> Mapped:
        """Target code -> source code."""
        hit = self._hits.get((table, "reverse"), _NO_HITS).get(code)
        return hit if hit is not None else self._lookup(table, "reverse", code)

    def _lookup(self, table: str, direction: str, code: str) -> Mapped:
        try:
            hits = self._hits[(table, direction)]
        except KeyError:
            raise UnknownTable(f"no mapping table {table!r}; known: {', '.join(self.names())}") from None
        key = code.strip() if isinstance(code, str) else code
        hit = hits.get(key)
        if hit is not None:
            return hit
        index = self._index[(table, direction)]
        spec = self.tables[table].spec
        if getattr(spec, direction).inherit:
            code_list = self._lists.get((table, direction))
            inherited = inherited_row(index, code_list, key)
            how = "inherited"
            if inherited is None:  # no list installed, or the list does not know the code: parent by prefix
                inherited = next(((p, index[p]) for p in prefix_parents(key) if p in index), None)
                how = "parent-prefix"
            if inherited is not None:
                ancestor, row = inherited
                what = ("its parent in the official list" if how == "inherited"
                        else "its parent by prefix (no official list installed)" if code_list is None
                        else "its parent by prefix (the official list does not know it)")
                warning = (f"table {table!r}: no {direction} row for {key!r}; the row of {ancestor!r}, "
                           f"{what}, gives {_key(row, direction)[1]!r}")
                return Mapped(_key(row, direction)[1], warning, f"{spec.file}:{row.line} (inherited from {ancestor})",
                              how, key, table)
        return self._unmapped(table, direction, key)

    def _unmapped(self, table: str, direction: str, code: str) -> Mapped:
        rules = getattr(self.tables[table].spec, direction)
        if rules.unmapped is Policy.PASS_THROUGH:
            warning = f"table {table!r}: no {direction} mapping for {code!r}; passed through unchanged"
            return Mapped(code, warning, rules.where, "pass-through", code, table)
        if rules.unmapped is Policy.FALLBACK:
            warning = f"table {table!r}: no {direction} mapping for {code!r}; fallback {rules.fallback!r} used"
            return Mapped(rules.fallback, warning, rules.where, "fallback", code, table)
        if rules.unmapped is Policy.OMIT:
            warning = f"table {table!r}: no {direction} mapping for {code!r}; the field is left empty"
            return Mapped(None, warning, rules.where, "omitted", code, table)
        raise UnmappedCode(table, direction, code, rules.where)

"""Lint the mapping tables: every finding as an :class:`Issue` at ``file:line``.

Checks: bad or missing header columns, unreadable cells, duplicate rows, conflicting forward
rows, rows that make the reverse mapping ambiguous, codes unknown to the source/target code
list, and manifest problems (bad policy, fallback code unknown, missing file). The same
function validates the tables at start-up and on reload, so what lint accepts is exactly what
the service will run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bridge.core.errors import Issue
from bridge.core.mapping.mapping_set import DUPLICATE_ROW, resolve
from bridge.core.mapping.table import CELL_SPACES, MappingTable, TableSpec, parse_manifest, parse_table
from bridge.core.nomenclature import DUPLICATE_CODE, EMPTY_LABEL, TRAILING_SPACE, CodeList, Nomenclatures

UNKNOWN_CODE = "unknown-code"
MISSING_FILE = "missing-file"
LIST_NOT_LOADED = "list-not-loaded"
UNDECLARED_FILE = "undeclared-file"

WARNINGS = frozenset({TRAILING_SPACE, DUPLICATE_CODE, EMPTY_LABEL, CELL_SPACES, LIST_NOT_LOADED, UNDECLARED_FILE,
                      "encoding"})


def is_error(issue: Issue) -> bool:
    """Errors make lint exit 1 and a reload be refused; warnings are only shown."""
    return issue.code not in WARNINGS


def severity(issue: Issue) -> str:
    return "error" if is_error(issue) else "warning"


@dataclass
class LintResult:
    """The tables that could be parsed and every finding, in file order."""

    tables: dict[str, MappingTable] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if is_error(i)]


def lint_tables(manifest_text: str, files: Mapping[str, str | None], nomenclatures: Nomenclatures,
                manifest_name: str = "tables.toml") -> LintResult:
    """Lint a manifest and the CSV texts it names (``files``: file name -> text, None if absent)."""
    specs, issues = parse_manifest(manifest_text, manifest_name)
    result = LintResult(issues=list(issues))
    for spec in specs:
        text = files.get(spec.file)
        if text is None:
            result.issues.append(Issue(spec.where, f"table {spec.name!r}: file {spec.file!r} not found", MISSING_FILE))
            continue
        table, found = parse_table(spec, text)
        result.tables[spec.name] = table
        result.issues += found + lint_table(table, nomenclatures)
    declared = {spec.file for spec in specs}
    result.issues += [Issue(name, "CSV file not declared in the manifest; it is not loaded", UNDECLARED_FILE)
                      for name in sorted(set(files) - declared)]
    return result


def lint_table(table: MappingTable, nomenclatures: Nomenclatures) -> list[Issue]:
    """Findings of one parsed table, beyond what parsing itself reports."""
    issues = _duplicates(table)
    for direction in ("forward", "reverse"):
        issues += resolve(table, direction)[1]
    issues += _unknown_codes(table, nomenclatures)
    return sorted(issues, key=_order)


def _order(issue: Issue) -> tuple[str, int]:
    file, _, line = issue.path.rpartition(":")
    return (file, int(line)) if line.isdigit() else (issue.path, 0)


def _duplicates(table: MappingTable) -> list[Issue]:
    first: dict[tuple[str, str], int] = {}
    issues = []
    for row in table.rows:
        pair = (row.source, row.target)
        if pair in first:
            issues.append(Issue(f"{table.spec.file}:{row.line}", f"duplicate row {row.source!r} -> {row.target!r} "
                                f"(first at line {first[pair]})", DUPLICATE_ROW))
        else:
            first[pair] = row.line
    return issues


def _code_list(spec: TableSpec, side: str, nomenclatures: Nomenclatures) -> tuple[CodeList | None, list[Issue]]:
    name = getattr(spec, side)
    if not name:
        return None, []
    found = nomenclatures.get(name)
    if found is None:
        return None, [Issue(spec.where, f"table {spec.name!r}: {side} code list {name!r} is not loaded; its codes "
                                        "are not checked (run 'bridge nomenclatures import DIR')", LIST_NOT_LOADED)]
    return found, []


def _unknown_codes(table: MappingTable, nomenclatures: Nomenclatures) -> list[Issue]:
    spec = table.spec
    issues: list[Issue] = []
    lists = {}
    for side in ("source", "target"):
        lists[side], missing = _code_list(spec, side, nomenclatures)
        issues += missing
    for row in table.rows:
        for side in ("source", "target"):
            issues += _check(lists[side], getattr(row, side), side, f"{spec.file}:{row.line}")
    issues += _check(lists["target"], spec.forward.fallback, "forward fallback", spec.forward.fallback_where)
    issues += _check(lists["source"], spec.reverse.fallback, "reverse fallback", spec.reverse.fallback_where)
    return issues


def _check(code_list: CodeList | None, code: str | None, what: str, where: str) -> Iterable[Issue]:
    if code_list is None or code is None or code in code_list:
        return []
    return [Issue(where, f"{what} code {code!r} is not in code list {code_list.name!r}"
                         f"{' version ' + code_list.version if code_list.version else ''}", UNKNOWN_CODE)]

"""Mapping tables: the manifest (``tables.toml``) and the CSV rows, parsed from text.

A table maps codes of a *source* list to codes of a *target* list. Its rows live in a CSV
file a non-developer edits in a spreadsheet; its metadata (which lists, what to do with an
unmapped code in each direction) lives in the ``tables.toml`` manifest next to it, because a
CSV has one header row and nowhere else to put them.

CSV columns (one header row, order free, names case-insensitive; ``,`` or ``;`` separated, as a
French spreadsheet saves it):

``source``     code in the source list (forward key)
``target``     code in the target list (reverse key)
``direction``  ``both`` (default when empty), ``forward`` (source -> target only) or
               ``reverse`` (target -> source only)
``default``    ``yes`` marks the row that wins when its key has several rows in a direction
               (many-to-one forward needs one reverse default, and vice versa)
``comment``    free text, ignored

Per direction, the manifest may also say ``inherit = true``: a code with no row of its own takes
the row of its nearest ancestor in the code list (a new ``C04.02.05`` in a later release maps like
``C04.02.00``), before the unmapped policy applies.

Parsing never raises on content: every defect is an :class:`Issue` at ``file:line`` and the
rows that can be read are kept, so lint can report all findings in one pass.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Iterator
from enum import Enum

from pydantic import BaseModel, ConfigDict

from bridge.core.errors import Issue

REQUIRED_COLUMNS = ("source", "target", "direction", "default")
OPTIONAL_COLUMNS = ("comment",)
DIRECTIONS = ("both", "forward", "reverse")
TRUE_WORDS = {"yes", "y", "oui", "o", "x", "true", "1"}
FALSE_WORDS = {"", "no", "n", "non", "false", "0"}

# Issue codes; see bridge.core.mapping.lint.SEVERITY for which are errors.
BAD_HEADER = "bad-header"
MISSING_COLUMN = "missing-column"
BAD_VALUE = "bad-value"
EMPTY_CELL = "empty-cell"
CELL_SPACES = "cell-spaces"
BAD_MANIFEST = "bad-manifest"


class Policy(str, Enum):  # noqa: UP042 - StrEnum would change str()/format() of members in messages
    """What a lookup does with a code that no row maps."""

    REJECT = "reject"
    PASS_THROUGH = "pass-through"
    FALLBACK = "fallback"
    OMIT = "omit"


class DirectionRules(BaseModel):
    """The unmapped-code policy of one direction, and where the manifest sets it."""

    model_config = ConfigDict(frozen=True)

    unmapped: Policy = Policy.REJECT
    fallback: str | None = None
    inherit: bool = False
    where: str = ""
    fallback_where: str = ""


class TableSpec(BaseModel):
    """One ``[tables.NAME]`` entry of the manifest."""

    model_config = ConfigDict(frozen=True)

    name: str
    file: str
    source: str | None = None
    target: str | None = None
    description: str = ""
    forward: DirectionRules = DirectionRules()
    reverse: DirectionRules = DirectionRules()
    where: str = ""


class Row(BaseModel):
    """One mapping row and the CSV line it came from."""

    model_config = ConfigDict(frozen=True)

    source: str
    target: str
    forward: bool = True
    reverse: bool = True
    default: bool = False
    line: int = 0
    comment: str = ""


class MappingTable(BaseModel):
    """A parsed table: its manifest entry and its rows, in file order."""

    model_config = ConfigDict(frozen=True)

    spec: TableSpec
    rows: tuple[Row, ...] = ()


def _line_index(text: str) -> dict[tuple[str, str], int]:
    """Lines of ``[tables.NAME...]`` headers and of their keys, for ``tables.toml:line`` findings."""
    where: dict[tuple[str, str], int] = {}
    section = ("", "")
    header = re.compile(r'^\s*\[\s*tables\.("?)([^\].]+)\1(?:\.(\w+))?\s*\]')
    for number, line in enumerate(text.splitlines(), start=1):
        match = header.match(line)
        if match:
            section = (match.group(2), match.group(3) or "")
            where.setdefault((section[0], section[1]), number)
            continue
        key = re.match(r"^\s*([\w-]+)\s*=", line)
        if key and section[0]:
            where.setdefault((section[0], f"{section[1]}.{key.group(1)}".lstrip(".")), number)
    return where


def _rules(raw: object, name: str, direction: str, where: dict[tuple[str, str], int], manifest: str) -> tuple[DirectionRules, list[Issue]]:
    line = where.get((name, direction), where.get((name, ""), 0))
    at = f"{manifest}:{line}"
    if raw is None:
        return DirectionRules(where=at), []
    if not isinstance(raw, dict):
        return DirectionRules(where=at), [Issue(at, f"[tables.{name}.{direction}] must be a table", BAD_MANIFEST)]
    policy_line = where.get((name, f"{direction}.unmapped"), line)
    at = f"{manifest}:{policy_line}"
    try:
        policy = Policy(raw.get("unmapped", "reject"))
    except ValueError:
        choices = ", ".join(p.value for p in Policy)
        return DirectionRules(where=at), [Issue(at, f"table {name!r} {direction}: unmapped policy "
                                                    f"{raw.get('unmapped')!r} is not one of {choices}", BAD_MANIFEST)]
    fallback, inherit = raw.get("fallback"), raw.get("inherit", False)
    if not isinstance(inherit, bool):
        return DirectionRules(where=at), [Issue(at, f"table {name!r} {direction}: 'inherit' must be true or false",
                                                BAD_MANIFEST)]
    if policy is Policy.FALLBACK and not fallback:
        return DirectionRules(where=at), [Issue(at, f"table {name!r} {direction}: policy 'fallback' needs a "
                                                    "'fallback' code", BAD_MANIFEST)]
    fallback_at = f"{manifest}:{where.get((name, f'{direction}.fallback'), policy_line)}"
    return DirectionRules(unmapped=policy, fallback=fallback or None, inherit=inherit, where=at,
                          fallback_where=fallback_at), []


def parse_manifest(text: str, manifest: str = "tables.toml") -> tuple[list[TableSpec], list[Issue]]:
    """Parse ``tables.toml``: one ``[tables.NAME]`` per table, with ``forward``/``reverse`` sub-tables."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [Issue(manifest, f"not valid TOML: {exc}", BAD_MANIFEST)]
    where = _line_index(text)
    specs: list[TableSpec] = []
    issues: list[Issue] = []
    for name, raw in (data.get("tables") or {}).items():
        at = f"{manifest}:{where.get((name, ''), 0)}"
        if not isinstance(raw, dict) or not raw.get("file"):
            issues.append(Issue(at, f"table {name!r} has no 'file'", BAD_MANIFEST))
            continue
        forward, found_f = _rules(raw.get("forward"), name, "forward", where, manifest)
        reverse, found_r = _rules(raw.get("reverse"), name, "reverse", where, manifest)
        issues += found_f + found_r
        specs.append(TableSpec(name=name, file=raw["file"], source=raw.get("source"), target=raw.get("target"),
                               description=raw.get("description", ""), forward=forward, reverse=reverse,
                               where=at))
    return specs, issues


def delimiter(text: str) -> str:
    """``;`` when the header uses it and no comma (French spreadsheets save CSV that way), else ``,``."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    return ";" if ";" in header and "," not in header else ","


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter(text))
    consumed = 0
    for row in reader:
        yield consumed + 1, row
        consumed = reader.line_num


def _header(cells: list[str], file: str, line: int) -> tuple[dict[str, int], list[Issue]]:
    names = [c.strip().lower() for c in cells]
    issues = [Issue(f"{file}:{line}", f"missing column {col!r} (header must have "
                                      f"{', '.join(REQUIRED_COLUMNS)}; 'comment' allowed)", MISSING_COLUMN)
              for col in REQUIRED_COLUMNS if col not in names]
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    for name in names:
        if name not in known:
            issues.append(Issue(f"{file}:{line}", f"unknown column {name!r}; allowed: "
                                              f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}", BAD_HEADER))
        elif names.count(name) > 1:
            issues.append(Issue(f"{file}:{line}", f"column {name!r} appears twice", BAD_HEADER))
    return {name: names.index(name) for name in known if name in names}, issues


def _value(row: list[str], columns: dict[str, int], name: str, at: str, issues: list[Issue]) -> str:
    index = columns.get(name)
    raw = row[index] if index is not None and index < len(row) else ""
    if raw != raw.strip() and name in ("source", "target"):
        issues.append(Issue(at, f"{name} {raw!r} has surrounding spaces; read as {raw.strip()!r}", CELL_SPACES))
    return raw.strip()


def _row(cells: list[str], columns: dict[str, int], at: str, line: int) -> tuple[Row | None, list[Issue]]:
    issues: list[Issue] = []
    values = {name: _value(cells, columns, name, at, issues) for name in (*REQUIRED_COLUMNS, "comment")}
    for name in ("source", "target"):
        if not values[name]:
            issues.append(Issue(at, f"empty {name}", EMPTY_CELL))
    direction = values["direction"].lower() or "both"
    if direction not in DIRECTIONS:
        issues.append(Issue(at, f"direction {values['direction']!r} is not one of {', '.join(DIRECTIONS)}", BAD_VALUE))
    default = values["default"].lower()
    if default not in TRUE_WORDS | FALSE_WORDS:
        issues.append(Issue(at, f"default {values['default']!r} is not 'yes' or empty", BAD_VALUE))
    if any(i.code in (EMPTY_CELL, BAD_VALUE) for i in issues):
        return None, issues
    row = Row(source=values["source"], target=values["target"], forward=direction != "reverse",
              reverse=direction != "forward", default=default in TRUE_WORDS, line=line, comment=values["comment"])
    return row, issues


def parse_table(spec: TableSpec, text: str) -> tuple[MappingTable, list[Issue]]:
    """Parse a table's CSV text; unreadable rows are reported and left out."""
    records = _records(text)
    header_line, header = next(records, (1, []))
    columns, issues = _header(header, spec.file, header_line)
    if "source" not in columns or "target" not in columns:
        return MappingTable(spec=spec), issues
    rows: list[Row] = []
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        row, found = _row(cells, columns, f"{spec.file}:{line}", line)
        issues += found
        if row is not None:
            rows.append(row)
    return MappingTable(spec=spec, rows=tuple(rows)), issues

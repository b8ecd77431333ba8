"""Code lists (nomenclatures): parse the CSV text of a list, keep its hierarchy, name its defects.

The official lists (``HubSante.*``, ``EMSI-*``) are CSV files with a row index column, a
``code`` column, one label column per hierarchy level (``label_n1``, ``Libellé niveau 2``...),
then ``description`` and ``commentaire``. Their known defects (trailing spaces in codes,
duplicated codes, empty labels) are tolerated and reported as warnings naming ``file:line``,
so an operator can see them without the import failing.

A code's hierarchy comes from its code when the list uses slash paths (EMSI: ``PPL/CHD/BAB``
is under ``PPL/CHD``), otherwise from the label column that carries its label (Hub Santé:
``C01.01.01`` has its label in ``label_n3``, under the last ``label_n2``/``label_n1`` row).
A *leaf* is a code that no other code of the list has as parent: the most specific choice.

Sans-IO: the caller reads the file and passes its text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from bridge.core.errors import Issue

# Friendly names used in manifests, CLI and code, for the official list names.
ALIASES: dict[str, str] = {
    "whatsHappen": "HubSante.fait",
    "locationKind": "HubSante.lieu",
    "healthMotive": "HubSante.motif",
    "riskThreat": "HubSante.risque",
    "victimsCount": "HubSante.nbVictimes",
    "requestEffect": "HubSante.effet",
    "requestAnswer": "HubSante.reponseDemande",
    "emsiCategory": "EMSI-EVENT.ETYPE.CATEGORY",
    "emsiActor": "EMSI-EVENT.ETYPE.ACTOR",
    "emsiLocType": "EMSI-EVENT.ETYPE.LOCTYPE",
    "emsiMissionType": "EMSI-MISSION.TYPE",
    "emsiResourceClass": "EMSI-RESOURCE.RTYPE.CLASS",
}

# Issue codes of code-list defects; all are warnings (the list is still usable).
TRAILING_SPACE = "trailing-space"
DUPLICATE_CODE = "duplicate-code"
EMPTY_LABEL = "empty-label"
EMPTY_CODE = "empty-code"
BAD_HEADER = "bad-header"


class Code(BaseModel):
    """One code of a list, with its place in the hierarchy and the CSV line it came from."""

    model_config = ConfigDict(frozen=True)

    code: str
    label: str
    level: int = 1
    parent: str | None = None
    leaf: bool = True
    line: int = 0


class CodeList(BaseModel):
    """A named, versioned code list; ``codes`` keeps the file order."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str = ""
    source: str = ""
    codes: dict[str, Code]

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __len__(self) -> int:
        return len(self.codes)

    def leaf_codes(self) -> list[str]:
        """The most specific codes, in file order."""
        return [c.code for c in self.codes.values() if c.leaf]


def canonical_name(name: str) -> str:
    """The official list name behind a friendly alias (``whatsHappen`` -> ``HubSante.fait``)."""
    return ALIASES.get(name, name)


class Nomenclatures(BaseModel):
    """The registry of code lists in force: name -> :class:`CodeList`, aliases resolved."""

    model_config = ConfigDict(frozen=True)

    version: str = ""
    lists: dict[str, CodeList] = {}

    def get(self, name: str) -> CodeList | None:
        return self.lists.get(canonical_name(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and canonical_name(name) in self.lists

    def names(self) -> list[str]:
        return sorted(self.lists)

    def merged(self, other: Nomenclatures) -> Nomenclatures:
        """This registry plus the lists of ``other`` it lacks (ours win on a name clash)."""
        lists = {**other.lists, **self.lists}
        return Nomenclatures(version=self.version or other.version, lists=lists)


def _label_columns(header: list[str]) -> list[int]:
    names = [h.strip().lower() for h in header]
    return [i for i, h in enumerate(names) if h.startswith(("label", "libell"))]


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """CSV rows with the line each starts on (quoted cells may span lines); ``;`` or ``,`` separated."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    separator = ";" if ";" in header and "," not in header else ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=separator)
    consumed = 0
    for row in reader:
        yield consumed + 1, row
        consumed = reader.line_num


def _cell(row: list[str], index: int) -> str:
    return row[index] if index < len(row) else ""


def _level_and_label(row: list[str], label_cols: list[int]) -> tuple[int, str]:
    """The deepest filled label column gives the level; its text is the label."""
    for depth in range(len(label_cols), 0, -1):
        text = _cell(row, label_cols[depth - 1]).strip()
        if text:
            return depth, text
    return 1, ""


def _slash_parent(code: str, known: Mapping[str, object]) -> str | None:
    parts = code.split("/")
    for cut in range(len(parts) - 1, 0, -1):
        candidate = "/".join(parts[:cut])
        if candidate in known:
            return candidate
    return None


def _with_hierarchy(entries: list[dict[str, Any]]) -> dict[str, Code]:
    """Parents from slash paths when the list uses them, else from label levels; then leaves."""
    by_code = {e["code"]: e for e in entries}
    slashed = any("/" in code for code in by_code)
    stack: list[dict[str, Any]] = []
    for entry in entries:
        if slashed:
            entry["parent"] = _slash_parent(entry["code"], by_code)
            entry["level"] = entry["code"].count("/") + 1
        else:
            while stack and stack[-1]["level"] >= entry["level"]:
                stack.pop()
            entry["parent"] = stack[-1]["code"] if stack else None
            stack.append(entry)
    parents = {e["parent"] for e in entries if e["parent"]}
    return {e["code"]: Code(**e, leaf=e["code"] not in parents) for e in entries}


def parse_code_list(name: str, text: str, source: str, version: str = "") -> tuple[CodeList, list[Issue]]:
    """Parse one code-list CSV; defects become warnings ``source:line``, the first of a duplicate wins."""
    rows = _records(text)
    header_line, header = next(rows, (1, []))
    columns = [h.strip().lower() for h in header]
    if "code" not in columns:
        issue = Issue(f"{source}:{header_line}", f"no 'code' column in header {header!r}", BAD_HEADER)
        return CodeList(name=name, version=version, source=source, codes={}), [issue]
    code_col, label_cols = columns.index("code"), _label_columns(header)
    entries: dict[str, dict[str, Any]] = {}
    issues: list[Issue] = []
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        entry, found = _entry(row, code_col, label_cols, f"{source}:{line}", entries)
        issues.extend(found)
        if entry is not None:
            entry["line"] = line
            entries[entry["code"]] = entry
    codes = _with_hierarchy(list(entries.values()))
    return CodeList(name=name, version=version, source=source, codes=codes), issues


def _entry(row: list[str], code_col: int, label_cols: list[int], where: str,
           seen: Mapping[str, dict[str, Any]]) -> tuple[dict[str, Any] | None, list[Issue]]:
    raw = _cell(row, code_col)
    code = raw.strip()
    issues: list[Issue] = []
    if not code:
        return None, [Issue(where, "empty code, row ignored", EMPTY_CODE)]
    if raw != code:
        issues.append(Issue(where, f"code {raw!r} has surrounding spaces; read as {code!r}", TRAILING_SPACE))
    level, label = _level_and_label(row, label_cols)
    if not label:
        issues.append(Issue(where, f"code {code!r} has an empty label", EMPTY_LABEL))
    if code in seen:
        first = seen[code]["line"]
        issues.append(Issue(where, f"duplicate code {code!r} (first at line {first}); this row is ignored",
                            DUPLICATE_CODE))
        return None, issues
    return {"code": code, "label": label or code, "level": level}, issues

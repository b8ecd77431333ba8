"""Helpers to walk the official corpus: example pairs and failing files with their expected error paths.

The ``.errors`` files are the official (Java) validator's output; ``expected_paths``
turns each reported location into the JSON pointer or element name our
validator uses, so the conformance test and ``python -m tests.conformance.corpus``
(which prints the table of ``docs/conformance.md``) compare like with like.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import reference_dir

MESSAGE = "/content/0/jsonContent/embeddedJsonContent/message"
ROOT_HINTS = {"TECHNICAL": "technical", "TECHNICAL_NOREQ": "technicalNoreq"}
_XML_NAMES = (
    re.compile(r"starting with element '\{\"[^\"]*\":(\w+)\}'"),
    re.compile(r"of element '(\w+)'"),
    re.compile(r"Element '(\w+)'"),
    re.compile(r"'(\w+)' can occur a maximum"),
)


ABSENT = "official Hub Santé corpus not found: set $HUB_REFERENCE or place it at ../shared/hub-reference"


def corpus_params(paths: list[Path], name: Callable[[Path], str]) -> list:
    """Parameters for a test over corpus files: one per file, or a single skipped one when the corpus is absent.

    The ids are computed here, so pytest never calls an id function on the placeholder.
    """
    if not paths:
        return [pytest.param(None, id="corpus-absent", marks=pytest.mark.skip(reason=ABSENT))]
    return [pytest.param(path, id=name(path)) for path in paths]


def example_pairs() -> list[Path]:
    """Every ``examples/<TYPE>/<name>.json`` that has its ``.xml`` twin (empty when the corpus is absent)."""
    ref = reference_dir()
    if ref is None:
        return []
    return sorted(p for p in (ref / "examples").glob("*/*.json") if p.with_suffix(".xml").is_file())


def failing_files() -> list[Path]:
    """Every invalid sample under ``failing/`` (empty when the corpus is absent)."""
    ref = reference_dir()
    if ref is None:
        return []
    return sorted(p for p in (ref / "failing").glob("*/*") if p.suffix in (".json", ".xml"))


def root_hint(path: Path) -> str | None:
    """Bare TECHNICAL payloads in JSON carry no root key; their folder names the type."""
    return ROOT_HINTS.get(path.parent.name) if path.suffix == ".json" else None


def expected_paths(path: Path) -> list[str]:
    """Locations listed in ``path``'s ``.errors`` file, as JSON pointers (JSON) or element names (XML)."""
    errors = path.with_name(path.name + ".errors")
    if not errors.is_file():
        return []
    text = errors.read_text(encoding="utf-8")
    if path.suffix == ".xml":
        return list(dict.fromkeys(name for pattern in _XML_NAMES for name in pattern.findall(text)))
    return list(dict.fromkeys(_json_locations(text)))


def _json_locations(text: str):
    section = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("Issues found on the"):
            section = "header" if stripped.endswith("header:") else "content" if stripped.endswith("content:") else "envelope"
        elif stripped.startswith("Could not detect any schemas"):
            yield MESSAGE
        elif stripped.startswith("embeddedJsonContent:"):
            yield MESSAGE.rsplit("/", 1)[0]
        elif stripped.startswith("- "):
            location = stripped[2:].split(": ", 1)[0]
            yield _pointer(location, section)


def _pointer(location: str, section: str) -> str:
    location = re.sub(r"\[(\d+)\]", r".\1", location)
    parts = [part for part in location.removeprefix("$").split(".") if part]
    base = MESSAGE if section in ("header", "content") else ""
    return "/".join([base, *parts])


def matches(expected: str, reported: list[str], xml: bool) -> bool:
    """An expected location is matched by a reported path equal to it (XML: same last element name)."""
    if xml:
        return any(re.sub(r"\[\d+\]", "", path).rstrip("/").rsplit("/", 1)[-1] == expected for path in reported)
    return expected in reported


@dataclass(frozen=True)
class Row:
    """One failing file: what the official validator listed, what we matched."""

    name: str
    expected: tuple[str, ...]
    missed: tuple[str, ...]
    rejected: bool


def conformance_rows(validate) -> list[Row]:
    """Run ``validate(data, root_hint=...)`` on every failing file and compare paths."""
    ref = reference_dir()
    rows = []
    for path in failing_files():
        issues = validate(path.read_bytes(), root_hint=root_hint(path))
        reported = [issue.path for issue in issues]
        expected = expected_paths(path)
        missed = [e for e in expected if not matches(e, reported, path.suffix == ".xml")]
        rows.append(Row(str(path.relative_to(ref / "failing")), tuple(expected), tuple(missed), bool(issues)))
    return rows


def markdown_table(rows: list[Row]) -> str:
    """The per-file table of docs/conformance.md."""
    lines = ["| failing file | rejected | expected paths | matched | missed |", "|---|---|---|---|---|"]
    for row in rows:
        missed = ", ".join(f"`{m}`" for m in row.missed) or "-"
        matched = len(row.expected) - len(row.missed)
        lines.append(f"| `{row.name}` | {'yes' if row.rejected else '**no**'} | {len(row.expected)} | {matched} | {missed} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - documentation helper
    import os

    import bridge

    os.environ.setdefault("HUB_SCHEMAS", str(reference_dir()))
    print(markdown_table(conformance_rows(bridge.validate)))
    sys.exit(0)

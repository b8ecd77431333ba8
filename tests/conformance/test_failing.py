"""Every official failing sample is rejected, at the locations the official validator lists."""

from __future__ import annotations

from pathlib import Path

import pytest

import bridge
from tests.conformance.corpus import (
    conformance_rows,
    corpus_params,
    expected_paths,
    failing_files,
    markdown_table,
    matches,
    root_hint,
)

FAILING = failing_files()


def _ids(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.parametrize("path", corpus_params(FAILING, _ids))
def test_failing_sample_is_rejected_at_the_official_paths(path: Path, hub_reference: Path) -> None:
    """The sample yields errors, and every location in its .errors file is among them."""
    issues = bridge.validate(path.read_bytes(), schemas=hub_reference, root_hint=root_hint(path))
    assert issues, f"{path.name} was accepted"
    reported = [issue.path for issue in issues]
    missed = [e for e in expected_paths(path) if not matches(e, reported, path.suffix == ".xml")]
    assert missed == [], f"missed {missed}; reported {reported}"


def test_external_entity_sample_is_refused_as_unsafe(hub_reference: Path) -> None:
    """The XXE sample is refused by the hardened parser, naming the DTD, before any schema runs."""
    issues = bridge.validate((hub_reference / "failing/EDXL-DE/external-entity.xml").read_bytes(), schemas=hub_reference)
    assert [issue.code for issue in issues] == ["unsafe-xml"]


def test_conformance_table(hub_reference: Path, monkeypatch, capsys) -> None:
    """Prints the per-file matched/missed table (as in docs/conformance.md); no file may be accepted."""
    monkeypatch.setenv("HUB_SCHEMAS", str(hub_reference))
    rows = conformance_rows(bridge.validate)
    with capsys.disabled():
        print("\n" + markdown_table(rows))
    assert all(row.rejected for row in rows)

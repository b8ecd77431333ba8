"""Lint of the mapping tables: each defect at the right file:line, and the shipped tables clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bridge.core.mapping import coverage, lint_tables
from bridge.refdata.mapping_loader import lint_directory
from bridge.refdata.nomenclature_store import load_nomenclatures
from bridge.refdata.resources import project_dir


@pytest.fixture(scope="module")
def official(hub_reference):
    """The official code lists plus the project's own."""
    return load_nomenclatures(hub_reference / "nomenclatures")


@pytest.fixture
def broken_copy(tmp_path):
    """A writable copy of the shipped mapping tables, to break on purpose."""
    target = tmp_path / "mappings"
    shutil.copytree(project_dir("mappings"), target, ignore=shutil.ignore_patterns("profiles"))
    return target


def _replace_line(path: Path, number: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _insert_line(path: Path, number: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(number - 1, text)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _findings(directory: Path, nomenclatures, code: str) -> list[str]:
    return [i.path for i in lint_directory(directory, nomenclatures).issues if i.code == code]


def test_shipped_tables_lint_clean_against_the_official_lists(official):
    """The project's tables have no finding at all against the official release."""
    result = lint_directory(project_dir("mappings"), official)
    assert [str(i) for i in result.issues] == []
    assert len(result.tables) >= 17


def test_unknown_code_is_found_at_its_line(broken_copy, official):
    """A target code absent from the official list is reported at its row."""
    _replace_line(broken_copy / "cisu-emsi-category.csv", 5, "C01.01.03,TRP/XXX,both,,typo")
    assert _findings(broken_copy, official, "unknown-code") == ["cisu-emsi-category.csv:5"]


def test_unknown_legacy_code_is_found_against_the_project_list(broken_copy, official):
    """Legacy codes are checked against the project's own code lists."""
    _replace_line(broken_copy / "lrm-alpha-nature.csv", 3, "INCX,C04.02.01,both,,")
    assert _findings(broken_copy, official, "unknown-code") == ["lrm-alpha-nature.csv:3"]


def test_duplicate_row_is_found_at_the_second_occurrence(broken_copy, official):
    """Repeating a row is reported at the copy, naming the first line."""
    _insert_line(broken_copy / "lrm-beta-lieu.csv", 7, "21,L02.02.02,both,,again")
    issues = [i for i in lint_directory(broken_copy, official).issues if i.code == "duplicate-row"]
    assert [i.path for i in issues] == ["lrm-beta-lieu.csv:7"] and "first at line 6" in issues[0].message


def test_ambiguous_reverse_mapping_is_found(broken_copy, official):
    """A second source for the same target with no default makes the reverse ambiguous."""
    _insert_line(broken_copy / "cisu-emsi-mission.csv", 3, "CUMP,SAV/ASC,both,,second source for SAV/ASC")
    found = _findings(broken_copy, official, "ambiguous-reverse")
    assert found == ["cisu-emsi-mission.csv:3"]


def test_two_defaults_for_one_target_are_ambiguous(broken_copy, official):
    """Marking two rows default for the same target is as ambiguous as marking none."""
    _replace_line(broken_copy / "lrm-alpha-nature.csv", 11, "ACR,C02.05.01,both,yes,")
    assert _findings(broken_copy, official, "ambiguous-reverse") == ["lrm-alpha-nature.csv:11"]


def test_conflicting_forward_rows_are_found(broken_copy, official):
    """One source mapped forward to two targets with no default is a conflict."""
    _insert_line(broken_copy / "lrm-alpha-lieu.csv", 3, "DOM,L01.01.01,forward,,")
    assert _findings(broken_copy, official, "conflicting-row") == ["lrm-alpha-lieu.csv:3"]


def test_missing_column_is_found_on_the_header_line(broken_copy, official):
    """A header without 'direction' is reported at line 1."""
    path = broken_copy / "answer-aliases.csv"
    _replace_line(path, 1, "source,target,default,comment")
    issues = [i for i in lint_directory(broken_copy, official).issues if i.code == "missing-column"]
    assert [i.path for i in issues] == ["answer-aliases.csv:1"] and "'direction'" in issues[0].message


def test_bad_values_and_empty_cells_are_found(broken_copy, official):
    """A bad direction word and an empty target are each reported at their row."""
    path = broken_copy / "lrm-beta-victimes.csv"
    _replace_line(path, 2, "0,0,sideways,,")
    _replace_line(path, 3, "1,,both,,")
    found = {(i.path, i.code) for i in lint_directory(broken_copy, official).issues}
    assert {("lrm-beta-victimes.csv:2", "bad-value"), ("lrm-beta-victimes.csv:3", "empty-cell")} <= found


def test_manifest_defects_name_the_manifest_line(broken_copy, official):
    """An unknown policy word and an unknown fallback code are reported in tables.toml with a line."""
    manifest = broken_copy / "tables.toml"
    text = manifest.read_text(encoding="utf-8")
    text = text.replace('fallback = "PSW"', 'fallback = "NOPE"').replace('\nunmapped = "reject"', '\nunmapped = "drop"', 1)
    manifest.write_text(text, encoding="utf-8")
    issues = lint_directory(broken_copy, official).issues
    unknown = [i for i in issues if i.code == "unknown-code"]
    bad = [i for i in issues if i.code == "bad-manifest"]
    lines = text.splitlines()
    assert len(unknown) == 1 and lines[int(unknown[0].path.split(":")[1]) - 1].strip() == 'fallback = "NOPE"'
    assert len(bad) == 1 and lines[int(bad[0].path.split(":")[1]) - 1].strip() == 'unmapped = "drop"'


def test_missing_file_and_undeclared_file_are_reported():
    """A table whose CSV is absent is an error; a CSV no table declares is a warning."""
    manifest = '[tables.a]\nfile = "a.csv"\n'
    result = lint_tables(manifest, {"b.csv": "source,target,direction,default\n"}, load_nomenclatures())
    assert {(i.path, i.code) for i in result.issues} == {("tables.toml:1", "missing-file"), ("b.csv", "undeclared-file")}
    assert [i.code for i in result.errors] == ["missing-file"]


def test_cisu_emsi_tables_map_every_leaf_code_forward(official):
    """Every leaf of whatsHappen, locationKind and healthMotive has a forward row in the RC-EDA -> EMSI tables."""
    result = lint_directory(project_dir("mappings"), official)
    figures = {(c.table, c.direction): c for c in coverage(result.tables, official, leaf_only=True)}
    for table in ("cisu-emsi-category", "cisu-emsi-loctype", "cisu-emsi-actor"):
        item = figures[(table, "forward")]
        print(item.summary())
        assert item.unmapped == () and item.total > 40
    for table in ("cisu-emsi-category", "cisu-emsi-loctype"):
        assert figures[(table, "reverse")].unmapped == ()


def test_spreadsheet_export_with_semicolons_and_cp1252_is_read(broken_copy, official):
    """A French spreadsheet's export (';' separator, Windows-1252) loads, with an encoding warning."""
    path = broken_copy / "lrm-alpha-risque.csv"
    text = path.read_text(encoding="utf-8").replace(",", ";")
    path.write_bytes(text.encode("cp1252"))
    result = lint_directory(broken_copy, official)
    assert result.errors == []
    assert [(i.path, i.code) for i in result.issues] == [("lrm-alpha-risque.csv:3", "encoding")]
    assert len(result.tables["lrm-alpha-risque"].rows) == 16

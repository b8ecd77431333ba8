"""Code lists: parsing, hierarchy and leaves, defects as file:line warnings, the installed store."""

from __future__ import annotations

import pytest

from bridge.core.nomenclature import ALIASES, Nomenclatures, parse_code_list
from bridge.refdata.nomenclature_store import import_nomenclatures, installed_manifest, load_nomenclatures, store_dir

HIERARCHICAL = """\
,code,label_n1,label_n2,label_n3,description,commentaire
0,C01.00.00,Accident,,,,
1,C01.01.00,,Routier,,,
2,C01.01.01,,,"Véhicule léger,
fourgon",,
3,C01.02.00,,Autre,,,
4,C05.00.00,Explosion,,,,
5,C05.00.01,,Véhicule,,,
"""

DEFECTIVE = """\
,code,label_n1,description,commentaire
0,POINT ,,un point,
1,CONFID,Confidentiel,,
2,CONFID,Restreint,,
"""


def test_levels_parents_and_leaves_follow_the_label_columns():
    """A code's level is its label column; parent is the last shallower row; leaves have no children."""
    codes, issues = parse_code_list("HubSante.fait", HIERARCHICAL, "fait.csv")
    assert issues == []
    assert codes.codes["C01.01.01"].parent == "C01.01.00"
    assert codes.codes["C01.02.00"].parent == "C01.00.00"
    assert codes.codes["C05.00.01"].parent == "C05.00.00"
    assert codes.leaf_codes() == ["C01.01.01", "C01.02.00", "C05.00.01"]


def test_line_numbers_count_multiline_cells():
    """A quoted cell spanning two lines shifts the next rows' line numbers."""
    codes, _ = parse_code_list("f", HIERARCHICAL, "f.csv")
    assert (codes.codes["C01.01.01"].line, codes.codes["C01.02.00"].line) == (4, 6)


def test_slash_codes_take_their_parent_from_the_code():
    """EMSI codes nest by path: PPL/CHD/BAB is under PPL/CHD, itself under PPL."""
    text = ",code,label_n1,label_n2\n0,PPL,Personnes,\n1,PPL/CHD,Personnes,Enfant\n2,PPL/CHD/BAB,Personnes,Bébé\n"
    codes, _ = parse_code_list("actor", text, "actor.csv")
    assert codes.codes["PPL/CHD/BAB"].parent == "PPL/CHD"
    assert codes.leaf_codes() == ["PPL/CHD/BAB"]


def test_defects_are_warnings_with_file_and_line():
    """Trailing spaces, empty labels and duplicates are reported at their line; the first duplicate wins."""
    codes, issues = parse_code_list("x", DEFECTIVE, "x.csv")
    found = {(i.path, i.code) for i in issues}
    assert found == {("x.csv:2", "trailing-space"), ("x.csv:2", "empty-label"), ("x.csv:4", "duplicate-code")}
    assert "POINT" in codes and codes.codes["CONFID"].label == "Confidentiel"


def test_missing_code_column_is_a_bad_header():
    """A file without a code column yields an empty list and a finding at line 1."""
    codes, issues = parse_code_list("x", "id,label\n1,a\n", "x.csv")
    assert len(codes) == 0 and [(i.path, i.code) for i in issues] == [("x.csv:1", "bad-header")]


def test_aliases_resolve_to_official_names():
    """The registry answers to friendly names such as whatsHappen."""
    codes, _ = parse_code_list("HubSante.fait", HIERARCHICAL, "f.csv")
    registry = Nomenclatures(lists={"HubSante.fait": codes})
    assert registry.get("whatsHappen") is codes and "whatsHappen" in registry
    assert ALIASES["healthMotive"] == "HubSante.motif"


def test_import_reports_the_known_upstream_defects(hub_reference):
    """Importing the official release names trailing spaces and duplicated codes with file:line."""
    version, warnings = import_nomenclatures(hub_reference / "nomenclatures")
    paths = {(w.path, w.code) for w in warnings}
    assert ("EMSI-EVENT.POSITION.TYPE.csv:2", "trailing-space") in paths
    assert ("EMSI-EVENT.SOURCE.csv:2", "trailing-space") in paths
    assert ("EMSI-CONTEXT.SECLASS.csv:3", "duplicate-code") in paths
    assert ("EMSI-RESOURCE.RTYPE.CAPABILITY.csv:3", "duplicate-code") in paths
    assert ("EMSI-EVENT.POSITION.TYPE.csv:2", "empty-label") in paths
    assert (store_dir() / version / "HubSante.fait.csv").is_file()
    assert installed_manifest()["version"] == version


def test_import_twice_gives_the_same_version(hub_reference):
    """The version is a content hash, so re-importing the same release changes nothing."""
    first, _ = import_nomenclatures(hub_reference / "nomenclatures")
    second, _ = import_nomenclatures(hub_reference / "nomenclatures")
    assert first == second


def test_installed_release_is_the_default_and_project_lists_are_added(hub_reference):
    """After import, the official lists load by default, next to the project's legacy lists."""
    version, _ = import_nomenclatures(hub_reference / "nomenclatures")
    registry = load_nomenclatures()
    assert registry.version == version
    assert len(registry.get("whatsHappen").leaf_codes()) > 200
    assert "lrm-alpha.nature" in registry


def test_without_official_lists_only_the_project_lists_load():
    """With nothing installed, the project's own small lists are still there."""
    registry = load_nomenclatures()
    assert registry.get("whatsHappen") is None
    assert "INC" in registry.get("lrm-alpha.nature")


def test_environment_variable_selects_a_directory(tmp_path, monkeypatch):
    """$HUB_NOMENCLATURES points at a directory of CSV lists."""
    (tmp_path / "HubSante.fait.csv").write_text(HIERARCHICAL, encoding="utf-8")
    monkeypatch.setenv("HUB_NOMENCLATURES", str(tmp_path))
    assert "C05.00.01" in load_nomenclatures().get("whatsHappen")


def test_import_of_an_empty_directory_fails_clearly(tmp_path):
    """A directory with no CSV is refused with its path in the message."""
    from bridge.refdata.nomenclature_store import NomenclatureStoreError

    with pytest.raises(NomenclatureStoreError, match="no \\*.csv"):
        import_nomenclatures(tmp_path)


def test_semicolon_separated_lists_are_read():
    """A project list saved by a French spreadsheet (';' separator) parses the same."""
    codes, issues = parse_code_list("x", "code;label_n1\nINC;Incendie\n", "x.csv")
    assert issues == [] and codes.codes["INC"].label == "Incendie"

"""The 'bridge nomenclatures' and 'bridge mappings' commands, end to end through click."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from bridge.cli.main import cli
from bridge.refdata.resources import project_dir


def _run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_import_list_and_show(hub_reference):
    """Import prints defects with file:line, list shows versions, show prints a list by alias."""
    imported = _run("nomenclatures", "import", str(hub_reference / "nomenclatures"))
    assert imported.exit_code == 0
    assert "EMSI-EVENT.SOURCE.csv:2: code 'COMFOR '" in imported.output
    listed = _run("nomenclatures", "list")
    assert "HubSante.fait (whatsHappen)" in listed.output and "lrm-beta.nature" in listed.output
    shown = _run("nomenclatures", "show", "locationKind", "--leaves")
    assert "L05.04.06\tFalaise" in shown.output and "L05.04.00" not in shown.output


def test_show_unknown_list_exits_1():
    """Asking for a list that does not exist says so and exits 1."""
    result = _run("nomenclatures", "show", "noSuchList")
    assert result.exit_code == 1 and "no code list 'noSuchList'" in result.output


def test_lint_shipped_tables_exits_0(hub_reference):
    """The shipped tables lint clean against the official lists given with --nomenclatures."""
    result = _run("mappings", "lint", "--nomenclatures", str(hub_reference / "nomenclatures"))
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_lint_broken_copy_exits_1_with_file_and_line(tmp_path):
    """A broken copy makes lint exit 1 and print the finding as file:line."""
    target = tmp_path / "m"
    shutil.copytree(project_dir("mappings"), target, ignore=shutil.ignore_patterns("profiles"))
    path = target / "lrm-alpha-lieu.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("DOM,L01.00.00", "DOMX,L01.00.00"), encoding="utf-8")
    result = _run("mappings", "lint", str(target))
    assert result.exit_code == 1
    assert f"{target}/lrm-alpha-lieu.csv:2: error: source code 'DOMX'" in result.output


def test_coverage_prints_official_figures(hub_reference):
    """Coverage prints the leaf-code share of whatsHappen, locationKind and healthMotive."""
    result = _run("mappings", "coverage", "--nomenclatures", str(hub_reference / "nomenclatures"))
    print(result.output)
    assert result.exit_code == 0
    assert "cisu-emsi-category forward HubSante.fait: 242/242 (100.0%)" in result.output
    assert "cisu-emsi-loctype forward HubSante.lieu: 144/144 (100.0%)" in result.output
    assert "cisu-emsi-actor forward HubSante.motif: 46/46 (100.0%)" in result.output


def test_unreadable_code_lists_exit_2(tmp_path):
    """A --nomenclatures directory without any CSV is unreadable input: exit 2 with the reason."""
    result = _run("mappings", "lint", "--nomenclatures", str(tmp_path))
    assert result.exit_code == 2 and "no *.csv code list found" in result.output


def test_former_inline_maps_are_tables_lint_and_coverage_see(hub_reference):
    """The profiles' code maps (mission, caller, victim kind, answer) are CSV tables: linted, measured, with the
    policy an unmapped code gets; the victims' sex too (no inline map is left)."""
    from bridge.refdata.profiles import load_all_profiles

    assert not [s.key for p in load_all_profiles().values() for s in p.fields if s.codes]
    lint = _run("mappings", "lint", "--nomenclatures", str(hub_reference / "nomenclatures"))
    assert lint.exit_code == 0 and "inline-codes" not in lint.output
    result = _run("mappings", "coverage", "--nomenclatures", str(hub_reference / "nomenclatures"))
    for dialect in ("alpha", "beta"):
        for kind in ("mission", "caller-type", "victim-type", "answer", "sex"):
            assert f"lrm-{dialect}-{kind} reverse" in result.output
    mission = next(line for line in result.output.splitlines() if line.startswith("lrm-alpha-mission reverse"))
    assert "EMSI-MISSION.TYPE" in mission and "fallback 'AUT'" in mission
    assert "[inline" not in result.output
    assert not [name for name, p in load_all_profiles().items() if p.patients is not None and p.patients.sex_codes]
    sex = next(line for line in result.output.splitlines() if line.startswith("lrm-beta-sex reverse"))
    assert "HubSante.sexe" in sex and "fallback '9'" in sex


def test_lint_warns_about_a_deprecated_inline_sex_map(tmp_path, monkeypatch):
    """A profile still reading the deprecated inline sex_codes gets a lint warning naming the file."""
    from bridge.refdata import profiles as profiles_module

    source = (project_dir("mappings") / "profiles" / "lrm-alpha-text.toml").read_text(encoding="utf-8")
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "lrm-custom.toml").write_text(source.replace('name = "lrm-alpha-text"', 'name = "lrm-custom"').replace(
        'sex_table = "lrm-alpha-sex"', 'sex_codes = { M = "M", F = "F", I = "UN" }'), encoding="utf-8")
    monkeypatch.setattr(profiles_module, "profiles_dir", lambda: folder)
    result = _run("mappings", "lint")
    assert "lrm-custom.toml: warning: [patients] sex_codes: deprecated inline map" in result.output


def test_lint_warns_about_an_inline_code_map(tmp_path, monkeypatch):
    """A profile that still writes codes inline gets a lint warning naming the file and field."""
    from bridge.refdata import profiles as profiles_module

    source = (project_dir("mappings") / "profiles" / "lrm-alpha-text.toml").read_text(encoding="utf-8")
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "lrm-custom.toml").write_text(source.replace('name = "lrm-alpha-text"', 'name = "lrm-custom"').replace(
        'table = "lrm-alpha-answer"', 'codes = { ACC = "ACCEPTE" }'), encoding="utf-8")
    monkeypatch.setattr(profiles_module, "profiles_dir", lambda: folder)
    result = _run("mappings", "lint")
    assert "lrm-custom.toml: warning: field REPONSE: inline 'codes' map" in result.output

"""``bridge translate``, ``bridge validate`` and ``bridge schemas`` from the command line."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli.main import cli

RC_EDA = "examples/RC-EDA/RC-EDA-FuiteDeGaz-AliceGregoireNormand.01"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_translate_json_to_xml_on_stdout(runner: CliRunner, hub_reference: Path) -> None:
    """The converted message goes to stdout, exit 0; --to defaults to the other format."""
    result = runner.invoke(cli, ["translate", str(hub_reference / f"{RC_EDA}.json"), "--schemas", str(hub_reference)])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<createCase')


def test_translate_xml_to_json(runner: CliRunner, hub_reference: Path) -> None:
    """XML input with --to json gives the reference JSON."""
    result = runner.invoke(cli, ["translate", str(hub_reference / f"{RC_EDA}.xml"), "--to", "json", "--schemas", str(hub_reference)])
    assert result.exit_code == 0, result.output
    expected = json.loads((hub_reference / f"{RC_EDA}.json").read_bytes(), parse_float=Decimal)
    assert json.loads(result.stdout_bytes, parse_float=Decimal) == expected


def test_translate_invalid_input_exits_1_with_errors_on_stderr(runner: CliRunner, hub_reference: Path, tmp_path: Path) -> None:
    """An invalid message is not converted (exit 1, as --help says); each error is a FILE: path: message line."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"reference": {"distributionID": 1, "zzz": true}}')
    result = runner.invoke(cli, ["translate", str(bad), "--schemas", str(hub_reference)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{bad}: /reference/distributionID: integer found, string expected" in result.stderr
    assert f"{bad}: /reference/zzz:" in result.stderr


def test_translate_rejects_unknown_target(runner: CliRunner, tmp_path: Path) -> None:
    """--to must be json or xml without --from."""
    path = tmp_path / "m.json"
    path.write_text("{}")
    assert runner.invoke(cli, ["translate", str(path), "--to", "yaml"]).exit_code == 2


def test_translate_without_bundle_uses_the_models(runner: CliRunner, hub_reference: Path, monkeypatch) -> None:
    """With no bundle anywhere, a modelled type (RC-EDA) still converts, identically to the XSD path."""
    monkeypatch.delenv("HUB_SCHEMAS", raising=False)
    data = (hub_reference / f"{RC_EDA}.json").read_bytes()
    result = runner.invoke(cli, ["translate", "-", "--to", "xml"], input=data)
    assert result.exit_code == 0, result.output
    with_bundle = runner.invoke(cli, ["translate", "-", "--to", "xml", "--schemas", str(hub_reference)], input=data)
    assert result.stdout_bytes == with_bundle.stdout_bytes


def test_translate_without_bundle_names_the_missing_bundle_for_other_types(runner: CliRunner, hub_reference: Path, monkeypatch) -> None:
    """An unmodelled type without a bundle fails with a message telling how to install one."""
    monkeypatch.delenv("HUB_SCHEMAS", raising=False)
    result = runner.invoke(cli, ["translate", str(hub_reference / "examples/RS-SR/RS-SR_Secondaire_RobertVermande.04.json")])
    assert result.exit_code != 0
    assert "schemas install" in result.stderr


def test_validate_reports_every_error_and_exit_codes(runner: CliRunner, hub_reference: Path, tmp_path: Path) -> None:
    """Valid -> 0, invalid -> 1 with one line per error, unreadable -> 2."""
    valid = str(hub_reference / f"{RC_EDA}.xml")
    invalid = hub_reference / "failing/TECHNICAL_NOREQ/wrong-type.xml"
    assert runner.invoke(cli, ["validate", valid, "--schemas", str(hub_reference)]).exit_code == 0
    result = runner.invoke(cli, ["validate", str(invalid), "--schemas", str(hub_reference)])
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 5 and result.stdout.startswith(f"{invalid}: /technicalNoreq/integerField: ")
    hostile = runner.invoke(cli, ["validate", str(hub_reference / "failing/EDXL-DE/external-entity.xml"), valid])
    assert hostile.exit_code == 2
    assert runner.invoke(cli, ["validate", str(tmp_path / "missing.json")]).exit_code == 2


def test_validate_bare_payload_with_type(runner: CliRunner, hub_reference: Path) -> None:
    """--type names the type of a JSON payload without its root key."""
    path = hub_reference / "failing/TECHNICAL/missing-required-field.json"
    result = runner.invoke(cli, ["validate", str(path), "--type", "technical", "--schemas", str(hub_reference)])
    assert result.exit_code == 1
    assert f"{path}: /requiredStringField: is missing but it is required" in result.stdout


def test_schemas_install_and_list(runner: CliRunner, hub_reference: Path, tmp_path: Path) -> None:
    """install prints the version; list shows it as default; an incomplete dir exits 2."""
    installed = runner.invoke(cli, ["schemas", "install", str(hub_reference)])
    assert installed.exit_code == 0 and "installed schema bundle" in installed.stdout
    listed = runner.invoke(cli, ["schemas", "list"])
    assert listed.stdout.startswith("* ")
    assert runner.invoke(cli, ["schemas", "install", str(tmp_path)]).exit_code == 2

"""Acceptance of the operations work through the CLI a user runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli.main import cli

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize(("target", "profile"), [("legacy-text", "lrm-alpha-text"), ("legacy-xml", "lrm-alpha-xml"),
                                                 ("legacy-xml", "lrm-beta-xml")])
def test_opg_to_legacy_keeps_every_mission_and_resource(runner, hub_reference, target, profile):
    """bridge translate EMSI-OPG-message.xml --from emsi-xml --to legacy-*: no dropped MISSION/RESOURCE line."""
    opg = hub_reference / "examples" / "EMSI" / "EMSI-OPG-message.xml"
    result = runner.invoke(cli, ["translate", str(opg), "--from", "emsi-xml", "--to", target, "--profile", profile,
                                 "--schemas", str(hub_reference)])
    assert result.exit_code == 0, result.stderr
    dropped = [line for line in result.stderr.splitlines() if ": dropped: " in line]
    assert dropped  # the EMSI-only event attributes are still listed
    assert not [line for line in dropped if "/emsi/MISSION" in line or "/emsi/RESOURCE" in line
                or "operations" in line]
    out = result.stdout_bytes
    assert b"77_22245#VSAV2" in out and b"ABC1YU3457" in out and b"ABC1YU3458" in out


def test_rc_ri_goes_legacy_to_rc_ri_and_back_onto_the_sheet(runner, tmp_path):
    """legacy -> rc-ri-json -> legacy (--onto the LRM's sheet) keeps resource ids and statuses."""
    sheet = GOLDEN / "lrm-alpha-text" / "operations.txt"
    there = runner.invoke(cli, ["translate", str(sheet), "--from", "legacy-text", "--to", "rc-ri-json",
                                "--profile", "lrm-alpha-text"])
    assert there.exit_code == 0, there.stderr
    resources = json.loads(there.stdout)["resourcesInfoCisu"]["resource"]
    assert [(r["resourceId"], r["state"]["status"]) for r in resources] == [
        ("fr.health.samu440.resource.SMUR1", "ARRIVEE"), ("fr.health.samu440.resource.VL2", "DEPART")]
    rc_ri = tmp_path / "rc-ri.json"
    rc_ri.write_text(there.stdout, encoding="utf-8")
    back = runner.invoke(cli, ["translate", str(rc_ri), "--from", "rc-ri-json", "--to", "legacy-text",
                               "--profile", "lrm-alpha-text", "--onto", str(GOLDEN / "lrm-alpha-text" / "minimal.txt")])
    assert back.exit_code == 0, back.stderr
    text = back.stdout_bytes.decode("cp1252")
    assert "NUM_DOSSIER=A24-000124" in text  # the LRM's own sheet, updated
    original = sheet.read_bytes().decode("cp1252")
    moyen = sorted(line for line in original.splitlines() if line.startswith("MOYEN_"))
    assert sorted(line for line in text.splitlines() if line.startswith("MOYEN_")) == moyen


def test_onto_needs_a_legacy_target(runner, tmp_path):
    """--onto with a Hub target is a usage error, not a silent ignore."""
    rc_ri = tmp_path / "x.json"
    rc_ri.write_text('{"resourcesInfoCisu": {"caseId": "a.b.c.d", "resource": []}}', encoding="utf-8")
    result = runner.invoke(cli, ["translate", str(rc_ri), "--from", "rc-ri-json", "--to", "rc-ri-json",
                                 "--onto", str(GOLDEN / "lrm-alpha-text" / "minimal.txt")])
    assert result.exit_code == 2

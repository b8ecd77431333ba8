"""`bridge translate --from/--to/--profile` and `bridge adapters list` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli.main import cli

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def test_adapters_list_shows_the_builtins():
    """The six built-in adapters are listed with direction, version and provider."""
    result = CliRunner().invoke(cli, ["adapters", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["legacy-text"] == {"name": "legacy-text", "direction": "both", "version": "1.0",
                                   "provider": "hub-bridge"}
    assert {"rc-eda-json", "rc-eda-xml", "emsi-json", "emsi-xml", "legacy-xml"} <= set(rows)


def test_translate_legacy_to_emsi_prints_json_and_reports_drops():
    """A golden message translates; the dropped fields are named on stderr, exit 0."""
    result = CliRunner().invoke(cli, ["translate", str(GOLDEN / "lrm-alpha-text" / "assistance.txt"), "--from",
                                      "legacy-text", "--to", "emsi-json", "--profile", "lrm-alpha-text"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["emsi"]["MISSION"][0]["TYPE"] == "SAV/ASC/FR_PPL/LIFT"
    assert "dropped: caller.phone" in result.stderr


def test_translate_unknown_profile_is_a_configuration_error():
    """An unknown profile exits 3 and lists the shipped ones."""
    result = CliRunner().invoke(cli, ["translate", str(GOLDEN / "lrm-alpha-text" / "normal.txt"), "--from",
                                      "legacy-text", "--to", "rc-eda-json", "--profile", "nope"])
    assert result.exit_code == 3
    assert "lrm-alpha-text" in result.stderr


@pytest.mark.parametrize(("data", "profile", "exit_code", "said"), [
    # a message missing required fields exits 1 with one line per missing field
    pytest.param(b"NUM_DOSSIER=A1", "lrm-alpha-text", 1, "error: NATURE: required field NATURE", id="invalid-1"),
    # an XML profile given to legacy-text is a configuration error (3) saying which adapter it is for
    pytest.param(b"ID;1", "lrm-alpha-xml", 3, "is for legacy-xml", id="wrong-profile-3"),
    # bytes invalid in the profile's encoding are unreadable input: exit 2 with the byte offset
    pytest.param("NUM_DOSSIER=é".encode().replace(b"\xc3", b"\x81"), "lrm-alpha-text", 2, "byte 12",
                 id="bad-encoding-2"),
])
def test_translate_refusals_exit_with_their_code(tmp_path, data: bytes, profile: str, exit_code: int, said: str):
    """Each kind of refusal has its exit code and names what is wrong on stderr."""
    source = tmp_path / "message.txt"
    source.write_bytes(data)
    result = CliRunner().invoke(cli, ["translate", str(source), "--from", "legacy-text", "--to", "rc-eda-json",
                                      "--profile", profile])
    assert result.exit_code == exit_code
    assert said in result.stderr

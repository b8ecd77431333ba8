"""``bridge mappings test`` / ``mappings diff`` / ``messages export``: the mapping maintainer's workbench."""

from __future__ import annotations

import json
import re
import shutil
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli.main import cli
from bridge.core.mapping.diff import LeafChange, diff_leaves, json_leaves
from bridge.refdata.resources import project_dir

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def edited(tmp_path) -> Path:
    """A copy of the shipped tables, to edit one row of."""
    target = tmp_path / "mappings"
    shutil.copytree(project_dir("mappings"), target)
    return target


def _edit_row(directory: Path, file: str, source: str, new_target: str) -> str:
    """Change the target of the row for ``source``; returns the old target."""
    path = directory / file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines):
        parts = line.split(",")
        if parts[0] == source:
            old, parts[1] = parts[1], new_target
            lines[index] = ",".join(parts)
            path.write_text("".join(lines), encoding="utf-8")
            return old
    raise AssertionError(f"no row {source} in {file}")


def _frames_with(profile: str, pattern: str) -> set[str]:
    return {p.name for p in (GOLDEN / profile).iterdir()
            if p.suffix in (".txt", ".xml") and re.search(pattern, p.read_bytes().decode("latin-1"))}


class TestLeaves:
    def test_json_leaves_name_every_path(self):
        """Nested objects and lists become /a/b/0 paths; empty containers and null are leaves too."""
        assert json_leaves({"a": {"b": [1, {"c": None}]}, "d": [], "e": {}}) == {
            "/a/b/0": "1", "/a/b/1/c": "null", "/d": "[]", "/e": "{}"}

    def test_diff_leaves_reports_changed_added_and_removed_paths(self):
        """A changed value, a path only in the new one and a path only in the old one, in path order."""
        changes = diff_leaves({"/a": "1", "/b": "2"}, {"/a": "9", "/c": "3"})
        assert [str(c) for c in changes] == ["/a: 1 → 9", "/b: 2 → (absent)", "/c: (absent) → 3"]
        assert diff_leaves({"/a": "1"}, {"/a": "1"}) == []
        assert isinstance(changes[0], LeafChange)


class TestMappingsTest:
    @pytest.mark.parametrize(("profile", "file", "source", "new", "pattern"), [
        ("lrm-alpha-text", "lrm-alpha-nature.csv", "GAZ", "C09.01.00", r"(?m)^NATURE=GAZ\s*$"),
        ("lrm-alpha-text", "lrm-alpha-motif.csv", "MALAISE", "M03.02", r"(?m)^MOTIF=MALAISE\s*$"),
        ("lrm-alpha-xml", "lrm-alpha-nature.csv", "GAZ", "C09.01.00", r"<nature>GAZ</nature>"),
    ])
    def test_one_changed_row_names_exactly_the_golden_messages_that_use_it(self, edited, profile, file, source,
                                                                          new, pattern):
        """Acceptance: the messages listed are those whose frame carries the code, with path and both values."""
        old = _edit_row(edited, file, source, new)
        expected = _frames_with(profile, pattern)
        assert expected, f"no golden {profile} frame uses {source}: the test would prove nothing"
        result = run("mappings", "test", str(GOLDEN / profile), "--profile", profile,
                     "--baseline", str(project_dir("mappings")), "--mappings", str(edited))
        assert result.exit_code == 1, result.output
        named = {line.split(":", 1)[0] for line in result.stdout.splitlines()}
        assert named == expected
        assert all(f": {old} → {new}" in line for line in result.stdout.splitlines()), result.stdout
        assert any("/createCase/qualification/" in line and line.endswith(f"code: {old} → {new}")
                   for line in result.stdout.splitlines())

    def test_identical_tables_exit_0(self):
        """Same tables on both sides: nothing differs, exit 0 (the CI of a table repository passes)."""
        mappings = str(project_dir("mappings"))
        result = run("mappings", "test", str(GOLDEN / "lrm-beta-text"), "--profile", "lrm-beta-text",
                     "--baseline", mappings, "--mappings", mappings)
        assert (result.exit_code, result.stdout) == (0, "")
        assert "0 differ" in result.stderr

    def test_json_output_for_machines(self, edited):
        """--json: one document with the count and each message's changes."""
        _edit_row(edited, "lrm-alpha-nature.csv", "GAZ", "C09.01.00")
        result = run("mappings", "test", str(GOLDEN / "lrm-alpha-text"), "--profile", "lrm-alpha-text",
                     "--baseline", str(project_dir("mappings")), "--mappings", str(edited), "--json")
        document = json.loads(result.stdout)
        assert result.exit_code == 1 and document["differing"] == len(document["messages"]) >= 1
        change = document["messages"][0]["changes"][0]
        assert set(change) == {"path", "old", "new"} and change["new"] == "C09.01.00"

    def test_hub_messages_in_the_corpus_are_translated_to_legacy(self, edited, tmp_path):
        """A Hub message (EDXL JSON) in the corpus goes Hub → legacy with both sets: a reverse edit shows."""
        from bridge.core.edxl import wrap
        from bridge.refdata.hub_bodies import encode_hub_body

        payload = json.loads((GOLDEN / "lrm-alpha-text" / "normal.expected.json").read_text())["createCase"]
        message = wrap("createCase", payload, sender_id="fr.fire.nexsis.sdis44", recipient_id="fr.health.samu440",
                       now=T0, message_uuid="7b0b7f0a-0000-4000-8000-000000000001")
        corpus = tmp_path / "corpus"
        corpus.mkdir()
        (corpus / "00000001-in.json").write_bytes(encode_hub_body(message))
        _edit_row(edited, "lrm-alpha-nature.csv", "GAZ", "C09.03.01")  # forward and reverse: GAZ no longer C09.03.00
        result = run("mappings", "test", str(corpus), "--profile", "lrm-alpha-text",
                     "--baseline", str(project_dir("mappings")), "--mappings", str(edited))
        assert result.exit_code == 1, result.output
        assert "00000001-in.json: NATURE: GAZ → " in result.stdout

    def test_refused_tables_exit_3_naming_the_problem(self, edited):
        """Edited tables that do not lint: exit 3 and the finding, no comparison."""
        (edited / "lrm-alpha-nature.csv").write_text("source,target,direction,default,comment\nGAZ,,both,,\n")
        result = run("mappings", "test", str(GOLDEN / "lrm-alpha-text"), "--profile", "lrm-alpha-text",
                     "--baseline", str(project_dir("mappings")), "--mappings", str(edited))
        assert result.exit_code == 3 and "--mappings" in result.stderr and "lrm-alpha-nature.csv" in result.stderr


class TestMappingsDiff:
    def test_changed_added_and_removed_rows_in_words(self, edited):
        """One changed target, one new row, one removed row: each named with its table and line."""
        _edit_row(edited, "lrm-alpha-nature.csv", "GAZ", "C09.01.00")
        path = edited / "lrm-alpha-motif.csv"
        text = path.read_text(encoding="utf-8")
        removed = next(line for line in text.splitlines() if line.startswith("MALAISE,"))
        path.write_text(text.replace(removed + "\n", "") + "NEWCODE,M03.09,forward,,Nouveau\n", encoding="utf-8")
        result = run("mappings", "diff", str(project_dir("mappings")), str(edited))
        assert result.exit_code == 1
        lines = result.stdout.splitlines()
        assert "table lrm-alpha-nature:" in lines
        assert any(line.startswith("  changed: GAZ: target C09.03.00 → C09.01.00 [lrm-alpha-nature.csv:")
                   for line in lines)
        assert any(line.startswith("  removed: MALAISE → M03.09, both ways") for line in lines)
        assert any(line.startswith("  added: NEWCODE → M03.09, forward only (Nouveau)") for line in lines)

    def test_policy_change_and_identical_tables(self, edited):
        """A changed unmapped policy is reported; the same tables exit 0 with nothing listed."""
        manifest = edited / "tables.toml"
        manifest.write_text(manifest.read_text().replace('fallback = "C11.06.00"', 'fallback = "C11.05.00"', 1))
        result = run("mappings", "diff", str(project_dir("mappings")), str(edited), "--json")
        document = json.loads(result.stdout)
        rules = [rule for d in document for rule in d["rules"]]
        assert result.exit_code == 1 and any(re.search(r"fallback to C11\.06\.00.* → fallback to C11\.05\.00", r)
                                             for r in rules), rules
        same = run("mappings", "diff", str(project_dir("mappings")), str(project_dir("mappings")))
        assert (same.exit_code, same.stdout) == (0, "")


class TestMessagesExport:
    def test_export_writes_original_bytes_once_per_frame(self, tmp_path):
        """Frames (out) and Hub messages (in) since T: original bytes, owner-only files, siblings once, no overwrite."""
        from bridge.app.records import Translation
        from bridge.edges.store import Store

        path = tmp_path / "bridge.sqlite3"
        frame = (GOLDEN / "lrm-alpha-text" / "assistance.txt").read_bytes()
        with Store.open(path) as store:
            store.accept_outbound(b"OLD=1\n", adapter="legacy-text", profile="lrm-alpha-text",
                                  received_at=datetime(2020, 1, 1, tzinfo=UTC))
            store.accept_translated(frame, [Translation(b"{}", "d1", "c1"), Translation(b"{}", "d2", "c1")],
                                    adapter="legacy-text", profile="lrm-alpha-text", received_at=T0)
            store.record_inbound(b'{"hub": true}', distribution_id="in-1", case_id="c2", case_version=None,
                                 received_at=T0, adapter="hub", content_type="application/json")
        out = tmp_path / "corpus"
        result = run("messages", "export", "--since", "2026-11-01T00:00:00+00:00", str(out), "--store", str(path))
        assert result.exit_code == 0, result.output
        files = sorted(p.name for p in out.iterdir())
        assert files == ["00000002-out.txt", "00000004-in.json"]
        assert (out / "00000002-out.txt").read_bytes() == frame
        assert stat.S_IMODE((out / "00000002-out.txt").stat().st_mode) == 0o600
        again = run("messages", "export", "--since", "2026-11-01T00:00:00+00:00", str(out), "--store", str(path))
        assert "0 file(s) written" in again.stderr and "2 already there" in again.stderr
        only_in = run("messages", "export", "--since", "2026-11-01T00:00:00+00:00", str(tmp_path / "in"),
                      "--direction", "in", "--store", str(path))
        assert only_in.exit_code == 0 and [p.name for p in (tmp_path / "in").iterdir()] == ["00000004-in.json"]

    def test_exported_corpus_feeds_mappings_test(self, tmp_path):
        """The export of a golden frame runs through 'mappings test' (identical tables: exit 0)."""
        from bridge.edges.store import Store

        path = tmp_path / "bridge.sqlite3"
        with Store.open(path) as store:
            store.accept_outbound((GOLDEN / "lrm-alpha-text" / "normal.txt").read_bytes(), adapter="legacy-text",
                                  profile="lrm-alpha-text", received_at=T0)
        run("messages", "export", "--since", "2026-11-01T00:00:00+00:00", str(tmp_path / "c"), "--store", str(path))
        mappings = str(project_dir("mappings"))
        result = run("mappings", "test", str(tmp_path / "c"), "--profile", "lrm-alpha-text", "--baseline", mappings,
                     "--mappings", mappings)
        assert result.exit_code == 0 and "1 message(s) translated, 0 differ" in result.stderr

"""``bridge dlq|messages|replay|store`` against a real store file."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bridge.cli.main import cli
from bridge.cli.store_cmds import default_store_path, parse_time
from bridge.core.delivery import State
from bridge.edges.store import Store, Translation

NOW = datetime.now(UTC)


@pytest.fixture
def store_path(tmp_path, monkeypatch):
    """A store with one delivered message, one dead-lettered one and a standalone dead letter."""
    path = tmp_path / "bridge.sqlite3"
    monkeypatch.setenv("HUB_BRIDGE__STORE__PATH", str(path))
    with Store.open(path) as store:
        ok = store.accept_outbound(b"GOOD", adapter="legacy-text", profile="demo", received_at=NOW - timedelta(days=40))
        store.record_translated(ok, Translation(b"{}", "fr.health.samu440_1", "CASE-1", None), at=NOW - timedelta(days=40))
        store.mark_published(ok, at=NOW - timedelta(days=40))
        store.mark_delivered("fr.health.samu440_1", at=NOW - timedelta(days=40))
        bad = store.accept_outbound(b"BAD \xe9", adapter="legacy-text", profile="demo", received_at=NOW - timedelta(days=40))
        store.mark_translation_failed(bad, error="unmapped code X9", error_path="codes.csv:12", at=NOW - timedelta(days=40))
        store.dead_letter(b"<junk", error="not XML", error_path="line 1", source="hub", at=NOW - timedelta(hours=1))
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


class TestDlq:
    def test_list_table_and_json(self, store_path):
        """The table names error and table line; JSON carries the same entries."""
        code, out = run("dlq", "list")
        assert code == 0 and "codes.csv:12" in out and "unmapped code X9" in out and "2 entries" in out
        code, out = run("dlq", "list", "--json", "--since", "2h")
        assert code == 0 and [e["error"] for e in json.loads(out)] == ["not XML"]

    def test_show_gives_history_and_bytes(self, store_path):
        """show prints the attempt history and the original bytes; --raw writes them exactly."""
        code, out = run("dlq", "show", "1")
        assert code == 0 and "attempts (1)" in out and "BAD \\xe9" in out
        result = CliRunner().invoke(cli, ["dlq", "show", "1", "--raw"])
        assert result.stdout_bytes == b"BAD \xe9"

    def test_show_unknown_id(self, store_path):
        """An unknown id exits 2 naming it."""
        code, out = run("dlq", "show", "99")
        assert code == 2 and "99" in out

    def test_replay_one_then_list_is_shorter(self, store_path):
        """Replaying entry 1 queues a new message and takes it off the list."""
        code, out = run("dlq", "replay", "1")
        assert code == 0 and "queued as message 3" in out
        with Store.open(store_path) as store:
            assert store.get(3).state is State.RECEIVED and store.get(3).replay_of == 1
        assert "1 entry" in run("dlq", "list")[1]

    def test_replay_all_reports_refusals(self, store_path):
        """--all replays what it can and exits 1 for the standalone entry it cannot."""
        code, out = run("dlq", "replay", "--all", "--json")
        outcomes = json.loads(out)
        assert code == 1 and [o["ok"] for o in outcomes] == [True, False]

    def test_replay_usage_errors(self, store_path):
        """Neither or both of ID and --all is a usage error."""
        assert run("dlq", "replay")[0] == 2
        assert run("dlq", "replay", "1", "--all")[0] == 2


class TestMessages:
    def test_show_one_with_history(self, store_path):
        """messages show ID prints every transition."""
        code, out = run("messages", "show", "1")
        assert code == 0 and all(word in out for word in ("accept", "translate", "confirm", "rcref", "delivered"))

    def test_show_case_json(self, store_path):
        """--case lists the messages of a case with their history."""
        code, out = run("messages", "show", "--case", "CASE-1", "--json")
        [msg] = json.loads(out)
        assert code == 0 and msg["distribution_id"] == "fr.health.samu440_1" and len(msg["history"]) == 4

    def test_unknown_case(self, store_path):
        """A case with no message exits 2."""
        assert run("messages", "show", "--case", "NOPE")[0] == 2


class TestReplayWindow:
    def test_requeues_window(self, store_path):
        """bridge replay --from 41d re-queues the message published 40 days ago."""
        code, out = run("replay", "--from", "41d", "--json")
        assert code == 0 and json.loads(out)["requeued"] == [1]

    def test_bad_time_is_a_usage_error(self, store_path):
        """An unparseable time exits 2 naming the accepted forms."""
        code, out = run("replay", "--from", "yesterday")
        assert code == 2 and "ISO 8601" in out


class TestStore:
    def test_purge_keeps_failed_unless_asked(self, store_path):
        """purge deletes the delivered message only; --include-failed removes the rest."""
        code, out = run("store", "purge", "--json")
        assert code == 0 and json.loads(out)["deleted"] == 1
        assert "1 entries" not in run("dlq", "list")[1] and "2 entries" in run("dlq", "list")[1]
        code, out = run("store", "purge", "--older-than", "0", "--include-failed", "--json")
        assert json.loads(out)["deleted"] == 3  # the dead-lettered message and both DLQ entries
        assert "0 entries" in run("dlq", "list", "--include-replayed")[1]

    def test_stats(self, store_path):
        """stats counts messages by state and dead letters."""
        code, out = run("store", "stats", "--json")
        data = json.loads(out)
        assert code == 0 and data["by_state"] == {"out/dead_lettered": 1, "out/delivered": 1} and data["dlq_size"] == 2

    def test_missing_store_exit_2(self, tmp_path):
        """Pointing at a missing file exits 2 and creates nothing."""
        code, out = run("dlq", "list", "--store", str(tmp_path / "nope.sqlite3"))
        assert code == 2 and "no store" in out and not (tmp_path / "nope.sqlite3").exists()


class TestBadStoreFile:
    def test_not_a_database_exit_2(self, tmp_path):
        """A file that is not SQLite is named, with exit 2, and left untouched."""
        bogus = tmp_path / "notes.txt"
        bogus.write_bytes(b"this is not a database, just text. " * 100)
        code, out = run("messages", "show", "1", "--store", str(bogus))
        assert code == 2 and "cannot open store" in out and str(bogus) in out
        assert bogus.read_bytes().startswith(b"this is not a database")


class TestParseTime:
    def test_forms(self):
        """Ages, ISO with offset, naive local ISO and 'now' are understood."""
        now = datetime(2026, 5, 18, 12, tzinfo=UTC)
        assert parse_time("90m", now) == now - timedelta(minutes=90)
        assert parse_time("2026-05-18T16:15:00+02:00", now) == datetime(2026, 5, 18, 14, 15, tzinfo=UTC)
        assert parse_time("2026-05-18T16:15:00", now).tzinfo is not None
        assert parse_time("now", now) == now
        with pytest.raises(click.BadParameter):
            parse_time("soon", now)

    def test_default_path_follows_the_config(self, monkeypatch, tmp_path):
        """The same store as `bridge run`: $HUB_BRIDGE__STORE__PATH or [store] path, else the user data dir."""
        from bridge.runtime.config import BridgeConfig

        monkeypatch.delenv("HUB_BRIDGE__STORE__PATH", raising=False)
        monkeypatch.delenv("HUB_BRIDGE_CONFIG", raising=False)
        assert default_store_path() == BridgeConfig().store.effective_path()
        assert default_store_path().parent == Path(os.environ["HUB_BRIDGE_HOME"])
        monkeypatch.setenv("HUB_BRIDGE__STORE__PATH", str(tmp_path / "x.db"))
        assert default_store_path() == tmp_path / "x.db"
        config = tmp_path / "bridge.toml"
        config.write_text(f'[store]\npath = "{tmp_path / "y.db"}"\n')
        monkeypatch.delenv("HUB_BRIDGE__STORE__PATH")
        assert default_store_path(config) == tmp_path / "y.db"


class TestMessagesList:
    @pytest.fixture
    def cases(self, tmp_path, monkeypatch):
        """Three cases: two of ours (Hub id = sender id + LRM dossier number), one whose dossier has a '_'."""
        path = tmp_path / "cases.sqlite3"
        monkeypatch.setenv("HUB_BRIDGE__STORE__PATH", str(path))
        with Store.open(path) as store:
            for n, (case, age) in enumerate((("fr.health.samu440.DEMO-000001", 3), ("fr.health.samu440.DEMO-000002", 1),
                                             ("fr.health.samu440.A_B", 1))):
                at = NOW - timedelta(hours=age)
                msg = store.accept_outbound(f"FRAME {n}".encode(), adapter="legacy-text", profile="demo", received_at=at)
                store.record_translated(msg, Translation(b"{}", f"fr.health.samu440_{n}", case, None), at=at)
                if n == 0:
                    store.mark_published(msg, at=at)
        return path

    def ids(self, *args: str) -> list[str]:
        code, out = run("messages", "list", "--json", *args)
        assert code == 0, out
        return [m["case_id"] for m in json.loads(out)]

    def test_all_oldest_first(self, cases):
        assert self.ids() == ["fr.health.samu440.DEMO-000001", "fr.health.samu440.DEMO-000002", "fr.health.samu440.A_B"]

    def test_case_by_hub_id_or_lrm_dossier_number(self, cases):
        assert self.ids("--case", "fr.health.samu440.DEMO-000002") == ["fr.health.samu440.DEMO-000002"]
        assert self.ids("--case", "DEMO-000002") == ["fr.health.samu440.DEMO-000002"]
        assert self.ids("--case", "A_B") == ["fr.health.samu440.A_B"]
        assert self.ids("--case", "AXB") == []  # '_' is not a wildcard
        assert self.ids("--case", "DEMO-00000") == []  # no prefix match

    def test_state_and_since(self, cases):
        assert self.ids("--state", "published") == ["fr.health.samu440.DEMO-000001"]
        assert self.ids("--since", "2h") == ["fr.health.samu440.DEMO-000002", "fr.health.samu440.A_B"]
        assert self.ids("--state", "translated", "--since", "2h", "--case", "DEMO-000002") == [
            "fr.health.samu440.DEMO-000002"]

    def test_table_and_bad_state(self, cases):
        code, out = run("messages", "list")
        assert code == 0 and "DEMO-000001" in out and "3 messages" in out
        code, out = run("messages", "list", "--state", "lost")
        assert code == 2 and "dead_lettered" in out

    def test_show_accepts_the_dossier_number(self, cases):
        code, out = run("messages", "show", "--case", "DEMO-000001", "--json")
        assert code == 0 and [m["case_id"] for m in json.loads(out)] == ["fr.health.samu440.DEMO-000001"]

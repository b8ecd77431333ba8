"""The console's page API over a real store: search, case, message, charts, mappings, try-a-frame; bounds and plans."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from test_http import call, site_with

from bridge.app.records import Translation, translation_notes
from bridge.edges.http import StoreConsoleProvider
from bridge.edges.store import Store
from bridge.testing.console_traffic import (
    HOSTILE_TEXT,
    SAMU,
    fill_store,
    make_translator,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    path = tmp_path_factory.mktemp("console") / "bridge.sqlite3"
    store = Store.open(path)
    translator = make_translator(lambda: NOW)
    traffic = fill_store(store, NOW, cases=30, translator=translator)
    provider = StoreConsoleProvider(store, clock=lambda: NOW, case_prefix=SAMU,
                                    encodings={"lrm-alpha-text": "cp1252"}, usage_fn=translator.usage.snapshot,
                                    try_frame_fn=translator.preview)
    yield store, traffic, provider, site_with(provider=provider)
    store.close()


def get(site, path: str):
    status, _, body = call(site, "GET", path)
    return status, json.loads(body)


class TestSearch:
    def test_by_dossier_case_distribution_and_state(self, filled):
        """A dossier number finds its case (our client id prefix); a distributionID one message; a state filters."""
        _, traffic, _, site = filled
        status, found = get(site, f"/api/search?dossier={traffic.dossiers[0]}")
        assert status == 200 and {m["case_id"] for m in found["messages"]} == {traffic.case_ids[0]}
        message = found["messages"][0]
        _, by_id = get(site, f"/api/search?distribution_id={message['distribution_id']}")
        assert [m["id"] for m in by_id["messages"]] == [message["id"]]
        _, published = get(site, "/api/search?state=published")
        assert published["messages"] and {m["state"] for m in published["messages"]} == {"published"}
        assert {m["message_type"] for m in get(site, "/api/search?limit=500")[1]["messages"]} >= {"RC-EDA", "EMSI"}

    def test_time_range(self, filled):
        """since/until select by creation time; an empty window says so with an empty list."""
        _, _, _, site = filled
        since = (NOW - timedelta(minutes=20)).isoformat().replace("+00:00", "Z")
        _, recent = get(site, f"/api/search?since={since}&limit=500")
        assert recent["messages"] and all(m["created_at"] >= "2026-11-25T11:40" for m in recent["messages"])
        _, none = get(site, "/api/search?since=2001-01-01T00:00:00Z&until=2001-01-02T00:00:00Z")
        assert none["messages"] == []

    @pytest.mark.parametrize("query", ["state=bogus", "since=yesterday", "limit=abc", "dossier=" + "x" * 201,
                                       "case=a%00b", "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z"])
    def test_bad_input_is_a_400_naming_the_field(self, filled, query):
        """Out-of-bounds or malformed parameters never reach a query."""
        _, _, _, site = filled
        status, body = get(site, f"/api/search?{query}")
        assert status == 400 and body["error"]


class TestPages:
    def test_case_timeline_in_time_order(self, filled):
        """The case page: its messages and every history line, sorted by time; unknown case: 404."""
        _, traffic, _, site = filled
        status, case = get(site, f"/api/cases/{traffic.case_ids[3]}")
        assert status == 200 and len(case["messages"]) == 2
        stamps = [e["ts"] for e in case["events"]]
        assert stamps == sorted(stamps) and {"accept", "translate", "confirm", "rcref", "answer"} <= {
            e["event"] for e in case["events"]}
        assert get(site, "/api/cases/nope")[0] == 404

    def test_message_detail_decodes_legacy_and_pretty_prints_hub_with_notes(self, filled):
        """Legacy bytes decoded with the profile encoding (hostile text as a string), Hub JSON indented, notes."""
        _, traffic, _, site = filled
        status, detail = get(site, f"/api/messages/{traffic.hostile_message_id}/detail")
        assert status == 200 and detail["legacy"]["encoding"] == "cp1252"
        assert HOSTILE_TEXT in detail["legacy"]["text"]
        assert detail["hub"]["format"] == "json" and '\n  "content": [' in detail["hub"]["text"]
        assert detail["message"]["message_type"] == "RC-EDA"
        mapped = {(m["table"], m["code"], m["to"]) for m in detail["notes"]["mapped"]}
        assert ("lrm-alpha-motif", "MALAISE", "M03.09") in mapped
        assert all(e["event"] != "mapping_notes" for e in detail["events"])
        assert get(site, "/api/messages/99999/detail")[0] == 404
        assert get(site, "/api/messages/1x/detail")[0] == 400
        assert get(site, "/api/messages/" + "9" * 30 + "/detail")[0] == 404  # no row can have it; not a 500

    def test_stats_dense_series_per_window(self, filled):
        """Hour: 60 one-minute buckets; day: 48 half-hours; counts add up to the stored messages."""
        store, traffic, _, site = filled
        _, hour = get(site, "/api/stats?window=hour")
        _, day = get(site, "/api/stats?window=day")
        assert (hour["buckets"], len(hour["out"]), day["buckets"], len(day["in"])) == (60, 60, 48, 48)
        assert sum(day["out"]) + sum(day["in"]) == sum(store.counts().values())
        assert sum(day["dead_letters"]) == len(traffic.dead_letters)
        assert any(v is not None and 0 < v < 5 for v in hour["latency_mean"])
        assert get(site, "/api/stats?window=year")[0] == 400

    def test_mappings_usage_and_coverage(self, filled):
        """Usage counts come from the live translator; the coverage is the configured source."""
        _, _, _, site = filled
        _, page = get(site, "/api/mappings")
        nature = next(u for u in page["usage"] if u["table"] == "lrm-alpha-nature")
        assert nature["lookups"] >= 25 and nature["fallbacks"] >= 1 and "ZZZ" in nature["codes"]
        assert page["try_available"] is True


class TestTryFrame:
    def test_preview_translates_without_storing(self, filled):
        """The live translator's preview gives payloads and lookups; the store and the usage counts do not move."""
        store, _, provider, _ = filled
        before = (sum(store.counts().values()), json.dumps(provider.usage_fn()))
        result = provider.try_frame("NUM_DOSSIER=Z1\nDATE_APPEL=20261125110000\nNATURE=GAZ\nLIEU=DOM\n"
                                    "COMMUNE=Bouaye\n".encode("cp1252"))
        assert result["ok"] and result["payloads"][0]["name"] == "createCase"
        assert ("lrm-alpha-nature", "GAZ", "C09.03.00") in {(m["table"], m["code"], m["to"]) for m in result["mapped"]}
        assert (sum(store.counts().values()), json.dumps(provider.usage_fn())) == before
        refused = provider.try_frame(b"NATURE=GAZ\n")
        assert not refused["ok"] and any(i["path"] == "NUM_DOSSIER" for i in refused["issues"])

    @pytest.mark.parametrize(("headers", "code"), [({}, 415), ({"Content-Type": "text/plain"}, 415)])
    def test_try_needs_a_json_body(self, filled, headers, code):
        """A form post from another site (text/plain, no preflight) is refused before any translation."""
        _, _, _, site = filled
        assert call(site, "POST", "/api/try", headers=headers)[0] == code


class TestBoundedQueries:
    @pytest.mark.parametrize("kwargs", [
        {}, {"case_ids": ("c",)}, {"distribution_id": "d"}, {"state": "published"},
        {"since": NOW}, {"since": NOW, "until": NOW, "state": "failed"}, {"case_ids": ("c",), "state": "failed"},
    ])
    def test_search_never_scans_the_messages_table(self, filled, kwargs, monkeypatch):
        """Every search drives an index (or the primary key, newest first, with LIMIT)."""
        store = filled[0]
        plans: list[str] = []
        real = store._conn

        class Spy:
            def execute(self, sql, params=()):
                if sql.lstrip().startswith("SELECT"):
                    plans.extend(" ".join(str(c) for c in r) for r in real.execute("EXPLAIN QUERY PLAN " + sql, params))
                return real.execute(sql, params)

        monkeypatch.setattr(store, "_conn", Spy())
        store.search_messages(**kwargs)
        scans = [p for p in plans if "SCAN messages" in p and "INDEX" not in p]
        if kwargs:
            assert plans and scans == [], plans
        else:  # the newest messages: walk the primary key backwards and stop at LIMIT, no sort of the table
            assert plans and not any("TEMP B-TREE" in p for p in plans), plans

    def test_windows_and_cases_use_indexes(self, filled):
        """The charts walk the time indexes; the case page the case index."""
        store = filled[0]
        sql_plans = []
        for sql, params in [
            ("SELECT created_at FROM messages WHERE created_at >= ? ORDER BY created_at DESC LIMIT 10", ("x",)),
            ("SELECT created_at FROM dead_letters WHERE created_at >= ? ORDER BY created_at DESC LIMIT 10", ("x",)),
            ("SELECT id FROM messages WHERE case_id = ? ORDER BY id LIMIT 10", ("x",)),
        ]:
            sql_plans += [" ".join(str(c) for c in r) for r in store._conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
        assert all("USING" in p and "INDEX" in p for p in sql_plans), sql_plans


def test_translation_notes_are_bounded_and_none_when_empty():
    """Nothing to say: None (no extra history line); long values cut; at most 200 entries kept."""
    assert translation_notes() is None
    notes = json.loads(translation_notes([{"table": "t", "code": "x" * 1000}] * 500))
    assert len(notes["mapped"]) == 200 and len(notes["mapped"][0]["code"]) == 300


def test_store_keeps_notes_as_one_history_line(tmp_path):
    """A translation with notes leaves a mapping_notes line right after translate; without notes, none."""
    with Store.open(tmp_path / "s.sqlite3") as store:
        first, second = store.accept_translated(
            b"frame", [Translation(b"{}", "d1", "c1", notes='{"mapped": []}'), Translation(b"{}", "d2", "c1")],
            adapter="legacy-text", profile="p", received_at=NOW)
        assert [e.event for e in store.history(first)] == ["accept", "translate", "mapping_notes"]
        assert [e.event for e in store.history(second)] == ["accept", "translate"]
        assert store.message_notes(first) == '{"mapped": []}' and store.message_notes(second) is None


def test_reader_interrupts_a_query_past_its_budget(filled):
    """A query longer than the budget is stopped by SQLite and reported as QueryTooLong; the reader stays usable."""
    from bridge.edges.store.console_queries import QueryTooLong, StoreReader

    reader = StoreReader(filled[0].path)
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) SELECT count(*) FROM c"
    with pytest.raises(QueryTooLong), reader.budget(0.05):
        reader._conn.execute(endless).fetchone()
    with reader.budget(2):
        assert reader.search_messages(limit=1)
    reader.close()


def test_a_page_past_its_budget_answers_503(filled, monkeypatch):
    """The page says to narrow the search instead of hanging or failing with a 500."""
    from bridge.edges.store.console_queries import QueryTooLong

    _, _, provider, site = filled

    def too_long(criteria):
        raise QueryTooLong("the query took longer than 2 s and was stopped")

    monkeypatch.setattr(provider, "search", too_long)
    status, body = get(site, "/api/search?state=failed")
    assert status == 503 and "narrow the search" in body["error"]


def test_summary_is_read_on_the_worker_side(filled, monkeypatch):
    """/api/summary goes through the offload (its counts walk every message), and still says replay_allowed."""
    store, _, provider, site = filled
    store.record_inbound(b'{"late": true}', distribution_id="late-1", case_id="late", case_version=None,
                         received_at=NOW - timedelta(minutes=10), adapter="hub", content_type="application/json")
    called = []
    real = provider.summary_page
    monkeypatch.setattr(provider, "summary_page", lambda allowed: called.append(allowed) or real(allowed))
    status, summary = get(site, "/api/summary")
    assert status == 200 and called == [False] and summary["replay_allowed"] is False
    assert sum(n for states in summary["counts"].values() for n in states.values()) == sum(store.counts().values())
    snapshot = provider.metrics_snapshot()  # the same figures as /metrics, read on the reactor's connection
    assert (summary["dlq_size"], summary["rcref_overdue"], summary["inbound_overdue"]) == (
        snapshot.dlq_size, snapshot.rcref_overdue, snapshot.inbound_overdue)
    assert summary["inbound_overdue"] == 1  # the Hub message nobody handed to the LRM for 10 minutes


def test_summary_counts_overdue_rcrefs_without_reading_their_rows(filled, monkeypatch):
    """The overdue-RC-REF figure is a COUNT (as the /metrics gauge), not a list of every overdue message with its
    bodies (a peer that stops answering leaves thousands of them)."""
    from bridge.edges.store.queries import StoreQueries

    store, _, _, site = filled
    expected = store.count_overdue_rcref(NOW)

    def listed(self, now):
        raise AssertionError("the summary read every overdue message to count them")

    monkeypatch.setattr(StoreQueries, "overdue_rcref", listed)
    status, summary = get(site, "/api/summary")
    assert status == 200 and summary["rcref_overdue"] == expected

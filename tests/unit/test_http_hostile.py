"""Hostile HTTP requests: huge ids answer 400/404 (never a 500), secrets in URLs never reach the access log (issue 12, item 9)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from test_http import call  # the in-memory request helper of the HTTP tests

from bridge.edges.http import StoreConsoleProvider, build_root, build_site
from bridge.edges.metrics import BridgeMetrics
from bridge.edges.store import Store


@pytest.fixture
def site(tmp_path):
    store = Store.open(tmp_path / "s.sqlite3")
    provider = StoreConsoleProvider(store, clock=lambda: datetime(2026, 11, 25, tzinfo=UTC))
    yield build_site(build_root(metrics=BridgeMetrics(), checks={}, provider=provider, allow_replay=True,
                                replay_token="t0k3n-secret"))
    store.close()


@pytest.mark.parametrize("raw_id", ["9" * 19, "9" * 30, "9" * 5000, "18446744073709551616"])
def test_a_huge_numeric_id_is_not_found_not_a_500(site, raw_id):
    status, _, body = call(site, "GET", f"/api/messages/{raw_id}")
    assert status == 404, body[:200]
    assert b"Traceback" not in body


@pytest.mark.parametrize("raw_id", ["\u0661\u0662", "\u00b2", "12a"])
def test_a_non_ascii_digit_id_is_a_400(site, raw_id):
    status, _, _ = call(site, "GET", "/api/messages/" + raw_id.encode("utf-8").decode("latin-1").replace("\u0661", "%D9%A1"))
    assert status in (400, 404)


def test_a_huge_limit_is_capped_not_a_500(site):
    status, _, _ = call(site, "GET", "/api/messages?limit=" + "9" * 5000)
    assert status == 200


def test_a_huge_replay_id_is_not_found(site):
    status, _, body = call(site, "POST", "/api/dlq/" + "9" * 40 + "/replay",
                           headers={"Authorization": "Bearer t0k3n-secret"})
    assert status == 404 and b"Traceback" not in body


def test_secrets_in_the_query_string_or_referer_are_masked_in_the_access_log(site):
    request = SimpleNamespace(
        getClientAddress=lambda: SimpleNamespace(host="127.0.0.1"), method=b"GET",
        uri=b"/api/messages?limit=5&token=SECRET-IN-QUERY", clientproto=b"HTTP/1.1", code=200, sentLength=10,
        getHeader=lambda name: {b"referer": b"http://127.0.0.1/console?access_token=SECRET-IN-REFERER",
                                b"user-agent": b"x" * 100_000}.get(name))
    line = site._logFormatter("[ts]", request)
    assert "SECRET" not in line
    assert "limit=5" in line and "token=***" in line
    assert len(line) < 2000  # a 100 kB user agent is cut, too

"""Tests of the HTTP resources (/healthz, /readyz, /metrics, console API) through Twisted's HTTP stack, no socket."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from twisted.internet.address import IPv4Address
from twisted.web.resource import Resource

from bridge.edges.http import StoreConsoleProvider, build_root, build_site, start_http
from bridge.edges.metrics import BridgeMetrics
from bridge.edges.store import Store
from bridge.runtime.config import load_config
from bridge.testing.transport import MemoryTransport

TOKEN = "replay-token-0123456789"
T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


class MemoryReactor:
    """Records listenTCP calls (the only reactor method start_http uses)."""

    def __init__(self) -> None:
        self.tcpServers: list[tuple] = []

    def listenTCP(self, port, factory, backlog=50, interface=""):
        self.tcpServers.append((port, factory, backlog, interface))
        return SimpleNamespace(getHost=lambda: SimpleNamespace(port=port))


def call(site, method: str, path: str, *, headers: dict[str, str] | None = None, host: str = "127.0.0.1"):
    """Send one request through the Site over an in-memory transport; return (status, headers, body)."""
    protocol = site.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
    transport = MemoryTransport(IPv4Address("TCP", "127.0.0.1", 40000), IPv4Address("TCP", "127.0.0.1", 9180))
    protocol.makeConnection(transport)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close", "Content-Length: 0"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    protocol.dataReceived(("\r\n".join(lines) + "\r\n\r\n").encode())
    raw = transport.value()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {k.lower(): v for k, _, v in (line.partition(": ") for line in header_lines)}
    protocol.connectionLost(None)
    return int(status_line.split()[1]), parsed, body


class FakeProvider:
    """A console provider with fixed data that records replays."""

    def __init__(self):
        self.replayed: list[int] = []

    def summary(self):
        return {"instance": "test", "counts": {"out": {"published": 2}}}

    def messages(self, limit):
        return [{"id": i} for i in range(limit)]

    def history(self, message_id):
        from bridge.edges.http import NotFound

        if message_id != 1:
            raise NotFound(f"no message {message_id}")
        return {"message": {"id": 1}, "events": []}

    def dlq(self, limit):
        return [{"id": 7, "error": "<script>alert(1)</script>"}][:limit]

    def coverage(self):
        return {"available": True, "covered": 3}

    def replay(self, dlq_id):
        self.replayed.append(dlq_id)
        return {"dlq_id": dlq_id}


def site_with(checks=None, provider=None, allow_replay=False, metrics=None):
    from twisted.internet.defer import maybeDeferred

    root = build_root(metrics=metrics or BridgeMetrics(), checks=checks or {}, provider=provider,
                      allow_replay=allow_replay, replay_token=TOKEN if allow_replay else None,
                      offload=maybeDeferred)  # no reactor runs here: the pages' "worker thread" is this one
    return build_site(root)


class TestHealth:
    def test_healthz(self):
        """/healthz answers 200 ok while the process runs."""
        status, _, body = call(site_with(), "GET", "/healthz")
        assert (200, b"ok\n") == (status, body)

    def test_readyz_ready(self):
        """/readyz is 200 when every check passes."""
        status, _, body = call(site_with({"store_writable": lambda: True, "tables_loaded": lambda: True}), "GET", "/readyz")
        assert 200 == status and json.loads(body)["ready"] is True

    def test_readyz_names_failing_checks(self):
        """/readyz is 503 and lists the failing checks, including one that raised."""
        def broken():
            raise OSError("disk full")

        checks = {"store_writable": broken, "broker_connected": lambda: False, "tables_loaded": lambda: True}
        status, headers, body = call(site_with(checks), "GET", "/readyz")
        data = json.loads(body)
        assert 503 == status and headers["content-type"].startswith("application/json")
        assert ["broker_connected", "store_writable"] == sorted(data["failing"])
        assert "disk full" in data["checks"]["store_writable"]["error"]

    def test_readyz_follows_the_check(self):
        """/readyz turns unready and ready again as the injected state changes (broker stop/restart)."""
        state = {"up": True}
        site = site_with({"broker_connected": lambda: state["up"]})
        seen = [call(site, "GET", "/readyz")[0]]
        state["up"] = False
        seen.append(call(site, "GET", "/readyz")[0])
        state["up"] = True
        seen.append(call(site, "GET", "/readyz")[0])
        assert [200, 503, 200] == seen

    def test_metrics_exposition(self):
        """/metrics serves the Prometheus text of the bridge's own registry."""
        metrics = BridgeMetrics()
        metrics.message(direction="out", adapter="legacy-xml", state="published")
        status, headers, body = call(site_with(metrics=metrics), "GET", "/metrics")
        assert 200 == status and headers["content-type"].startswith("text/plain")
        assert b'bridge_messages_total{adapter="legacy-xml",direction="out",state="published"} 1.0' in body

    def test_foreign_host_refused_on_loopback(self):
        """A request whose Host is not a loopback name is refused (DNS-rebinding guard)."""
        status, _, _ = call(site_with(), "GET", "/healthz", host="evil.example")
        assert 421 == status


class TestConsoleApi:
    def test_no_console_without_provider(self):
        """Without a provider, /console and /api are absent."""
        assert 404 == call(site_with(), "GET", "/console")[0]

    def test_page_and_assets(self):
        """/console serves the page with a strict CSP, plus its script and stylesheet."""
        site = site_with(provider=FakeProvider())
        status, headers, body = call(site, "GET", "/console")
        assert 200 == status and b"<title>hub-bridge ops console</title>" in body
        assert "script-src 'self'" in headers["content-security-policy"]
        assert 200 == call(site, "GET", "/console/console.js")[0]
        assert 200 == call(site, "GET", "/console/console.css")[0]
        assert 404 == call(site, "GET", "/console/../../etc/passwd")[0]

    def test_root_redirects_to_console(self):
        """/ sends the operator to the console."""
        status, headers, _ = call(site_with(provider=FakeProvider()), "GET", "/")
        assert 302 == status and headers["location"].endswith("/console")

    def test_json_endpoints(self):
        """summary, messages (with limit), history, dlq and coverage answer JSON."""
        site = site_with(provider=FakeProvider())
        assert json.loads(call(site, "GET", "/api/summary")[2])["replay_allowed"] is False
        assert 3 == len(json.loads(call(site, "GET", "/api/messages?limit=3")[2]))
        assert 1 == json.loads(call(site, "GET", "/api/messages/1")[2])["message"]["id"]
        assert 7 == json.loads(call(site, "GET", "/api/dlq")[2])[0]["id"]
        assert 3 == json.loads(call(site, "GET", "/api/coverage")[2])["covered"]

    def test_bad_requests(self):
        """Unknown message -> 404, non-numeric id or limit -> 400, unknown endpoint -> 404."""
        site = site_with(provider=FakeProvider())
        assert [404, 400, 400, 404] == [
            call(site, "GET", path)[0]
            for path in ("/api/messages/2", "/api/messages/abc", "/api/messages?limit=x", "/api/nope")
        ]


class TestReplayGuard:
    def test_replay_disabled_by_default(self):
        """Without allow_replay the replay endpoint answers 403, even with the right token."""
        provider = FakeProvider()
        status, _, _ = call(site_with(provider=provider), "POST", "/api/dlq/7/replay",
                            headers={"Authorization": f"Bearer {TOKEN}"})
        assert (403, []) == (status, provider.replayed)

    def test_replay_needs_the_token(self):
        """With allow_replay, a missing or wrong token is 401 and nothing is replayed."""
        provider = FakeProvider()
        site = site_with(provider=provider, allow_replay=True)
        statuses = [
            call(site, "POST", "/api/dlq/7/replay")[0],
            call(site, "POST", "/api/dlq/7/replay", headers={"Authorization": "Bearer wrong"})[0],
        ]
        assert ([401, 401], []) == (statuses, provider.replayed)

    def test_replay_with_token(self):
        """allow_replay + right bearer token replays the entry."""
        provider = FakeProvider()
        status, _, _body = call(site_with(provider=provider, allow_replay=True), "POST", "/api/dlq/7/replay",
                               headers={"Authorization": f"Bearer {TOKEN}"})
        assert (200, [7]) == (status, provider.replayed)

    def test_replay_is_post_only(self):
        """GET on the replay URL does not replay."""
        provider = FakeProvider()
        call(site_with(provider=provider, allow_replay=True), "GET", "/api/dlq/7/replay")
        assert [] == provider.replayed


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "bridge.sqlite3") as opened:
        yield opened


class TestStoreConsoleProvider:
    def test_dead_letter_listed_and_replayed(self, store):
        """A dead-lettered message shows in /api/dlq, replays once, then leaves the queue (second replay: 409)."""
        dlq_id = store.dead_letter(b"<fiche/>", error="unmapped code X9", error_path="mappings/whats.csv:12",
                                   source="translate", at=T0, direction="out", adapter="legacy-xml")
        provider = StoreConsoleProvider(store, clock=lambda: T0 + timedelta(minutes=5))
        site = site_with(provider=provider, allow_replay=True)
        listed = json.loads(call(site, "GET", "/api/dlq")[2])
        assert [(dlq_id, "mappings/whats.csv:12")] == [(e["id"], e["error_path"]) for e in listed]
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert 200 == call(site, "POST", f"/api/dlq/{dlq_id}/replay", headers=auth)[0]
        assert [] == json.loads(call(site, "GET", "/api/dlq")[2])
        assert 409 == call(site, "POST", f"/api/dlq/{dlq_id}/replay", headers=auth)[0]
        assert 404 == call(site, "POST", "/api/dlq/999/replay", headers=auth)[0]

    def test_dead_letters_are_paged_in_sql_oldest_first(self, store, monkeypatch):
        """/api/dlq reads one page of dead letters from the store (not every pending one), same shape; ?after= pages on."""
        from bridge.app import records

        ids = [store.dead_letter(b"x" * 1000, error=f"e{i}", error_path=None, source="translate",
                                 at=T0 + timedelta(seconds=i), direction="out") for i in range(30)]
        provider = StoreConsoleProvider(store, clock=lambda: T0 + timedelta(minutes=5))
        site = site_with(provider=provider)
        read = []
        original = records.DeadLetter.from_row.__func__
        monkeypatch.setattr(records.DeadLetter, "from_row",
                            classmethod(lambda cls, row: read.append(row["id"]) or original(cls, row)))
        first = json.loads(call(site, "GET", "/api/dlq?limit=5")[2])
        assert [e["id"] for e in first] == ids[:5]
        assert len(read) == 5  # one page read, not 30 rows with their bytes
        assert set(first[0]) == set(store.dlq_get(ids[0]).summary())
        following = json.loads(call(site, "GET", f"/api/dlq?limit=5&after={ids[4]}")[2])
        assert [e["id"] for e in following] == ids[5:10]
        assert 400 == call(site, "GET", "/api/dlq?after=x")[0]

    def test_summary_messages_and_history(self, store):
        """Counts, last messages and a message's history come from the store."""
        message_id = store.accept_outbound(b"<fiche/>", adapter="legacy-xml", profile="default", received_at=T0)
        provider = StoreConsoleProvider(store, clock=lambda: T0 + timedelta(seconds=30), instance="samu44")
        summary = provider.summary()
        assert ({"out": {"received": 1}}, 1, 30.0) == (
            summary["counts"], summary["outbox_depth"], summary["oldest_pending_age_seconds"])
        assert [message_id] == [m["id"] for m in provider.messages(10)]
        assert ["received"] == [e["to_state"] for e in provider.history(message_id)["events"]]

    def test_metrics_snapshot_feeds_gauges(self, store):
        """The provider's snapshot drives the scrape-time gauges."""
        store.dead_letter(b"x", error="e", error_path=None, source="parse", at=T0)
        provider = StoreConsoleProvider(store, clock=lambda: T0)
        _, _, body = call(site_with(metrics=BridgeMetrics(snapshot=provider.metrics_snapshot)), "GET", "/metrics")
        assert b"bridge_dlq_size 1.0" in body


class TestStartHttp:
    def test_disabled_returns_none(self):
        """[http] enabled = false starts nothing."""
        config = load_config(None, {"HUB_BRIDGE__HTTP__ENABLED": "false"})
        assert start_http(None, config.http, metrics=BridgeMetrics(), checks={}) is None

    def test_listens_on_configured_address(self):
        """start_http listens on the configured bind and port (MemoryReactor, no socket)."""
        reactor = MemoryReactor()
        config = load_config(None, {"HUB_BRIDGE__HTTP__PORT": "9999"})
        start_http(reactor, config.http, metrics=BridgeMetrics(), checks={})
        port, _, _, interface = reactor.tcpServers[0]
        assert (9999, "127.0.0.1") == (port, interface)


class TestAccessLog:
    """Polls (probes, Prometheus, the open console) are access-logged at DEBUG; other requests at INFO."""

    def _level(self, method: bytes, path: bytes, monkeypatch) -> str:
        """The level the access line is written at (a recording logger: whatever the global config)."""
        from bridge.edges.http import server

        lines: list[tuple[str, str, dict]] = []

        class Recorder:
            def debug(self, event, **kw):
                lines.append(("debug", event, kw))

            def info(self, event, **kw):
                lines.append(("info", event, kw))

        monkeypatch.setattr(server, "log", Recorder())
        request = SimpleNamespace(method=method, path=path, code=200,
                                  getClientAddress=lambda: IPv4Address("TCP", "127.0.0.1", 40000))
        server.build_site(Resource()).log(request)
        ((level, event, keys),) = lines
        assert event == "http_request" and keys["path"] == path.decode() and keys["method"] == method.decode()
        return level

    @pytest.mark.parametrize("path", [b"/healthz", b"/readyz", b"/metrics", b"/api/summary", b"/api/messages",
                                      b"/console/console.js"])
    def test_polls_at_debug(self, path, monkeypatch):
        assert self._level(b"GET", path, monkeypatch) == "debug"

    @pytest.mark.parametrize(("method", "path"), [(b"POST", b"/api/dlq/3/replay"), (b"GET", b"/nothing-here")])
    def test_other_requests_at_info(self, method, path, monkeypatch):
        assert self._level(method, path, monkeypatch) == "info"

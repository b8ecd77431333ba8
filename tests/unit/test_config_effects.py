"""Every key of ``docs/configuration.md`` is read, and a named test shows its effect.

``EFFECTS`` maps each ``section.key`` to the test that changes the key and observes what it
governs. ``test_every_key_has_an_effect_test`` fails when a key is added without such a test
(or a listed test disappears): add the test, or remove the key.
"""

from __future__ import annotations

import ast
import io
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from click.testing import CliRunner

from bridge.runtime.config import SECTIONS, load_config

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HERE = "tests/unit/test_config_effects.py"
WIRING = "tests/integration/test_config_wiring.py"

EFFECTS: dict[str, str] = {
    "bridge.client_id": f"{HERE}::test_hub_keys_reach_the_amqp_client",
    "bridge.peer_id": f"{WIRING}::test_bridge_section",
    "bridge.instance": f"{WIRING}::test_bridge_section",
    "hub.mode": "tests/integration/test_run_modes_live.py::test_embedded_start_warns_in_log_readyz_console_and_banner",
    "hub.host": f"{HERE}::test_hub_keys_reach_the_amqp_client",
    "hub.port": f"{HERE}::test_hub_keys_reach_the_amqp_client",
    "hub.vhost": f"{HERE}::test_hub_keys_reach_the_amqp_client",
    "hub.tls": f"{HERE}::test_plain_login_keys_reach_the_amqp_client",
    "hub.ca_file": f"{HERE}::test_hub_keys_reach_the_amqp_client",
    "hub.cert_file": f"{HERE}::test_hub_keys_reach_the_amqp_client",
    "hub.key_file": f"{HERE}::test_hub_keys_reach_the_amqp_client",
    "hub.server_hostname": f"{HERE}::test_hub_keys_reach_the_amqp_client",
    "hub.username": f"{HERE}::test_plain_login_keys_reach_the_amqp_client",
    "hub.password": f"{HERE}::test_plain_login_keys_reach_the_amqp_client",
    "hub.content_type": f"{WIRING}::test_hub_rcref_deadline_and_content_type",
    "hub.prefetch": f"{HERE}::test_hub_keys_reach_the_amqp_client",
    "hub.heartbeat": f"{HERE}::test_hub_keys_reach_the_amqp_client",
    "hub.reconnect_min_seconds": f"{HERE}::test_hub_keys_reach_the_amqp_client",
    "hub.reconnect_max_seconds": f"{HERE}::test_hub_keys_reach_the_amqp_client",
    "hub.rcref_deadline_seconds": f"{WIRING}::test_hub_rcref_deadline_and_content_type",
    "legacy.mode": "tests/integration/test_legacy_links.py::test_tcp_client_mode_connects_to_the_lrm",
    "legacy.host": "tests/integration/test_legacy_links.py::test_tcp_client_mode_connects_to_the_lrm",
    "legacy.port": "tests/integration/test_run_modes_live.py::test_legacy_port_in_use_names_the_setting",
    "legacy.profile": f"{HERE}::test_legacy_profile_is_checked_by_name",
    "legacy.inbox_dir": "tests/integration/test_legacy_links.py::test_file_drop_takes_complete_files_and_writes_answers_atomically",
    "legacy.outbox_dir": "tests/integration/test_legacy_links.py::test_file_drop_takes_complete_files_and_writes_answers_atomically",
    "legacy.max_frame_bytes": f"{WIRING}::test_legacy_max_frame_bytes",
    "legacy.allowed_peers": f"{WIRING}::test_legacy_link_guards",
    "legacy.max_refused_frames": f"{WIRING}::test_legacy_link_guards",
    "legacy.handover_deadline_seconds": f"{WIRING}::test_legacy_link_guards",
    "legacy.file_settle_seconds": f"{WIRING}::test_legacy_file_settle_seconds",
    "store.path": f"{HERE}::test_store_commands_read_the_config_store_path",
    "store.synchronous": f"{WIRING}::test_store_section",
    "store.max_pending": f"{HERE}::test_dlq_replay_respects_the_config_max_pending",
    "store.retention_days": f"{WIRING}::test_store_retention_days_sets_the_service_retention",
    "delivery.max_attempts": f"{WIRING}::test_delivery_section",
    "delivery.backoff_base": f"{WIRING}::test_delivery_section",
    "delivery.backoff_max": f"{WIRING}::test_delivery_section",
    "delivery.jitter": f"{WIRING}::test_delivery_section",
    "mappings.dir": f"{WIRING}::test_mappings_section",
    "mappings.reload_interval_seconds": f"{WIRING}::test_mappings_section",
    "nomenclatures.dir": f"{WIRING}::test_nomenclatures_dir",
    "schemas.dir": f"{WIRING}::test_schemas_dir_is_the_bundle_the_bridge_loads",
    "schemas.version": "tests/unit/test_bundle_versions.py::test_link_version_comes_from_configuration_then_vhost",
    "confidentiality.allow_to_fire": "tests/unit/test_confidentiality.py::test_opt_in_needs_an_opt_in_row_and_a_basis",
    "confidentiality.basis": "tests/unit/test_confidentiality.py::test_configuration_refuses_opt_in_without_basis",
    "http.enabled": "tests/unit/test_http.py::test_disabled_returns_none",
    "http.bind": "tests/unit/test_http.py::test_listens_on_configured_address",
    "http.port": "tests/unit/test_http.py::test_listens_on_configured_address",
    "http.console": f"{WIRING}::test_http_console_false_serves_no_console",
    "http.allow_replay": f"{HERE}::test_replay_keys_reach_the_console_api",
    "http.replay_token": f"{HERE}::test_replay_keys_reach_the_console_api",
    "logging.format": f"{HERE}::test_logging_section_configures_the_output",
    "logging.level": f"{HERE}::test_logging_section_configures_the_output",
    "logging.debug_health_data": f"{HERE}::test_logging_section_configures_the_output",
}


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_key_has_an_effect_test():
    keys = {f"{section}.{key}" for section, model in SECTIONS.items() for key in model.model_fields}
    assert sorted(keys - set(EFFECTS)) == [], "keys without a test showing their effect"
    assert sorted(set(EFFECTS) - keys) == [], "tests listed for keys that no longer exist"
    missing = []
    for key, where in EFFECTS.items():
        path, _, name = where.partition("::")
        if not (PROJECT_ROOT / path).is_file() or name not in _test_names(PROJECT_ROOT / path):
            missing.append(f"{key}: {where}")
    assert missing == []


def test_every_documented_key_is_a_config_key():
    """docs/configuration.md documents exactly the keys of the model (no key only in the docs)."""
    import re

    text = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`HUB_BRIDGE__([A-Z]+)__([A-Z_]+)`", text))
    documented.discard(("SECTION", "KEY"))
    keys = {(section.upper(), key.upper()) for section, model in SECTIONS.items() for key in model.model_fields}
    assert documented == keys


def test_hub_keys_reach_the_amqp_client(tmp_path):
    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    env = {
        "HUB_BRIDGE__BRIDGE__CLIENT_ID": "fr.health.samu999", "HUB_BRIDGE__HUB__MODE": "amqp",
        "HUB_BRIDGE__HUB__HOST": "hub.example.org", "HUB_BRIDGE__HUB__PORT": "5999",
        "HUB_BRIDGE__HUB__VHOST": "/15-nexsis_v2.0", "HUB_BRIDGE__HUB__CA_FILE": str(files["ca"]),
        "HUB_BRIDGE__HUB__CERT_FILE": str(files["cert"]), "HUB_BRIDGE__HUB__KEY_FILE": str(files["key"]),
        "HUB_BRIDGE__HUB__SERVER_HOSTNAME": "broker.example.org", "HUB_BRIDGE__HUB__PREFETCH": "42",
        "HUB_BRIDGE__HUB__HEARTBEAT": "17", "HUB_BRIDGE__HUB__RECONNECT_MIN_SECONDS": "0.5",
        "HUB_BRIDGE__HUB__RECONNECT_MAX_SECONDS": "9", "HUB_BRIDGE__HUB__CONTENT_TYPE": "xml",
    }
    settings = load_config(None, env, check=False).hub_client_settings()
    assert (settings.client_id, settings.host, settings.port, settings.vhost) == (
        "fr.health.samu999", "hub.example.org", 5999, "/15-nexsis_v2.0")
    assert (settings.ca_cert, settings.cert, settings.key) == (files["ca"], files["cert"], files["key"])
    assert (settings.server_hostname, settings.prefetch, settings.heartbeat) == ("broker.example.org", 42, 17)
    assert (settings.reconnect_initial, settings.reconnect_max) == (0.5, 9.0)
    assert settings.content_type == "application/xml"


def test_plain_login_keys_reach_the_amqp_client():
    env = {"HUB_BRIDGE__HUB__MODE": "amqp", "HUB_BRIDGE__HUB__TLS": "false", "HUB_BRIDGE__HUB__HOST": "127.0.0.1",
           "HUB_BRIDGE__HUB__USERNAME": "rig", "HUB_BRIDGE__HUB__PASSWORD": "rig-secret"}
    settings = load_config(None, env, check=False).hub_client_settings()
    assert (settings.tls, settings.username, settings.password) == (False, "rig", "rig-secret")


def test_legacy_profile_is_checked_by_name():
    """legacy.profile names the dialect; an unknown name is refused with the known ones listed."""
    from bridge.runtime.config import ConfigError

    assert load_config(None, {"HUB_BRIDGE__LEGACY__PROFILE": "lrm-beta-xml"}).legacy.profile == "lrm-beta-xml"
    with pytest.raises(ConfigError) as caught:
        load_config(None, {"HUB_BRIDGE__LEGACY__PROFILE": "lrm-gamma"})
    assert "lrm-alpha-text" in str(caught.value)


def test_replay_keys_reach_the_console_api():
    from bridge.edges.http.console import ConsoleApi
    from bridge.edges.http.server import start_http
    from bridge.edges.metrics import BridgeMetrics

    class _Provider:
        def summary(self) -> dict:
            return {}

    token = "0123456789abcdef-token"
    for allow, expected in ((False, False), (True, True)):
        env = {"HUB_BRIDGE__HTTP__ALLOW_REPLAY": str(allow).lower(), "HUB_BRIDGE__HTTP__REPLAY_TOKEN": token}
        reactor = _ListeningReactor()
        start_http(reactor, load_config(None, env).http, metrics=BridgeMetrics(), checks={}, provider=_Provider())
        api = reactor.factory.resource.children[b"api"]
        assert isinstance(api, ConsoleApi)
        assert api.allow_replay is expected and api._token == token.encode()


class _ListeningReactor:
    """Just enough reactor for start_http: records the site it is asked to serve.

    (twisted.internet.testing.MemoryReactor is avoided on purpose: importing that module makes
    getattr(cls, "__provides__") raise on xmlschema's classes, breaking later schema builds.)
    """

    factory = None

    def listenTCP(self, port, factory, interface=""):
        self.factory = factory

        class _Port:
            def getHost(self):
                from twisted.internet.address import IPv4Address

                return IPv4Address("TCP", interface, port)

        return _Port()


@pytest.fixture
def _restore_logging():
    root_level = logging.getLogger().level
    yield
    structlog.reset_defaults()
    for handler in list(logging.getLogger().handlers):
        if type(handler).__name__ == "_BridgeHandler":
            logging.getLogger().removeHandler(handler)
    logging.getLogger().setLevel(root_level)


def test_logging_section_configures_the_output(_restore_logging):
    """format json -> JSON lines; level WARNING drops info; debug_health_data lets a debug payload through."""
    from bridge.runtime.logging import configure_from

    stream = io.StringIO()
    env = {"HUB_BRIDGE__LOGGING__FORMAT": "json", "HUB_BRIDGE__LOGGING__LEVEL": "WARNING"}
    configure_from(load_config(None, env, check=False).logging, stream=stream)
    structlog.get_logger("t").info("dropped")
    structlog.get_logger("t").warning("kept")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["kept"]
    for enabled in (False, True):
        stream = io.StringIO()
        env = {"HUB_BRIDGE__LOGGING__FORMAT": "json", "HUB_BRIDGE__LOGGING__LEVEL": "DEBUG",
               "HUB_BRIDGE__LOGGING__DEBUG_HEALTH_DATA": str(enabled).lower()}
        configure_from(load_config(None, env, check=False).logging, stream=stream)
        structlog.get_logger("t").debug("received", payload="<patient>Dupont</patient>")
        assert ("Dupont" in stream.getvalue()) is enabled


# -- the store commands read the same configuration as `bridge run` -------------------------------------------

def _store_with_old_delivered(path: Path) -> None:
    from bridge.edges.store import Store, Translation

    old = datetime.now(UTC) - timedelta(days=10)
    with Store.open(path) as store:
        done = store.accept_outbound(b"OLD", adapter="legacy-text", profile="demo", received_at=old)
        store.record_translated(done, Translation(b"{}", "fr.health.samu440_9", "CASE-9", None), at=old)
        store.mark_published(done, at=old)
        store.mark_delivered("fr.health.samu440_9", at=old)


def _cli(args: list[str], monkeypatch, **env: str):
    from bridge.cli.main import cli

    for name in ("HUB_BRIDGE_CONFIG", "HUB_BRIDGE__STORE__PATH", "HUB_BRIDGE__STORE__RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(cli, args)


def test_store_commands_read_the_config_store_path(tmp_path, monkeypatch):
    """`--config FILE` (or $HUB_BRIDGE_CONFIG) with [store] path: the commands open that store."""
    path = tmp_path / "configured.sqlite3"
    _store_with_old_delivered(path)
    config = tmp_path / "bridge.toml"
    config.write_text(f'[store]\npath = "{path}"\n', encoding="utf-8")
    for args, env in ((["store", "stats", "--json", "--config", str(config)], {}),
                      (["store", "stats", "--json"], {"HUB_BRIDGE_CONFIG": str(config)}),
                      (["store", "stats", "--json"], {"HUB_BRIDGE__STORE__PATH": str(path)})):
        result = _cli(args, monkeypatch, **env)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["by_state"] == {"out/delivered": 1}
    missing = _cli(["store", "stats"], monkeypatch)  # the default store does not exist here
    assert missing.exit_code == 2 and "no store at" in missing.output


def test_store_purge_defaults_to_retention_days(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    _store_with_old_delivered(path)
    kept = _cli(["store", "purge", "--json"], monkeypatch, HUB_BRIDGE__STORE__PATH=str(path),
                HUB_BRIDGE__STORE__RETENTION_DAYS="20")
    assert kept.exit_code == 0 and json.loads(kept.output)["deleted"] == 0
    purged = _cli(["store", "purge", "--json"], monkeypatch, HUB_BRIDGE__STORE__PATH=str(path),
                  HUB_BRIDGE__STORE__RETENTION_DAYS="5")
    assert purged.exit_code == 0 and json.loads(purged.output)["deleted"] == 1


def test_dlq_replay_respects_the_config_max_pending(tmp_path, monkeypatch):
    from bridge.edges.store import Store

    path = tmp_path / "s.sqlite3"
    now = datetime.now(UTC)
    with Store.open(path) as store:
        store.accept_outbound(b"WAITING", adapter="legacy-text", profile="demo", received_at=now)
        entry = store.dead_letter(b"FRAME", error="x", error_path=None, source="legacy", at=now, direction="out",
                                  adapter="legacy-text", profile="demo")
    refused = _cli(["dlq", "replay", str(entry), "--json"], monkeypatch, HUB_BRIDGE__STORE__PATH=str(path),
                   HUB_BRIDGE__STORE__MAX_PENDING="1")
    assert refused.exit_code == 1 and "outbox full" in refused.output
    accepted = _cli(["dlq", "replay", str(entry), "--json"], monkeypatch, HUB_BRIDGE__STORE__PATH=str(path),
                    HUB_BRIDGE__STORE__MAX_PENDING="10")
    assert accepted.exit_code == 0, accepted.output

"""Tests of the configuration model and loader (bridge/runtime/config.py) and `bridge config`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from bridge.cli.main import cli
from bridge.runtime.config import (
    BridgeConfig,
    ConfigError,
    check_files,
    env_var_name,
    load_config,
    redacted_dump,
    with_overrides,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-token-0123456789"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(text, encoding="utf-8")
    return path


def make_tls_files(tmp_path: Path, key_mode: int = 0o600) -> dict[str, Path]:
    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    for path in files.values():
        path.write_text("-----BEGIN TEST-----\n", encoding="ascii")
    files["key"].chmod(key_mode)
    return files


def amqp_toml(files: dict[str, Path]) -> str:
    return (
        '[hub]\nmode = "amqp"\nhost = "hub.example"\n'
        f'ca_file = "{files["ca"]}"\ncert_file = "{files["cert"]}"\nkey_file = "{files["key"]}"\n'
    )


class TestDefaults:
    def test_no_file_gives_the_embedded_default(self):
        """Without a file the bridge runs the embedded Hub on loopback, no certificates needed."""
        config = load_config(None, {})
        assert ("embedded", "127.0.0.1", "127.0.0.1") == (config.hub.mode, config.legacy.host, config.http.bind)
        assert config.store.synchronous == "FULL" and config.store.retention_days == 30

    def test_model_is_frozen(self):
        """A loaded configuration cannot be changed behind the service's back."""
        config = load_config(None, {})
        with pytest.raises(ValidationError, match="frozen"):
            config.hub.port = 1  # type: ignore[misc]

    def test_example_file_loads(self):
        """config.example.toml at the repo root is valid (file checks aside: its certificates are placeholders)."""
        config = load_config(PROJECT_ROOT / "config.example.toml", {}, check=False)
        assert config.hub.mode == "amqp" and config.bridge.instance == "samu44-bridge-1"

    def test_store_path_defaults_to_data_home(self):
        """An unset store path lands in the user data dir ($HUB_BRIDGE_HOME)."""
        config = load_config(None, {})
        assert Path(os.environ["HUB_BRIDGE_HOME"]) / "bridge.sqlite3" == config.store.effective_path()


class TestOverlay:
    def test_toml_overrides_defaults(self, tmp_path):
        """A key in the file replaces the default and leaves the others alone."""
        config = load_config(write(tmp_path, "[legacy]\nport = 2000\n"), {})
        assert (2000, 1_048_576) == (config.legacy.port, config.legacy.max_frame_bytes)

    def test_env_overrides_toml(self, tmp_path):
        """HUB_BRIDGE__SECTION__KEY wins over the file and is converted to the key's type."""
        path = write(tmp_path, "[legacy]\nport = 2000\n")
        config = load_config(path, {"HUB_BRIDGE__LEGACY__PORT": "3000", "HUB_BRIDGE__HTTP__CONSOLE": "false"})
        assert (3000, False) == (config.legacy.port, config.http.console)

    def test_env_var_name_scheme(self):
        """The documented variable name is upper case with double underscores."""
        assert "HUB_BRIDGE__HUB__RCREF_DEADLINE_SECONDS" == env_var_name("hub", "rcref_deadline_seconds")

    def test_single_underscore_variables_are_ignored(self):
        """$HUB_BRIDGE_HOME and friends are not config keys."""
        config = load_config(None, {"HUB_BRIDGE_HOME": "/tmp/x", "HUB_BRIDGE_MAPPINGS": "/tmp/y"})
        assert config == BridgeConfig()


class TestErrors:
    def test_unknown_key_lists_valid_keys(self, tmp_path):
        """A typo names the key, the file and the valid keys of its section."""
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, "[hub]\nprot = 5671\n"), {})
        issue = info.value.issues[0]
        assert "hub.prot" == issue.path
        assert "unknown key" in issue.message and "port" in issue.message and str(tmp_path) in issue.message

    def test_unknown_section_lists_sections(self, tmp_path):
        """An unknown table is refused with the list of sections."""
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, "[hubb]\nport = 1\n"), {})
        assert "hubb" == info.value.issues[0].path and "legacy" in info.value.issues[0].message

    def test_bad_type_names_key_expected_and_found(self, tmp_path):
        """A wrong value names the key, what is expected and what was found."""
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, '[hub]\nport = "abc"\n'), {})
        issue = info.value.issues[0]
        assert "hub.port" == issue.path and "integer" in issue.message and "'abc'" in issue.message

    def test_bad_env_value_names_the_variable(self):
        """An override that does not parse points at the environment variable."""
        with pytest.raises(ConfigError) as info:
            load_config(None, {"HUB_BRIDGE__STORE__SYNCHRONOUS": "OFF"})
        assert "$HUB_BRIDGE__STORE__SYNCHRONOUS" in info.value.issues[0].message

    def test_malformed_env_name_is_refused(self):
        """A variable with the prefix but not SECTION__KEY is an error, not silently ignored."""
        with pytest.raises(ConfigError, match="HUB_BRIDGE__PORT"):
            load_config(None, {"HUB_BRIDGE__PORT": "1"})

    def test_unknown_env_key_is_refused(self):
        """A misspelt override variable is an error listing the section's keys."""
        with pytest.raises(ConfigError) as info:
            load_config(None, {"HUB_BRIDGE__HUB__VHOTS": "/x"})
        assert "vhost" in info.value.issues[0].message

    def test_invalid_toml_is_reported(self, tmp_path):
        """A TOML syntax error names the file."""
        with pytest.raises(ConfigError, match="not valid TOML"):
            load_config(write(tmp_path, "[hub\n"), {})

    def test_missing_file_is_reported(self, tmp_path):
        """A config path that does not exist is a config error, not a traceback."""
        with pytest.raises(ConfigError, match="cannot read"):
            load_config(tmp_path / "nope.toml", {})

    def test_replay_needs_a_token(self, tmp_path):
        """allow_replay without a token is refused at start."""
        with pytest.raises(ConfigError, match="replay_token"):
            load_config(write(tmp_path, "[http]\nallow_replay = true\n"), {})

    def test_plain_amqp_to_remote_host_refused(self, tmp_path):
        """Disabling TLS is only allowed for a loopback broker."""
        with pytest.raises(ConfigError, match="loopback"):
            load_config(write(tmp_path, '[hub]\nmode = "amqp"\ntls = false\nhost = "hub.example"\n'), {})

    def test_plain_amqp_needs_a_login(self, tmp_path):
        """A loopback broker without TLS needs a PLAIN username and password."""
        with pytest.raises(ConfigError, match="username"):
            load_config(write(tmp_path, '[hub]\nmode = "amqp"\ntls = false\n'), {})

    def test_errors_are_all_reported_at_once(self, tmp_path):
        """Several mistakes give several issues, not only the first."""
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, "[hub]\nport = 0\nprefetch = 0\n"), {})
        assert {"hub.port", "hub.prefetch"} == {issue.path for issue in info.value.issues}


class TestOverrides:
    def test_flag_override_revalidated(self):
        """--allow-replay without a token is refused like the same key in a file."""
        with pytest.raises(ConfigError, match="replay_token"):
            with_overrides(load_config(None, {}), {"http.allow_replay": True})

    def test_flag_override_keeps_secrets(self):
        """An override keeps the other values, including the real replay token."""
        config = load_config(None, {"HUB_BRIDGE__HTTP__REPLAY_TOKEN": TOKEN})
        updated = with_overrides(config, {"http.allow_replay": True})
        assert (True, TOKEN) == (updated.http.allow_replay, updated.http.replay_token.get_secret_value())

    def test_unknown_override_key(self):
        """A misspelt override key is an error."""
        with pytest.raises(ConfigError, match="http.allow_replays"):
            with_overrides(load_config(None, {}), {"http.allow_replays": True})


class TestFileChecks:
    def test_amqp_mode_needs_certificates(self, tmp_path):
        """hub.mode = amqp without certificate paths names each missing key."""
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, '[hub]\nmode = "amqp"\n'), {})
        assert {"hub.ca_file", "hub.cert_file", "hub.key_file"} == {issue.path for issue in info.value.issues}

    def test_missing_certificate_is_named(self, tmp_path):
        """A certificate path that does not exist is reported with its key and path."""
        files = make_tls_files(tmp_path)
        files["cert"].unlink()
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, amqp_toml(files)), {})
        assert "hub.cert_file" == info.value.issues[0].path and "does not exist" in info.value.issues[0].message

    def test_unreadable_ca_is_named(self, tmp_path, monkeypatch):
        """A CA file we cannot read is reported as unreadable (open() refused, as for a non-root user on mode 000)."""
        files = make_tls_files(tmp_path)
        real_open = Path.open

        def refusing_open(self, *args, **kwargs):
            if self == files["ca"]:
                raise PermissionError(13, "Permission denied")
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", refusing_open)
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, amqp_toml(files)), {})
        assert "hub.ca_file" == info.value.issues[0].path and "unreadable" in info.value.issues[0].message

    def test_group_readable_key_refused(self, tmp_path):
        """A private key readable by others is refused."""
        files = make_tls_files(tmp_path, key_mode=0o644)
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, amqp_toml(files)), {})
        assert "key" in str(info.value) and "600" in str(info.value)

    def test_good_certificates_pass(self, tmp_path):
        """Readable certificates and a private key of mode 600 pass the checks."""
        files = make_tls_files(tmp_path)
        config = load_config(write(tmp_path, amqp_toml(files)), {})
        assert [] == check_files(config)

    def test_unknown_profile_lists_known_ones(self, tmp_path):
        """A legacy profile that does not exist is named with the list of shipped profiles."""
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, '[legacy]\nprofile = "lrm-gamma"\n'), {})
        issue = info.value.issues[0]
        assert "legacy.profile" == issue.path and "lrm-gamma" in issue.message and "lrm-alpha-text" in issue.message

    def test_missing_folder_is_named(self, tmp_path):
        """A configured mappings folder that does not exist is reported."""
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, f'[mappings]\ndir = "{tmp_path / "nope"}"\n'), {})
        assert "mappings.dir" == info.value.issues[0].path


class TestHubClientSettings:
    def test_config_maps_to_the_amqp_client_settings(self, tmp_path):
        """hub_client_settings() carries host, vhost, certificates, client id and content type to the AMQP client."""
        files = make_tls_files(tmp_path)
        config = load_config(write(tmp_path, amqp_toml(files) + 'content_type = "xml"\n'), {})
        settings = config.hub_client_settings()
        assert ("hub.example", "/15-nexsis_v1.9", files["key"], "fr.health.samu440", "application/xml") == (
            settings.host, settings.vhost, settings.key, settings.client_id, settings.content_type)

    def test_plain_loopback_settings(self):
        """A plain loopback config passes its PLAIN login to the client settings."""
        env = {"HUB_BRIDGE__HUB__MODE": "amqp", "HUB_BRIDGE__HUB__TLS": "false", "HUB_BRIDGE__HUB__USERNAME": "guest",
               "HUB_BRIDGE__HUB__PASSWORD": "guest-password"}
        settings = load_config(None, env).hub_client_settings()
        assert ("guest", "guest-password", False) == (settings.username, settings.password, settings.tls)


class TestCli:
    def test_check_ok(self, tmp_path):
        """`bridge config check` exits 0 on a good file."""
        result = CliRunner().invoke(cli, ["config", "check", "--config", str(write(tmp_path, "[legacy]\nport = 2000\n"))])
        assert 0 == result.exit_code and "configuration OK" in result.output

    def test_health_lrm_example_is_accepted(self, tmp_path):
        """config.health-lrm.example.toml (docs/health.md), with its certificate paths made real, passes the check."""
        files = make_tls_files(tmp_path)
        text = (PROJECT_ROOT / "config.health-lrm.example.toml").read_text(encoding="utf-8")
        for name, placeholder in (("ca", "/etc/hub-bridge/tls/ca.pem"),
                                  ("cert", "/etc/hub-bridge/tls/fr.health.samu440.crt"),
                                  ("key", "/etc/hub-bridge/tls/fr.health.samu440.key")):
            assert placeholder in text
            text = text.replace(placeholder, str(files[name]))
        text = text.replace("/var/lib/hub-bridge/bridge.sqlite3", str(tmp_path / "bridge.sqlite3"))
        result = CliRunner().invoke(cli, ["config", "check", "--config", str(write(tmp_path, text))])
        assert 0 == result.exit_code, result.output
        config = load_config(tmp_path / "bridge.toml", {}, check=False)
        assert config.legacy.profile == "lrm-health-json" and config.confidentiality.allow_to_fire == []

    def test_check_bad_exits_3(self, tmp_path):
        """`bridge config check` exits 3 and names the key on a bad file."""
        result = CliRunner().invoke(cli, ["config", "check", "--config", str(write(tmp_path, "[hub]\nprot = 1\n"))])
        assert 3 == result.exit_code and "hub.prot" in result.output

    def test_show_masks_secrets(self, tmp_path):
        """`bridge config show` prints the effective TOML with the replay token masked."""
        env = {"HUB_BRIDGE__HTTP__REPLAY_TOKEN": TOKEN, "HUB_BRIDGE__HTTP__ALLOW_REPLAY": "true"}
        result = CliRunner().invoke(cli, ["config", "show"], env=env)
        assert 0 == result.exit_code
        assert TOKEN not in result.output and "replay_token" in result.output and "allow_replay = true" in result.output

    def test_show_json(self, tmp_path):
        """`bridge config show --json` prints the effective values as JSON, including file overrides."""
        import json

        result = CliRunner().invoke(cli, ["config", "show", "--json", "--config", str(write(tmp_path, "[legacy]\nport = 2000\n"))])
        assert 0 == result.exit_code and 2000 == json.loads(result.output)["legacy"]["port"]

    def test_redacted_dump_leaves_out_unset_keys(self):
        """Unset optional keys are absent from the dump (TOML has no null)."""
        assert "ca_file" not in redacted_dump(load_config(None, {}))["hub"]


def test_allowed_peers_from_the_environment_and_refused_entries():
    """legacy.allowed_peers: comma-separated in the environment; a non-address is refused naming it."""
    from bridge.runtime.config import ConfigError, load_config

    config = load_config(None, {"HUB_BRIDGE__LEGACY__ALLOWED_PEERS": "10.0.0.5, 10.1.0.0/24"}, check=False)
    assert config.legacy.allowed_peers == ["10.0.0.5", "10.1.0.0/24"]
    assert load_config(None, {}, check=False).legacy.allowed_peers == ["127.0.0.1", "::1"]
    try:
        load_config(None, {"HUB_BRIDGE__LEGACY__ALLOWED_PEERS": "10.0.0.5,lrm.example"}, check=False)
    except ConfigError as exc:
        assert "'lrm.example' is not an IP address" in str(exc)
    else:
        raise AssertionError("a host name in allowed_peers must be refused")

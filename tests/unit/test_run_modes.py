"""``bridge run`` never runs a silent simulator: no config refuses, embedded is explicit and announced."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli.main import cli
from bridge.runtime.config import ConfigError, embedded_is_explicit, load_config


def _invoke(args: list[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HUB_BRIDGE_CONFIG", raising=False)
    return CliRunner().invoke(cli, args)


def test_run_without_config_refuses_and_points_at_demo_and_embedded(monkeypatch):
    result = _invoke(["run"], monkeypatch)
    assert result.exit_code == 3
    assert "no Hub configured" in result.output
    assert "bridge demo" in result.output and "--embedded" in result.output


def test_run_embedded_flag_conflicts_with_an_amqp_config(tmp_path: Path, monkeypatch):
    config = tmp_path / "bridge.toml"
    config.write_text('[hub]\nmode = "amqp"\ntls = false\nhost = "127.0.0.1"\nusername = "u"\npassword = "p"\n')
    result = _invoke(["run", "--embedded", "--config", str(config)], monkeypatch)
    assert result.exit_code == 3
    assert "--embedded conflicts" in result.output


def test_a_config_naming_a_hub_without_mode_is_refused(tmp_path: Path):
    """[hub] host = ... without mode would have run the simulator: refused, naming the keys."""
    config = tmp_path / "bridge.toml"
    config.write_text('[hub]\nhost = "hub.example.org"\nport = 5671\n')
    with pytest.raises(ConfigError) as caught:
        load_config(config, {}, check=False)
    assert "hub.host" in str(caught.value) and "hub.mode" in str(caught.value)


def test_explicit_embedded_mode_in_config_is_accepted(tmp_path: Path):
    config = tmp_path / "bridge.toml"
    config.write_text('[hub]\nmode = "embedded"\n')
    loaded = load_config(config, {}, check=False)
    assert loaded.hub.mode == "embedded" and embedded_is_explicit(loaded)
    assert not embedded_is_explicit(load_config(None, {}, check=False))
    assert embedded_is_explicit(load_config(None, {"HUB_BRIDGE__HUB__MODE": "embedded"}, check=False))

"""``bridge config check|show``: validate a configuration before a restart, see what is in effect."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="HUB_BRIDGE_CONFIG",
    default=None,
    help="TOML configuration file (default: $HUB_BRIDGE_CONFIG, else the embedded default).",
)

EXIT_CONFIG_ERROR = 3


def _load(config_path: Path | None, *, check: bool):
    from bridge.runtime.config import ConfigError, load_config

    try:
        return load_config(config_path, os.environ, check=check)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG_ERROR) from None


@click.group("config")
def config() -> None:
    """Check or show the bridge configuration."""


@config.command("check")
@CONFIG_OPTION
def check(config_path: Path | None) -> None:
    """Validate keys, values, certificates and folders.

    Exit codes: 0 the configuration is usable; 2 bad usage; 3 any problem (each one listed).
    """
    cfg = _load(config_path, check=True)
    source = config_path or "embedded default"
    click.echo(f"configuration OK ({source}): hub mode {cfg.hub.mode}, legacy {cfg.legacy.mode}, client {cfg.bridge.client_id}")


@config.command("show")
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="JSON instead of TOML.")
def show(config_path: Path | None, as_json: bool) -> None:
    """Print the effective configuration (defaults + file + environment), secrets masked.

    Exit codes: 0 printed; 2 bad usage; 3 the configuration is invalid.
    """
    import tomli_w

    from bridge.runtime.config import redacted_dump

    data = redacted_dump(_load(config_path, check=False))
    click.echo(json.dumps(data, indent=2) if as_json else tomli_w.dumps(data), nl=as_json)

"""``bridge adapters list``: the installed adapters (entry points ``hub_bridge.adapters``)."""

from __future__ import annotations

import json

import click


@click.group("adapters")
def adapters() -> None:
    """Formats the bridge can translate from and to (built-in and plugins)."""


@adapters.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_adapters(as_json: bool) -> None:
    """Name, direction (in/out/both), version and providing package of each adapter.

    Exit codes: 0 listed; 3 an installed adapter plugin is broken (configuration).
    """
    from bridge.core.errors import BridgeError
    from bridge.refdata.adapters import discover

    try:
        installed = discover()
    except BridgeError as exc:
        click.echo(f"adapters: {exc}", err=True)
        raise SystemExit(3) from None
    rows = [{"name": i.name, "direction": i.direction, "version": i.version, "provider": i.provider}
            for i in installed.values()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    width = max(len(r["name"]) for r in rows)
    click.echo(f"{'NAME':<{width}}  DIRECTION  VERSION  PROVIDER")
    for row in rows:
        click.echo(f"{row['name']:<{width}}  {row['direction']:<9}  {row['version']:<7}  {row['provider']}")

"""``bridge nomenclatures``: import the official code lists, list them, show one."""

from __future__ import annotations

from pathlib import Path

import click

NOMENCLATURES_OPTION = click.option(
    "--nomenclatures", "nomenclatures_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None, help="Read code lists from DIR instead of $HUB_NOMENCLATURES or the installed release.")


def load_or_exit(directory: Path | None):
    """The code lists in force, or exit 2 (unreadable input) with the reason."""
    from bridge.refdata.nomenclature_store import NomenclatureStoreError, load_nomenclatures

    try:
        return load_nomenclatures(directory)
    except (NomenclatureStoreError, OSError, ValueError, KeyError) as exc:
        click.echo(f"error: cannot read code lists: {exc}", err=True)
        raise SystemExit(2) from exc


@click.group(name="nomenclatures")
def nomenclatures() -> None:
    """Code lists (CISU/Hub Santé, EMSI, legacy dialects) with their version."""


@nomenclatures.command(name="import")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="Do not print each defect, only their count.")
def import_cmd(directory: Path, quiet: bool) -> None:
    """Install the official CSV release in DIRECTORY into the user data directory.

    Exit codes: 0 installed (defects are warned about); 2 bad usage or DIRECTORY unreadable or not a release.
    """
    from bridge.refdata.nomenclature_store import NomenclatureStoreError, import_nomenclatures, store_dir

    try:
        version, warnings = import_nomenclatures(directory)
    except (NomenclatureStoreError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    for issue in [] if quiet else warnings:
        click.echo(f"{issue} [warning {issue.code}]", err=True)
    click.echo(f"imported version {version} into {store_dir() / version} ({len(warnings)} warning(s))")


@nomenclatures.command(name="list")
@NOMENCLATURES_OPTION
def list_cmd(nomenclatures_dir: Path | None) -> None:
    """Every code list in force, with its version and size.

    Exit codes: 0 listed; 2 bad usage or the code lists unreadable.
    """
    from bridge.core.nomenclature import ALIASES

    registry = load_or_exit(nomenclatures_dir)
    aliases = {official: alias for alias, official in ALIASES.items()}
    for name in registry.names():
        code_list = registry.lists[name]
        alias = f" ({aliases[name]})" if name in aliases else ""
        click.echo(f"{name}{alias}\tversion {code_list.version}\t{len(code_list)} codes, "
                   f"{len(code_list.leaf_codes())} leaves")


@nomenclatures.command(name="show")
@click.argument("name")
@click.option("--leaves", is_flag=True, help="Only the most specific codes.")
@NOMENCLATURES_OPTION
def show_cmd(name: str, leaves: bool, nomenclatures_dir: Path | None) -> None:
    """The codes of list NAME (official name or alias such as whatsHappen), indented by level.

    Exit codes: 0 shown; 1 no code list NAME; 2 bad usage or the code lists unreadable.
    """
    registry = load_or_exit(nomenclatures_dir)
    code_list = registry.get(name)
    if code_list is None:
        click.echo(f"error: no code list {name!r}; see 'bridge nomenclatures list'", err=True)
        raise SystemExit(1)
    click.echo(f"# {code_list.name} version {code_list.version} ({code_list.source})")
    for code in code_list.codes.values():
        if leaves and not code.leaf:
            continue
        click.echo(f"{'  ' * (code.level - 1)}{code.code}\t{code.label}")

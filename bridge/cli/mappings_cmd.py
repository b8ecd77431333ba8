"""``bridge mappings``: lint the CSV mapping tables and measure their coverage."""

from __future__ import annotations

from pathlib import Path

import click

from bridge.cli.nomenclatures_cmd import NOMENCLATURES_OPTION, load_or_exit

DIRECTORY = click.argument("directory", required=False, type=click.Path(file_okay=False, exists=True, path_type=Path))


def _directory(directory: Path | None) -> Path:
    from bridge.refdata.resources import project_dir

    return directory or project_dir("mappings")


@click.group(name="mappings")
def mappings() -> None:
    """CSV mapping tables between code lists (legacy, CISU, EMSI)."""


@mappings.command(name="lint")
@DIRECTORY
@NOMENCLATURES_OPTION
def lint_cmd(directory: Path | None, nomenclatures_dir: Path | None) -> None:
    """Check the tables in DIRECTORY (default: the mapping tables shipped with the bridge).

    Exit codes: 0 no error (warnings allowed); 1 a table has an error; 2 bad usage, DIRECTORY or the
    code lists unreadable.
    """
    from bridge.core.mapping import severity
    from bridge.refdata.mapping_loader import lint_directory

    directory = _directory(directory)
    result = lint_directory(directory, load_or_exit(nomenclatures_dir))
    for issue in result.issues:
        click.echo(f"{directory / issue.path}: {severity(issue)}: {issue.message} [{issue.code}]")
    errors, warnings = len(result.errors), len(result.issues) - len(result.errors)
    click.echo(f"{len(result.tables)} table(s), {errors} error(s), {warnings} warning(s)", err=True)
    raise SystemExit(1 if errors else 0)


@mappings.command(name="coverage")
@DIRECTORY
@NOMENCLATURES_OPTION
@click.option("--all-codes", is_flag=True, help="Count every code, not only the leaves (most specific codes).")
@click.option("--unmapped/--no-unmapped", default=True, show_default=True, help="List the unmapped codes.")
def coverage_cmd(directory: Path | None, nomenclatures_dir: Path | None, all_codes: bool, unmapped: bool) -> None:
    """Per table and direction, the share of the code list mapped, and the codes left unmapped.

    Exit codes: 0 printed (lint errors are warned about); 2 bad usage, DIRECTORY or the code lists unreadable.
    """
    from bridge.core.mapping import coverage
    from bridge.refdata.mapping_loader import lint_directory

    registry = load_or_exit(nomenclatures_dir)
    result = lint_directory(_directory(directory), registry)
    scope = "all codes" if all_codes else "leaf codes"
    click.echo(f"# coverage of {scope}; code lists version {registry.version}")
    for item in coverage(result.tables, registry, leaf_only=not all_codes):
        click.echo(item.summary())
        if unmapped and item.unmapped:
            click.echo("    unmapped: " + " ".join(item.unmapped))
    if result.errors:
        click.echo(f"warning: the tables have {len(result.errors)} lint error(s); run 'bridge mappings lint'",
                   err=True)

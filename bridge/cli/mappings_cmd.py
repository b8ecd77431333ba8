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
    inline = _inline_findings()
    for where, message in inline:
        click.echo(f"{where}: warning: {message} [inline-codes]")
    errors, warnings = len(result.errors), len(result.issues) - len(result.errors) + len(inline)
    click.echo(f"{len(result.tables)} table(s), {errors} error(s), {warnings} warning(s)", err=True)
    raise SystemExit(1 if errors else 0)


def _inline_findings() -> list[tuple[str, str]]:
    """Profile fields that still carry an inline ``codes = {...}`` map (lint and coverage cannot see its policy)."""
    from bridge.refdata.profiles import load_all_profiles, profile_path

    found = []
    for name, profile in sorted(load_all_profiles().items()):
        found += [(f"{profile_path(name)}", (f"field {spec.key}: inline 'codes' map; move it to a CSV table in "
                                            "mappings/ (tables.toml) so it is linted, measured and degrades "
                                            "towards the LRM")) for spec in profile.fields if spec.codes]
        if profile.patients is not None and profile.patients.sex_codes:
            found.append((f"{profile_path(name)}", ("[patients] sex_codes: deprecated inline map; move it to a "
                                                    "CSV table in mappings/ and name it with sex_table")))
    return found


INLINE_LISTS = {"sex_codes": "HubSante.sexe"}


def _inline(registry):
    """Coverage lines for the code maps still written inline in the profiles (victims' sex, ``codes =``)."""
    from bridge.core.mapping.coverage import inline_coverage
    from bridge.refdata.profiles import load_all_profiles

    found = []
    for name, profile in sorted(load_all_profiles().items()):
        if profile.patients is not None and profile.patients.sex_codes:
            found.append(inline_coverage(name, "patients.sex_codes", profile.patients.sex_codes,
                                         INLINE_LISTS["sex_codes"], registry))
        found += [inline_coverage(name, f"{spec.key}.codes", spec.codes, None, registry)
                  for spec in profile.fields if spec.codes]
    return found


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
    for item in [*coverage(result.tables, registry, leaf_only=not all_codes), *_inline(registry)]:
        click.echo(item.summary())
        if unmapped and item.unmapped:
            click.echo("    unmapped: " + " ".join(item.unmapped))
    if result.errors:
        click.echo(f"warning: the tables have {len(result.errors)} lint error(s); run 'bridge mappings lint'",
                   err=True)


@mappings.command(name="diff")
@click.argument("old", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("new", type=click.Path(file_okay=False, exists=True, path_type=Path))
@NOMENCLATURES_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout, for machines.")
def diff_cmd(old: Path, new: Path, nomenclatures_dir: Path | None, as_json: bool) -> None:
    """Rows added, removed and changed per table between the tables in OLD and those in NEW.

    Lint findings do not stop the comparison (run 'bridge mappings lint' for those).

    Exit codes: 0 the tables are the same; 1 a table changed; 2 bad usage, a directory or the code lists
    unreadable.
    """
    import json

    from bridge.core.mapping.diff import diff_tables
    from bridge.refdata.mapping_loader import lint_directory

    registry = load_or_exit(nomenclatures_dir)
    diffs = diff_tables(lint_directory(old, registry).tables, lint_directory(new, registry).tables)
    if as_json:
        click.echo(json.dumps([d.as_dict() for d in diffs], ensure_ascii=False, indent=2))
        raise SystemExit(1 if diffs else 0)
    for diff in diffs:
        click.echo(f"table {diff.name}" + ("" if diff.status == "changed" else f" ({diff.status})") + ":")
        for label, lines in (("rule", diff.rules), ("changed", diff.changed), ("removed", diff.removed),
                             ("added", diff.added)):
            for line in lines:
                click.echo(f"  {label}: {line}")
    click.echo(f"{len(diffs)} table(s) changed", err=True)
    raise SystemExit(1 if diffs else 0)


def _register_test() -> None:
    from bridge.cli.mappings_test_cmd import test_cmd

    mappings.add_command(test_cmd)


_register_test()

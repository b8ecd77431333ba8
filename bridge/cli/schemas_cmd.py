"""``bridge schemas install DIR`` / ``bridge schemas list``: manage official schema bundles."""

from __future__ import annotations

from pathlib import Path

import click

from bridge.cli.io import EXIT_UNREADABLE


@click.group("schemas")
def schemas() -> None:
    """Official Hub Santé schema bundles (json-schema/ + xsd/) installed in the data directory."""


@schemas.command("install")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--default/--no-default", "make_default", default=None,
              help="Make it the default bundle, or not. Without either: it becomes the default unless an "
                   "installed default has a newer schema release (an older model line does not replace it).")
def install(directory: Path, make_default: bool | None) -> None:
    """Copy the bundle in DIRECTORY, check it is complete and record its version; say which bundle is the default.

    Exit codes: 0 installed; 2 bad usage, or DIRECTORY is not a complete bundle (what is missing is listed).
    """
    from bridge.core.errors import BridgeError
    from bridge.refdata.bundle import default_bundle, install_bundle, release_key

    try:
        info = install_bundle(directory, make_default=make_default)
    except BridgeError as exc:
        click.echo(f"{directory}: {exc.message}", err=True)
        for issue in exc.issues:
            click.echo(f"  {issue.path}: {issue.message}", err=True)
        raise SystemExit(EXIT_UNREADABLE) from None
    click.echo(f"installed schema bundle {info.version} (model {info.model_version or '?'}, "
               f"{info.namespace or 'no RC-DE namespace'}) in {info.path}")
    default = default_bundle()
    if default is None:
        click.echo("no default bundle (bridge schemas install --default DIR makes one)")
    elif info.is_default:
        click.echo(f"default bundle: {default.version} (model {default.model_version or '?'}), this one")
    else:
        comparable = release_key(info.release) is not None and release_key(default.release) is not None
        why = ("--no-default" if make_default is False
               else f"{info.release} is {'an older schema release than' if comparable else 'not comparable with'} "
                    f"the default's {default.release}; --default makes it the default")
        click.echo(f"default bundle: {default.version} (model {default.model_version or '?'}), unchanged ({why})")


@schemas.command("list")
def list_() -> None:
    """Installed bundles: version, model version and namespace, upstream commit, location; * marks the default.

    Several bundles (model lines) live side by side; an XML message is read with the one
    whose namespace it carries, a JSON one with the configured version (``[schemas] version``
    or the vHost's ``_vX.Y``) or the default.

    Exit codes: 0 listed (also when none is installed); 2 bad usage.
    """
    from bridge.refdata.bundle import list_bundles

    bundles = list_bundles()
    if not bundles:
        click.echo("no schema bundle installed (bridge schemas install DIR)")
    for info in bundles:
        marker = "*" if info.is_default else " "
        click.echo(f"{marker} {info.version}  model {info.model_version or '?'}  {info.namespace or '-'}  "
                   f"{info.commit[:12] or '-'}  {info.path}")

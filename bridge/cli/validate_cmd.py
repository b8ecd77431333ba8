"""``bridge validate FILE...``: every schema error of each file, one line each.

Output lines are ``FILE: <JSON pointer or XPath>: <message>``. Exit 0 when
every file is valid, 1 when one is invalid, 2 when one cannot be read (missing
file, not JSON/XML, hostile or oversize XML).
"""

from __future__ import annotations

from pathlib import Path

import click

from bridge.cli.io import EXIT_CONFIG, EXIT_INVALID, EXIT_UNREADABLE


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--schemas", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Official schema bundle directory (default: $HUB_SCHEMAS, then the installed one).")
@click.option("--schema-version", "version", default=None,
              help="Installed bundle to validate against (label, release such as 25.07.15, or model version such as "
                   "1.9); default: the bundle whose namespace an XML file carries, else the default one.")
@click.option("--type", "root_hint", default=None, help="Message type of bare JSON payloads without their root key.")
@click.option("--max-bytes", type=click.IntRange(min=1), default=None, help="Size limit per file (default 1 MiB).")
def validate(files: tuple[Path, ...], schemas: Path | None, version: str | None, root_hint: str | None, max_bytes: int | None) -> None:
    """Check each FILE against the official schemas (or the models when no bundle is installed).

    Exit codes: 0 every file valid; 1 a file is invalid; 2 a file is unreadable (missing, empty, not
    JSON/XML, hostile or oversize) or bad usage; 3 the schema bundle is unusable.
    """
    from bridge.core.errors import BridgeError
    from bridge.core.xmlsafe import DEFAULT_LIMITS, XmlLimits
    from bridge.refdata.hub_codec import UNREADABLE_CODES
    from bridge.refdata.hub_codec import validate as check

    limits = XmlLimits(max_bytes=max_bytes) if max_bytes else DEFAULT_LIMITS
    worst = 0
    for file in files:
        try:
            data = file.read_bytes() if str(file) != "-" else click.get_binary_stream("stdin").read()
        except OSError as exc:
            click.echo(f"{file}: cannot read: {exc.strerror or exc}")
            worst = max(worst, EXIT_UNREADABLE)
            continue
        try:
            issues = check(data, schemas=schemas, root_hint=root_hint, limits=limits, version=version)
        except BridgeError as exc:
            click.echo(f"{file}: {exc.message}")
            raise SystemExit(EXIT_CONFIG) from None
        for issue in issues:
            click.echo(f"{file}: {issue.path}: {issue.message}")
        if any(issue.code == "incomplete-bundle" for issue in issues):  # the bundle, not the file, is at fault
            raise SystemExit(EXIT_CONFIG)
        if issues:
            unreadable = any(issue.code in UNREADABLE_CODES for issue in issues)
            worst = max(worst, EXIT_UNREADABLE if unreadable else EXIT_INVALID)
    raise SystemExit(worst)

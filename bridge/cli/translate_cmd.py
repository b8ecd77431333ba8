"""``bridge translate FILE [--to json|xml]``: convert one Hub message, write it to stdout.

Without ``--from`` this is the Hub codec (RC-EDA, EMSI... and full EDXL-DE
messages, JSON <-> XML). Adapter-based translation of legacy formats
(``--from ADAPTER --to ADAPTER --profile P``) plugs in at
:func:`translate_with_adapters`; the codec path stays :func:`translate_hub`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bridge.cli.io import EXIT_CONFIG, EXIT_INVALID, EXIT_UNREADABLE, print_issues, read_input

HUB_FORMATS = ("json", "xml")


@click.command("translate")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--to", "to", default=None, help="Output format (json or xml); default: the other one.")
@click.option("--from", "from_", default=None, help="Source adapter for legacy formats (dispatches to the pipeline).")
@click.option("--profile", default=None, help="Legacy dialect profile (with --from).")
@click.option("--schemas", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Official schema bundle directory (default: $HUB_SCHEMAS, then the installed one).")
@click.option("--schema-version", "version", default=None,
              help="Installed bundle (label, release such as 25.07.15, or model version such as 1.9) the message "
                   "belongs to; default: the bundle whose namespace an XML input carries, else the default one.")
@click.option("--to-version", "to_version", default=None,
              help="Convert the message to this installed model version (see `bridge schemas list`); fields and "
                   "values the target lacks are dropped and listed on stderr.")
@click.option("--max-bytes", type=click.IntRange(min=1), default=None, help="Size limit of the input (default 1 MiB).")
@click.option("--onto", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="With --from HUB-ADAPTER and a legacy --to: apply the message onto this LRM case sheet "
                   "(an update: answer, missions, resource statuses), as the bridge does.")
@click.option("--no-validate", is_flag=True, help="Convert without checking the input against the schemas first.")
def translate(file: Path, to: str | None, from_: str | None, profile: str | None, schemas: Path | None,
              version: str | None, to_version: str | None, max_bytes: int | None, onto: Path | None,
              no_validate: bool) -> None:
    """Convert FILE (or - for stdin) and write the result to stdout; errors go to stderr.

    Without --from: a Hub message, JSON <-> XML. With --from ADAPTER --to ADAPTER [--profile P]:
    through the adapters (legacy formats, RC-EDA, EMSI); what could not be carried is listed on stderr.

    Exit codes: 0 converted; 1 the input is well-formed but invalid (schema, a code with no mapping,
    a required field missing); 2 unreadable input (empty, neither JSON nor XML, hostile or oversize)
    or bad usage; 3 configuration (unknown adapter or profile, missing tables, unusable schema bundle).
    """
    data = read_input(file)
    if to_version is not None:
        if from_ is not None or (to is not None and to not in HUB_FORMATS):
            raise click.UsageError("--to-version converts Hub messages: use it with --to json|xml, without --from")
        output = translate_version(file, data, to_version, to, version, max_bytes)
    elif from_ is not None:
        output = translate_with_adapters(data, from_, to, profile, file=file, schemas=schemas or version,
                                         onto=read_input(onto) if onto is not None else None)
    else:
        if to is not None and to not in HUB_FORMATS:
            raise click.BadParameter(f"must be one of {', '.join(HUB_FORMATS)} (or use --from for adapters)", param_hint="--to")
        output = translate_hub(file, data, to, schemas, max_bytes, validate=not no_validate, version=version)
    sys.stdout.buffer.write(output)
    sys.stdout.flush()


def translate_hub(file: Path, data: bytes, to: str | None, schemas: Path | None, max_bytes: int | None,
                  *, validate: bool = True, version: str | None = None) -> bytes:
    """The codec path: JSON <-> XML of a Hub message, exit 2 with every error on invalid input."""
    from bridge.core.errors import BridgeError, InboundError
    from bridge.core.xmlsafe import DEFAULT_LIMITS, XmlLimits
    from bridge.refdata.hub_codec import UNREADABLE_CODES, detect
    from bridge.refdata.hub_codec import translate as convert

    limits = XmlLimits(max_bytes=max_bytes) if max_bytes else DEFAULT_LIMITS
    try:
        target = to or ("json" if detect(data, limits)[0] == "xml" else "xml")
        return convert(data, target, schemas=schemas, validate=validate, limits=limits, version=version)
    except InboundError as exc:
        print_issues(file, exc.issues or [], fallback=exc.message)
        unreadable = not exc.issues or any(issue.code in UNREADABLE_CODES for issue in exc.issues)
        raise SystemExit(EXIT_UNREADABLE if unreadable else EXIT_INVALID) from None
    except BridgeError as exc:
        print_issues(file, exc.issues or [], fallback=exc.message)
        raise SystemExit(EXIT_CONFIG) from None


def translate_version(file: Path, data: bytes, target: str, to: str | None, source: str | None,
                      max_bytes: int | None) -> bytes:
    """The message in another installed model version; every dropped field listed on stderr (exit 0)."""
    from bridge.core.errors import BridgeError, InboundError
    from bridge.core.xmlsafe import DEFAULT_LIMITS, XmlLimits
    from bridge.refdata.versions import to_version

    limits = XmlLimits(max_bytes=max_bytes) if max_bytes else DEFAULT_LIMITS
    try:
        result = to_version(data, target, source_version=source, to=to, limits=limits)
    except InboundError as exc:
        print_issues(file, exc.issues or [], fallback=exc.message)
        raise SystemExit(EXIT_UNREADABLE) from None
    except BridgeError as exc:
        print_issues(file, exc.issues or [], fallback=exc.message)
        raise SystemExit(EXIT_CONFIG) from None
    click.echo(f"{file}: version {result.source.version} (model {result.source.info.model_version}) -> "
               f"{result.target.version} (model {result.target.info.model_version})", err=True)
    for issue in result.dropped:
        click.echo(f"{file}: dropped: {issue.path}: {issue.message}", err=True)
    return result.data


def translate_with_adapters(data: bytes, from_: str, to: str | None, profile: str | None, *,
                            file: Path | None = None, schemas: Path | str | None = None,
                            onto: bytes | None = None) -> bytes:
    """Legacy-format translation through ``bridge.core.pipeline`` (owned by the adapters work)."""
    from bridge.cli._pipeline_translate import run

    return run(data, from_, to, profile, label=str(file or "input"), schemas=schemas, onto=onto)

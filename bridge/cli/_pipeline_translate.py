"""``bridge translate FILE --from ADAPTER --to ADAPTER [--profile P]``: the adapter pipeline path.

Called by ``bridge.cli.translate_cmd`` when ``--from`` is given. Writes the
translated bytes to stdout; dropped fields and mapping warnings go to stderr as
``FILE: path: message`` lines (they are information, not failure: exit 0).
Errors exit 1 (the input is invalid or names an unmappable code), 2 (unreadable input, or not the
source adapter's message kind: expected and found are named) or 3 (unknown adapter or profile,
missing tables). A full EDXL-DE message given to a Hub payload adapter is translated by its payload.
"""

from __future__ import annotations

import click

from bridge.cli.io import EXIT_CONFIG, EXIT_INVALID, EXIT_UNREADABLE

UNREADABLE = {"json-syntax", "xml-syntax", "unsafe-xml", "too-large", "too-deep", "bad-encoding", "bad-record",
              "wrong-kind"}
CONFIGURATION = {"no-profile", "bad-profile", "no-adapter", "no-table", "no-codec", "no-xsd", "bad-xsd",
                 "wrong-direction", "bad-plugin"}


def run(data: bytes, source: str, target: str | None, profile: str | None, *, label: str = "input",
        schemas=None, onto: bytes | None = None) -> bytes:
    """Translate ``data`` from adapter ``source`` to ``target``; report losses on stderr.

    With ``onto`` (an LRM case sheet) and a legacy target, the Hub message is applied onto
    that sheet, as the bridge does for an update of a case the LRM has (docs/operations.md).
    """
    from bridge.core.errors import BridgeError, InboundError
    from bridge.core.pipeline import translate, translate_onto
    from bridge.refdata.profiles import build_context

    if not target:
        raise click.UsageError("--from needs --to ADAPTER (see 'bridge adapters list')")
    try:
        ids = _identities()
        ctx = build_context(profile=profile, schemas=schemas, **ids)
        if onto is not None:
            if ctx.profile is None or ctx.profile.adapter != target:
                raise click.UsageError("--onto needs a legacy --to and its --profile")
            result = translate_onto(data, source=source, sheet=onto, profile=ctx.profile, ctx=ctx)
        else:
            result = translate(data, source=source, target=target, ctx=ctx)
    except InboundError as exc:
        _report(label, exc.issues, exc.message, "error")
        codes = {issue.code for issue in exc.issues}
        raise SystemExit(EXIT_UNREADABLE if codes & UNREADABLE else EXIT_INVALID) from None
    except BridgeError as exc:
        _report(label, exc.issues, exc.message, "error")
        configuration = {issue.code for issue in exc.issues} & CONFIGURATION
        raise SystemExit(EXIT_CONFIG if configuration else EXIT_INVALID) from None
    _report(label, result.dropped, "", "dropped")
    _report(label, result.warnings, "", "warning")
    return _readable(result.data, target)


def _readable(data: bytes, target: str) -> bytes:
    """Indented JSON for people (the pipeline emits compact JSON for the wire)."""
    if not target.endswith("-json"):
        return data
    from decimal import Decimal

    import simplejson

    document = simplejson.loads(data, parse_float=Decimal)
    return simplejson.dumps(document, use_decimal=True, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def _identities() -> dict:
    """Our Hub client ID, the peer's and the confidentiality opt-ins, from the defaults and HUB_BRIDGE__* variables."""
    from bridge.runtime.config import ConfigError, load_config

    try:
        config = load_config(None, check=False)
    except ConfigError:
        return {}
    return {"sender_id": config.bridge.client_id, "recipient_id": config.bridge.peer_id,
            "allow_to_fire": tuple(config.confidentiality.allow_to_fire), "basis": config.confidentiality.basis}


def _report(label: str, issues, fallback: str, kind: str) -> None:
    if not issues and fallback:
        click.echo(f"{label}: {kind}: {fallback}", err=True)
    for issue in issues:
        click.echo(f"{label}: {kind}: {issue.path}: {issue.message}", err=True)

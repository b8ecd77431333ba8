"""``bridge send``: send legacy frames to a running bridge as the LRM would, and show its ACK/NACK."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import cast

import click

EXIT_REFUSED, EXIT_USAGE, EXIT_CONFIG, EXIT_RUNTIME = 1, 2, 3, 4


def _template_prefix(template: str) -> str:
    """The literal start of an ack/nack template (``ACK={id}`` -> ``ACK=``)."""
    return template.split("{", 1)[0]


def classify(reply: str, ack_template: str, nack_template: str) -> str:
    """``ack``, ``nack`` or ``message`` (a Hub message handed over on the same link), by the profile's templates."""
    prefixes = sorted(((_template_prefix(nack_template), "nack"), (_template_prefix(ack_template), "ack")),
                      key=lambda item: -len(item[0]))
    for prefix, kind in prefixes:
        if prefix and reply.startswith(prefix):
            return kind
    return "message"


def _target(to: str | None, config_path: Path | None) -> tuple[str, int]:
    if to is not None:
        host, sep, port = to.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise click.BadParameter(f"{to!r} is not HOST:PORT", param_hint="--to")
        return host.strip("[]"), int(port)
    from bridge.runtime.config import ConfigError, load_config

    try:
        config = load_config(config_path, os.environ, check=False)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from None
    host = "127.0.0.1" if config.legacy.host in ("0.0.0.0", "::") else config.legacy.host
    return host, config.legacy.port


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--profile", "-p", required=True, help="Legacy profile the bridge's link speaks (e.g. lrm-alpha-text): "
                                                     "framing, encoding and ack/nack frames.")
@click.option("--to", metavar="HOST:PORT", help="The bridge's legacy listener (default: [legacy] host and port of "
                                                "the configuration).")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), envvar="HUB_BRIDGE_CONFIG",
              default=None, help="The bridge's configuration, for the default --to (default: $HUB_BRIDGE_CONFIG).")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=600), default=10.0, show_default=True,
              help="Seconds to wait for each frame's ACK/NACK.")
def send(files: tuple[Path, ...], profile: str, to: str | None, config_path: Path | None, timeout: float) -> None:
    """Send each FILE as one legacy frame to a running bridge, like the LRM, and print its ACK or NACK.

    Each file holds one message as the LRM writes it (in the profile's encoding, without the
    framing bytes, which are added here). Use it to test a link end to end: an ACK means the
    bridge stored the frame (translated, or dead-lettered with its bytes). Messages the bridge
    hands over on the same connection meanwhile are shown too.

    Exit codes: 0 every frame acknowledged; 1 a frame was refused (NACK); 2 bad usage,
    unreadable file or unknown profile; 3 configuration error; 4 no connection or no reply
    within --timeout.
    """
    from bridge.core.errors import BridgeError
    from bridge.core.framing import NEED_DATA, Deframer, Framing, frame
    from bridge.refdata.profiles import load_profile

    try:
        spec = load_profile(profile)
    except BridgeError as exc:
        raise click.BadParameter(str(exc), param_hint="--profile") from None
    payloads = []
    for path in files:
        try:
            payloads.append((path, path.read_bytes()))
        except OSError as exc:
            click.echo(f"error: cannot read {path}: {exc.strerror or exc}", err=True)
            raise SystemExit(EXIT_USAGE) from None
    host, port = _target(to, config_path)
    try:
        sock = socket.create_connection((host, port), timeout=min(timeout, 10.0))
    except OSError as exc:
        click.echo(f"error: cannot connect to the bridge's legacy link at {host}:{port}: {exc.strerror or exc}"
                   " (is it running? see [legacy] host/port, or give --to)", err=True)
        raise SystemExit(EXIT_RUNTIME) from None
    framing = cast("Framing", spec.framing)  # validated against FRAMINGS when the profile was read
    deframer = Deframer(framing)
    refused = False
    with sock:
        for path, payload in payloads:
            sock.sendall(frame(payload, framing))
            reply = _await_reply(sock, deframer, spec, timeout, NEED_DATA)
            if reply is None:
                click.echo(f"error: no ACK/NACK for {path} within {timeout:g} s", err=True)
                raise SystemExit(EXIT_RUNTIME)
            kind, text = reply
            refused = refused or kind == "nack"
            click.echo(f"{kind.upper():<4}  {path}  {text}")
    raise SystemExit(EXIT_REFUSED if refused else 0)


def _await_reply(sock: socket.socket, deframer, spec, timeout: float, need_data) -> tuple[str, str] | None:
    """Read frames until an ack or nack arrives (printing handed-over messages) or ``timeout`` passes."""
    end = time.monotonic() + timeout
    while (remaining := end - time.monotonic()) > 0:
        while (item := deframer.next_frame()) is not need_data:
            text = item.decode(spec.encoding, errors="replace")
            kind = classify(text, spec.ack.ack, spec.ack.nack)
            if kind == "message":
                click.echo(f"MSG   (handed over by the bridge) {text[:200]!r}")
                continue
            return kind, text
        sock.settimeout(min(remaining, 0.5))
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError as exc:
            click.echo(f"error: connection lost: {exc.strerror or exc}", err=True)
            return None
        if not data:
            return None
        deframer.feed(data)
    return None

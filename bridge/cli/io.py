"""Small helpers shared by the file-oriented commands (translate, validate)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

EXIT_INVALID = 1
EXIT_UNREADABLE = 2
EXIT_CONFIG = 3


def read_input(file: Path) -> bytes:
    """The bytes of FILE (``-`` is stdin); an unreadable file exits 2 with the reason."""
    try:
        return sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        click.echo(f"{file}: cannot read: {exc.strerror or exc}", err=True)
        raise SystemExit(EXIT_UNREADABLE) from None


def print_issues(file: Path, issues, fallback: str = "") -> None:
    """One ``FILE: path: message`` line per issue on stderr."""
    if not issues:
        click.echo(f"{file}: {fallback}", err=True)
    for issue in issues:
        click.echo(f"{file}: {issue.path}: {issue.message}", err=True)

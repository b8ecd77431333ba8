"""``bridge messages export --since T DIR``: recorded traffic as a corpus for ``bridge mappings test``.

Writes the ORIGINAL bytes of every message stored since T, one file each:
``<id>-out.<txt|xml>`` for a legacy frame, ``<id>-in.<json|xml>`` for a Hub
message. A frame that became several Hub messages is written once. Nothing else
(no translation, no history) is written, and nothing leaves the machine: the
files hold patient data, so they are created readable by their owner only and
belong in a local directory, not in a shared table repository.

Registered on the ``bridge messages`` group of ``bridge.cli.store_cmds``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import click

from bridge.cli.store_cmds import (
    EXIT_USAGE,
    STORE_OPTION,
    _fail,
    _now,
    messages,
    open_store,
    parse_time,
)

BATCH = 200


def file_name(row: dict) -> str:
    """``00000042-out.txt``: id, direction and an extension that says how to read the bytes."""
    original = bytes(row["original"])
    if row["direction"] == "out":
        ext = "xml" if (row["adapter"] or "").endswith("xml") or original.lstrip()[:1] == b"<" else "txt"
    else:
        ext = "xml" if "xml" in (row["content_type"] or "") or original.lstrip()[:1] == b"<" else "json"
    return f"{int(row['id']):08d}-{row['direction']}.{ext}"


@messages.command("export")
@click.option("--since", "since", required=True, help="Oldest message to export (ISO 8601 or age, e.g. 7d).")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--direction", type=click.Choice(["out", "in", "both"]), default="both", show_default=True,
              help="Legacy frames (out), Hub messages (in) or both.")
@click.option("--profile", default=None, help="Only the frames of this legacy profile.")
@STORE_OPTION
def messages_export(since: str, directory: Path, direction: str, profile: str | None, store_path: Path | None) -> None:
    """Write the original bytes of the messages stored since SINCE into DIRECTORY (a 'mappings test' corpus).

    Exit codes: 0 written (also when nothing matched); 2 bad usage, no store at the path, DIRECTORY not a
    folder; 3 invalid configuration or a store written by a newer bridge.
    """
    start = parse_time(since, _now())
    if directory.exists() and not directory.is_dir():
        _fail(f"{directory} exists and is not a directory", EXIT_USAGE)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = skipped = 0
    seen: set[str] = set()
    with open_store(store_path) as store:
        after = 0
        while True:
            rows = store.export_batch(start, after, BATCH)
            if not rows:
                break
            after = rows[-1]["id"]
            for row in rows:
                if direction != "both" and row["direction"] != direction:
                    continue
                if profile is not None and row["direction"] == "out" and row["profile"] != profile:
                    continue
                digest = hashlib.sha256(bytes(row["original"])).hexdigest()
                if digest in seen:  # the sibling Hub messages of one frame carry the same original
                    continue
                seen.add(digest)
                target = directory / file_name(row)
                try:
                    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                except FileExistsError:
                    skipped += 1
                    continue
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(bytes(row["original"]))
                written += 1
    click.echo(f"{written} file(s) written to {directory}, {skipped} already there (kept)."
               " They hold patient data: keep them on this machine.", err=True)

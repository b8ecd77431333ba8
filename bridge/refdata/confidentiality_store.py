"""Read the fire-side confidentiality table from disk and bind the deployment's opt-ins to it.

The rules live in ``mappings/confidentiality/fire-side.csv`` (or the configured mappings
folder's copy); :mod:`bridge.core.confidentiality` parses and applies them. A deployment may
let the table's ``opt-in`` fields cross (``[confidentiality] allow_to_fire``) only with the
``basis`` it relies on written next to it (see ``docs/confidentiality.md``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bridge.core.confidentiality import TABLE_NAME, Policy, parse_table
from bridge.core.errors import BridgeError, Issue
from bridge.refdata.resources import project_dir


def table_path(mappings_dir: Path | None = None) -> Path:
    """The table in ``mappings_dir`` when it has one, else the project's."""
    if mappings_dir is not None and (Path(mappings_dir) / TABLE_NAME).is_file():
        return Path(mappings_dir) / TABLE_NAME
    return project_dir("mappings") / TABLE_NAME


def load_policy(mappings_dir: Path | None = None, allow: Iterable[str] = (), basis: str = "") -> Policy:
    """The table's policy with the deployment's opt-ins; a missing or invalid table is an error, never 'allow all'."""
    path = table_path(mappings_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BridgeError(f"cannot read the confidentiality table {path}: {exc.strerror or exc}",
                          [Issue(str(path), "confidentiality table missing", "no-table")]) from None
    return parse_table(text, str(path)).with_opt_ins(frozenset(allow), basis)

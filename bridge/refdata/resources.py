"""Where the bridge finds its own files and the user's installed reference data.

Project files (mapping tables, legacy profiles, demo code lists, legacy XSDs)
sit at the root of the source tree; the installed data (official schema
bundles, imported nomenclatures) live in the user data directory, which
``$HUB_BRIDGE_HOME`` overrides (tests point it at a temporary directory).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def project_dir(name: str) -> Path:
    """A directory shipped with the project (``mappings``, ``nomenclatures``, ``xsd``...).

    ``$HUB_BRIDGE_<NAME>`` overrides it, for installs that copy these folders elsewhere.
    """
    override = os.environ.get(f"HUB_BRIDGE_{name.upper()}")
    return Path(override) if override else PROJECT_ROOT / name


def data_home() -> Path:
    """The user data directory holding installed schema bundles and code lists."""
    override = os.environ.get("HUB_BRIDGE_HOME")
    if override:
        return Path(override)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hub-bridge"

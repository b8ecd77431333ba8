"""Where the bridge finds its own files and the user's installed reference data.

Project files (mapping tables, legacy profiles, demo code lists, legacy XSDs)
sit at the root of the source tree (``mappings/``, ``nomenclatures/``, ``xsd/``).
A built wheel carries them as package data under ``bridge/_data/`` (copied by
the build hook in ``setup.py``) and they are found through
:mod:`importlib.resources`; a checkout or an editable install reads them from
the source tree. ``$HUB_BRIDGE_<NAME>`` or a config key (``mappings.dir``,
``nomenclatures.dir``) overrides them.

The installed data (official schema bundles, imported nomenclatures) live in
the user data directory, which ``$HUB_BRIDGE_HOME`` overrides (tests point it
at a temporary directory).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_PACKAGE = "bridge"
DATA_DIRS = ("mappings", "nomenclatures", "xsd")


def packaged_dir(name: str) -> Path | None:
    """``bridge/_data/<name>`` of an installed wheel, or None (checkout, editable install)."""
    candidate = resources.files(DATA_PACKAGE).joinpath("_data", name)
    if isinstance(candidate, Path) and candidate.is_dir():
        return candidate
    return None


def project_dir(name: str, configured: Path | None = None) -> Path:
    """A directory shipped with the project (``mappings``, ``nomenclatures``, ``xsd``).

    In order: ``configured`` (a config key), ``$HUB_BRIDGE_<NAME>``, the wheel's
    package data, the checkout's root folder.
    """
    if configured is not None:
        return Path(configured)
    override = os.environ.get(f"HUB_BRIDGE_{name.upper()}")
    if override:
        return Path(override)
    return packaged_dir(name) or PROJECT_ROOT / name


def data_home() -> Path:
    """The user data directory holding installed schema bundles, code lists and the default store."""
    override = os.environ.get("HUB_BRIDGE_HOME")
    if override:
        return Path(override)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hub-bridge"


def default_store_path() -> Path:
    """The one default store file: ``bridge.sqlite3`` in :func:`data_home` (``[store] path`` overrides)."""
    return data_home() / "bridge.sqlite3"

"""Install official code lists into the user data directory, and find the lists in force.

``import_nomenclatures(DIR)`` copies every ``*.csv`` of an official release into
``data_home()/nomenclatures/<version>/`` (version = short hash of the files, so re-importing
the same release is a no-op), writes a ``manifest.json`` beside them, and makes that version
the installed default. Defects of the upstream data are reported as warnings, never fatal.

``load_nomenclatures()`` picks, in order: an explicit directory (``--nomenclatures DIR``),
``$HUB_NOMENCLATURES``, the installed default, and finally nothing; the project's own small
lists (``nomenclatures/``: legacy demo dialects, canonical answer codes) are always added,
without overriding an official list of the same name.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from bridge.core.errors import Issue
from bridge.core.nomenclature import CodeList, Nomenclatures, parse_code_list
from bridge.refdata.resources import data_home, project_dir

MANIFEST = "manifest.json"
CURRENT = "current"


class NomenclatureStoreError(Exception):
    """The source or installed directory cannot be used (missing, empty, unreadable)."""


def store_dir() -> Path:
    return data_home() / "nomenclatures"


def _csv_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise NomenclatureStoreError(f"{directory}: not a directory")
    files = sorted(p for p in directory.glob("*.csv") if p.is_file())
    if not files:
        raise NomenclatureStoreError(f"{directory}: no *.csv code list found")
    return files


def release_version(files: list[Path]) -> str:
    """Short content hash of a set of CSV files: same files, same version."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def read_code_list(path: Path, version: str = "") -> tuple[CodeList, list[Issue]]:
    """Parse one CSV file; issues name the file by its name (as in the release)."""
    return parse_code_list(path.stem, path.read_text(encoding="utf-8-sig"), path.name, version)


def import_nomenclatures(src_dir: Path) -> tuple[str, list[Issue]]:
    """Install an official release; returns its version and the defects found (warnings)."""
    files = _csv_files(Path(src_dir))
    version = release_version(files)
    warnings: list[Issue] = []
    for path in files:
        warnings += read_code_list(path, version)[1]
    target = store_dir() / version
    staging = store_dir() / f".{version}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for path in files:
        shutil.copyfile(path, staging / path.name)
    manifest = {"version": version, "source": str(Path(src_dir).resolve()), "files": [p.name for p in files],
                "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "warnings": len(warnings)}
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    _write_current(version)
    return version, warnings


def _write_current(version: str) -> None:
    pointer = store_dir() / CURRENT
    temp = pointer.with_suffix(".tmp")
    temp.write_text(version + "\n", encoding="utf-8")
    temp.replace(pointer)


def installed_dir() -> Path | None:
    """Directory of the installed default release, if any."""
    pointer = store_dir() / CURRENT
    if not pointer.is_file():
        return None
    candidate = store_dir() / pointer.read_text(encoding="utf-8").strip()
    return candidate if candidate.is_dir() else None


def installed_manifest() -> dict | None:
    directory = installed_dir()
    if directory is None or not (directory / MANIFEST).is_file():
        return None
    return json.loads((directory / MANIFEST).read_text(encoding="utf-8"))


def read_directory(directory: Path, version: str | None = None) -> tuple[Nomenclatures, list[Issue]]:
    """Every code list of a directory; version from its manifest, else the content hash."""
    files = _csv_files(directory)
    if version is None:
        manifest = directory / MANIFEST
        version = json.loads(manifest.read_text())["version"] if manifest.is_file() else release_version(files)
    lists: dict[str, CodeList] = {}
    issues: list[Issue] = []
    for path in files:
        code_list, found = read_code_list(path, version)
        lists[code_list.name] = code_list
        issues += found
    return Nomenclatures(version=version, lists=lists), issues


def official_source(explicit: Path | None = None) -> Path | None:
    """Where the official lists come from: explicit, $HUB_NOMENCLATURES, installed default, or none."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get("HUB_NOMENCLATURES")
    if env:
        return Path(env)
    return installed_dir()


def load_nomenclatures(explicit: Path | None = None) -> Nomenclatures:
    """The code lists in force: the official ones (when found) plus the project's own lists."""
    own, _ = read_directory(project_dir("nomenclatures"), version="project")
    source = official_source(explicit)
    if source is None:
        return own
    official, _ = read_directory(source)
    return official.merged(own)

"""Read the mapping tables from disk, validate them, and reload them when they change.

Tables are loaded once and validated with the same lint the CLI runs: a service never starts
on tables lint would refuse. :class:`MappingReloader` re-reads the files every few seconds
(Twisted ``LoopingCall``) or on demand (:meth:`check`) and compares a content hash, not
mtimes, so a same-size edit within one clock tick is not missed. A valid edit is swapped in
whole and bumps the version (the hash); an invalid edit is refused with its findings logged,
and the previous tables stay in force.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import structlog

from bridge.core.errors import BridgeError, Issue
from bridge.core.mapping import LintResult, MappingSet, lint_tables
from bridge.core.nomenclature import Nomenclatures

MANIFEST = "tables.toml"
DEFAULT_POLL_SECONDS = 5.0
ENCODING = "encoding"

log = structlog.get_logger(__name__)


class InvalidMappings(BridgeError):
    """The tables on disk have lint errors; ``issues`` lists every one as ``file:line``."""


def table_files(directory: Path) -> dict[str, Path]:
    """The manifest and the CSV files of a mapping directory (sub-directories such as profiles/ excluded)."""
    files = {p.name: p for p in sorted(Path(directory).glob("*.csv")) if p.is_file()}
    manifest = Path(directory) / MANIFEST
    if manifest.is_file():
        files[MANIFEST] = manifest
    return files


def _read(files: dict[str, Path]) -> dict[str, bytes]:
    return {name: path.read_bytes() for name, path in files.items()}


def files_version(contents: dict[str, bytes]) -> str:
    """Short hash of the tables' bytes: equal files, equal version."""
    digest = hashlib.sha256()
    for name in sorted(contents):
        digest.update(name.encode() + b"\0" + contents[name] + b"\0")
    return digest.hexdigest()[:12]


def lint_directory(directory: Path, nomenclatures: Nomenclatures) -> LintResult:
    """Lint a mapping directory as the service would load it."""
    return _lint(_read(table_files(directory)), nomenclatures)


def _lint(contents: dict[str, bytes], nomenclatures: Nomenclatures) -> LintResult:
    if MANIFEST not in contents:
        return LintResult(issues=[Issue(MANIFEST, "manifest not found in the mapping directory", "missing-file")])
    texts, notes = {}, []
    for name, data in contents.items():
        texts[name], note = _decode(name, data)
        notes += note
    manifest = texts.pop(MANIFEST)
    result = lint_tables(manifest, texts, nomenclatures, MANIFEST)
    result.issues[:0] = notes
    return result


def _decode(name: str, data: bytes) -> tuple[str, list[Issue]]:
    """UTF-8 (with or without BOM); a spreadsheet's Windows-1252 export is read, with a warning."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return data.decode("cp1252", errors="replace"), [
            Issue(f"{name}:{line}", "file is not UTF-8; read as Windows-1252 (save it as CSV UTF-8)", ENCODING)]


def _build(contents: dict[str, bytes], nomenclatures: Nomenclatures) -> MappingSet:
    result = _lint(contents, nomenclatures)
    if result.errors:
        raise InvalidMappings(f"mapping tables refused: {len(result.errors)} error(s)", result.errors)
    return MappingSet(result.tables, version=files_version(contents), nomenclatures=nomenclatures)


def load_mappings(directory: Path, nomenclatures: Nomenclatures) -> MappingSet:
    """Load and validate the tables of a directory; raises :class:`InvalidMappings` on any lint error."""
    return _build(_read(table_files(directory)), nomenclatures)


class MappingReloader:
    """Holds the tables in force and swaps in a new set when the files change and lint clean."""

    def __init__(self, directory: Path, nomenclatures: Nomenclatures,
                 on_change: Callable[[MappingSet], None] | None = None):
        self.directory = Path(directory)
        self.nomenclatures = nomenclatures
        self.on_change = on_change
        self.last_refused: list[Issue] = []
        self._refused_version = ""
        self._current = load_mappings(self.directory, nomenclatures)
        self._loop = None

    def current(self) -> MappingSet:
        """The tables in force (never half an edit)."""
        return self._current

    @property
    def version(self) -> str:
        return self._current.version

    def check(self) -> bool:
        """Reload if the files changed; True if a new set is now in force. Never raises on bad tables."""
        try:
            contents = _read(table_files(self.directory))
            if files_version(contents) in (self._current.version, self._refused_version):
                return False
            fresh = _build(contents, self.nomenclatures)
        except InvalidMappings as exc:
            self.last_refused, self._refused_version = exc.issues, files_version(contents)
            log.error("mappings_reload_refused", directory=str(self.directory), kept=self._current.version,
                      findings=[str(i) for i in exc.issues])
            return False
        except OSError as exc:
            log.error("mappings_reload_unreadable", directory=str(self.directory), error=str(exc))
            return False
        return self._swap(fresh)

    def _swap(self, fresh: MappingSet) -> bool:
        previous, self._current, self.last_refused = self._current.version, fresh, []
        log.info("mappings_reloaded", directory=str(self.directory), previous=previous, version=fresh.version)
        if self.on_change is not None:
            self.on_change(fresh)
        return True

    def _poll(self) -> None:
        """One polling tick; a bug in a reload must not stop the polling loop for good."""
        try:
            self.check()
        except Exception:
            log.exception("mappings_reload_failed", directory=str(self.directory), kept=self._current.version)

    def start(self, interval: float = DEFAULT_POLL_SECONDS, clock=None):
        """Poll every ``interval`` seconds in the running reactor (or ``clock``, for tests)."""
        from twisted.internet.task import LoopingCall

        self._loop = LoopingCall(self._poll)
        if clock is not None:
            self._loop.clock = clock
        return self._loop.start(interval, now=False)

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None

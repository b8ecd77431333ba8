"""The official schema bundle: find it, load it lazily, install it.

A bundle is a directory holding ``json-schema/`` and ``xsd/`` as published by
the ANS (``SAMU-Hub-Modeles``). The bridge never ships a copy: an operator
installs one with ``bridge schemas install DIR`` (copied under the user data
directory, version recorded), or points at one with ``--schemas DIR`` /
``$HUB_SCHEMAS``. Compiling every schema takes seconds, so each message type's
spec and validators are built on first use and then cached for the process.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from bridge.core.codec.spec import MessageSpec
from bridge.core.errors import BridgeError, HubErrorCode, Issue
from bridge.core.validation import JsonValidator, XmlValidator, linear_xsd_patterns
from bridge.refdata.resources import data_home

ENVELOPE_ROOT = "edxlDistribution"
HEADER_ROOT = "distributionElement"
NO_HEADER_ENVELOPE = "edxlDistribution/no-header"
# Schemas the codec cannot work without; the rest is checked through references.
REQUIRED_STEMS = ("RC-DE", "RC-EDA", "EMSI", "RC-REF", "RS-ERROR", "EDXL-DE-full")
_NOT_PAYLOADS = ("EDXL-DE", "RC-XML-ContentType")
_XS = "{http://www.w3.org/2001/XMLSchema}"
_MANIFEST = "bundle.json"
_DEFAULT_POINTER = "DEFAULT"


@dataclass(frozen=True, slots=True)
class BundleInfo:
    """What ``schemas list`` shows: version, upstream commit, where it lives."""

    version: str
    commit: str
    path: Path
    is_default: bool = False
    namespace: str = ""
    """The RC-DE header namespace, which names the model line: ``urn:emergency:eda:1.9``, ``urn:emergency:cisu:2.0``."""

    @property
    def model_version(self) -> str:
        """The version in the namespace (``1.9``, ``2.0``): what a vHost name carries (``/15-nexsis_v1.9``)."""
        return model_version_of(self.namespace)

    @property
    def release(self) -> str:
        """The schemas' own version label (``26.07.29``), without the upstream commit."""
        return self.version.split("-", 1)[0]

    def matches(self, wanted: str) -> bool:
        """``wanted`` names this bundle: full label, schema release, model version or namespace."""
        return wanted in (self.version, self.release, self.model_version, self.namespace) or (
            wanted.startswith("v") and wanted[1:] == self.model_version)


@dataclass(frozen=True, slots=True)
class TypeFiles:
    """The two official files of one message type."""

    root: str
    stem: str
    xsd: Path
    json_schema: Path


@dataclass(eq=False)
class Bundle:
    """A loaded bundle; per-type specs and validators are compiled on first use."""

    path: Path
    info: BundleInfo
    types: dict[str, TypeFiles]
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def version(self) -> str:
        return self.info.version

    @property
    def namespace(self) -> str:
        """XML namespace of the RC-DE header (``urn:emergency:eda:1.9``); payloads live under it."""
        return self.info.namespace

    def owns_namespace(self, namespace: str) -> bool:
        """Whether an element in ``namespace`` (header or payload) belongs to this bundle's model line."""
        return bool(self.info.namespace) and (namespace == self.info.namespace
                                              or namespace.startswith(self.info.namespace + ":"))

    def payload_roots(self) -> list[str]:
        """Root names of every payload type (createCase, emsi, ...), header excluded."""
        return [root for root in self.types if root != HEADER_ROOT]

    def spec(self, root: str) -> MessageSpec:
        """Codec spec of a payload or of the RC-DE header (``distributionElement``)."""
        return self._cached("spec", root, lambda: _build_spec(self._files(root), root))

    def specs(self) -> dict[str, MessageSpec]:
        """Every spec (compiles all types: slow the first time)."""
        return {root: self.spec(root) for root in self.types}

    def xml_validator(self, root: str) -> XmlValidator:
        """libxml2 XSD validator of one payload type, or of a full EDXL-DE message.

        ``ENVELOPE_ROOT`` validates messages with an RC-DE header, ``NO_HEADER_ENVELOPE``
        those carrying a header-less payload (RS-ERROR...).
        """
        if root == ENVELOPE_ROOT:
            xsd = self.path / "xsd" / "EDXL-DE-full.xsd"
        elif root == NO_HEADER_ENVELOPE:
            xsd = self.path / "xsd" / "EDXL-DE-full-no-header.xsd"
        else:
            xsd = self._files(root).xsd
        def full_errors(element):
            import xmlschema

            schema = self._cached("xmlschema", root, functools.partial(_load_xmlschema, xsd))
            return schema.iter_errors(xmlschema.XMLResource(element))

        return self._cached("xsd", root, lambda: XmlValidator(_load_xsd(xsd), full_errors))

    def json_validator(self, root: str) -> JsonValidator:
        """JSON Schema validator of one payload type, the header, or the envelope alone."""
        if root == ENVELOPE_ROOT:
            schema_path = self.path / "json-schema" / "EDXL-DE-envelope-only.schema.json"
        else:
            schema_path = self._files(root).json_schema
        return self._cached("json", root, lambda: JsonValidator(_load_json(schema_path)))

    def json_schema(self, root: str) -> dict:
        """The official JSON Schema (a dict) of one payload type."""
        return self._cached("schema", root, lambda: _load_json(self._files(root).json_schema))

    def _files(self, root: str) -> TypeFiles:
        try:
            return self.types[root]
        except KeyError:
            raise BridgeError(
                f"no schema for message type {root!r} in bundle {self.path}",
                [Issue(root, "unknown message type", "schema-not-found")],
                HubErrorCode.SCHEMA_NOT_FOUND,
            ) from None

    def _cached(self, what: str, root: str, build):
        key = (what, root)
        value = self._cache.get(key)
        if value is None:
            with self._lock:
                value = self._cache.get(key)
                if value is None:
                    value = self._cache[key] = build()
        return value


def load_bundle(path: Path | str) -> Bundle:
    """Load (once per process) the bundle at ``path``; refuses an incomplete one.

    Every call looks at what ``path`` is *now*: the bundle is cached under the path as
    given plus the identity of the directory it reaches (device, inode, mtime) and of its
    manifest, two ``stat`` calls. A symlink re-pointed to another bundle, or a bundle
    re-installed behind the same path (``schemas install`` renames a fresh directory into
    place, even from another process), has another identity and is loaded anew. What it
    replaces is ``Path.resolve()`` on every call (a quarter of a JSON -> XML conversion).
    """
    text = os.fspath(path)
    identity = _identity(text)
    key = (text, identity)
    found = _BY_IDENTITY.get(key)
    if found is not None:
        return found
    bundle = _load_bundle_cached(str(Path(text).resolve()), identity)
    if len(_BY_IDENTITY) >= _BY_IDENTITY_MAX:
        _BY_IDENTITY.clear()
    _BY_IDENTITY[key] = bundle
    return bundle


_Identity = tuple[tuple[int, int, int], tuple[int, int, int] | None] | None
_BY_IDENTITY: dict[tuple[str, _Identity], Bundle] = {}
_BY_IDENTITY_MAX = 32


def _cached_folder(path_text: str) -> Bundle | None:
    """The bundle already loaded from the directory ``path_text`` reaches, if it is still the same one."""
    identity = _identity(path_text)
    return _BY_IDENTITY.get((path_text, identity)) if identity is not None else None


def _identity(path_text: str) -> _Identity:
    """(device, inode, mtime) of the directory ``path_text`` reaches and of its manifest; None if unreachable."""
    try:
        folder = os.stat(path_text)
    except (OSError, ValueError):
        return None
    try:
        manifest = os.stat(os.path.join(path_text, _MANIFEST))
    except (OSError, ValueError):
        return (folder.st_dev, folder.st_ino, folder.st_mtime_ns), None
    return (folder.st_dev, folder.st_ino, folder.st_mtime_ns), (manifest.st_dev, manifest.st_ino, manifest.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load_bundle_cached(path_text: str, identity: _Identity = None) -> Bundle:
    """The bundle at a resolved path, once per identity (see :func:`load_bundle`)."""
    path = Path(path_text)
    problems = check_bundle(path)
    if problems:
        raise BridgeError(f"schema bundle {path} is incomplete", problems, HubErrorCode.SCHEMA_NOT_FOUND)
    version, commit = _read_version(path)
    default = _default_path()
    info = BundleInfo(version, commit, path, default is not None and default.resolve() == path, _header_namespace(path))
    return Bundle(path, info, _type_table(path))


def resolve_bundle(explicit: Path | str | None = None, *, version: str | None = None,
                   namespace: str | None = None) -> Bundle | None:
    """The bundle a message is read and written with.

    In order: ``explicit`` (``--schemas DIR``: a directory, or the version of an installed
    bundle), ``version`` (an installed bundle: label, schema release ``25.07.15``, model
    version ``1.9``/``2.0`` or namespace; from ``--schema-version`` or the configuration),
    ``$HUB_SCHEMAS``, then -- when the message itself says which model line it belongs to
    (``namespace`` of an XML message) -- the installed bundle of that line, then the
    installed default, else ``None``.
    """
    if explicit:
        cached = _cached_folder(os.fspath(explicit))
        if cached is not None:
            return cached
        named = None if os.path.isdir(explicit) else find_installed(str(explicit))
        return load_bundle(named.path if named is not None else explicit)
    if version:
        info = find_installed(version)
        if info is None:
            raise BridgeError(f"no installed schema bundle matches version {version!r}",
                              [Issue("schemas.version", f"installed: {', '.join(b.version for b in list_bundles()) or 'none'}"
                                     " (bridge schemas install DIR)", "schema-not-found")],
                              HubErrorCode.SCHEMA_NOT_FOUND)
        return load_bundle(info.path)
    from_env = os.environ.get("HUB_SCHEMAS")
    if from_env:
        return load_bundle(from_env)
    if namespace:
        owner = next((b for b in list_bundles() if b.namespace and (
            namespace == b.namespace or namespace.startswith(b.namespace + ":"))), None)
        if owner is not None:
            return load_bundle(owner.path)
    default = _default_path()
    return load_bundle(default) if default is not None else None


def find_installed(wanted: str) -> BundleInfo | None:
    """The installed bundle ``wanted`` names (see :meth:`BundleInfo.matches`); the newest when several do."""
    found = [info for info in list_bundles() if info.matches(wanted)]
    return max(found, key=lambda info: info.version) if found else None


def model_version_of(namespace: str) -> str:
    """``urn:emergency:eda:1.9`` -> ``1.9`` (the last ``:``-separated part); empty when there is none."""
    return namespace.rsplit(":", 1)[-1] if ":" in namespace else ""


def version_of_vhost(vhost: str) -> str | None:
    """``/15-nexsis_v1.9`` -> ``1.9``: the model version a Hub vHost name carries, if any."""
    _, sep, tail = vhost.rpartition("_v")
    return tail if sep and tail and all(part.isdigit() for part in tail.split(".")) else None


def check_bundle(path: Path) -> list[Issue]:
    """Everything missing from a bundle directory (empty when complete)."""
    problems: list[Issue] = []
    for folder in ("json-schema", "xsd"):
        if not (path / folder).is_dir():
            problems.append(Issue(str(path / folder), "folder missing", "incomplete-bundle"))
    if problems:
        return problems
    for stem in REQUIRED_STEMS:
        for file in (path / "xsd" / f"{stem}.xsd", path / "json-schema" / f"{stem}.schema.json"):
            if not file.is_file():
                problems.append(Issue(str(file), "required schema missing", "incomplete-bundle"))
    for xsd in sorted((path / "xsd").glob("*.xsd")):
        for location in _schema_locations(xsd):
            if not (xsd.parent / location).is_file():
                problems.append(Issue(str(xsd), f"references missing {location}", "incomplete-bundle"))
    for schema in sorted((path / "json-schema").glob("*.json")):
        for ref in _file_refs(_load_json(schema)):
            if not (schema.parent / ref).is_file():
                problems.append(Issue(str(schema), f"references missing {ref}", "incomplete-bundle"))
    return problems


def release_key(release: str) -> tuple[int, ...] | None:
    """``26.07.29`` -> (26, 7, 29): the schema release label, comparable; None when it is not numbers."""
    parts = release.split(".")
    return tuple(int(p) for p in parts) if all(p.isascii() and p.isdigit() for p in parts) else None


def default_bundle() -> BundleInfo | None:
    """The installed default bundle, if any."""
    return next((info for info in list_bundles() if info.is_default), None)


def install_bundle(source: Path | str, *, make_default: bool | None = None) -> BundleInfo:
    """Copy a complete official bundle under the data directory and record its version.

    ``make_default`` True / False: make it the default or not. None (the CLI without
    ``--default``/``--no-default``): it becomes the default when there is none, when it
    replaces the default in place, or when its schema release is not older than the
    default's; an older model line (``25.07.15`` while ``26.07.29`` is the default), or a
    release label that cannot be compared, leaves the default as it is.
    """
    source = Path(source)
    problems = check_bundle(source)
    if problems:
        raise BridgeError(f"{source} is not a complete schema bundle", problems, HubErrorCode.SCHEMA_NOT_FOUND)
    version, commit = _read_version(source)
    target = data_home() / "schemas" / version
    if make_default is None:
        make_default = _replaces_default(version, target)
    staging = target.with_name(f".{version}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for folder in ("json-schema", "xsd"):
        shutil.copytree(source / folder, staging / folder)
    namespace = _header_namespace(source)
    manifest = {"version": version, "commit": commit, "namespace": namespace, "source": str(source.resolve())}
    (staging / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    if make_default:
        (target.parent / _DEFAULT_POINTER).write_text(version + "\n", encoding="utf-8")
    _load_bundle_cached.cache_clear()
    _BY_IDENTITY.clear()
    return BundleInfo(version, commit, target, make_default or _default_path() == target, namespace)


def _replaces_default(version: str, target: Path) -> bool:
    current = _default_path()
    if current is None or current.resolve() == target.resolve():
        return True
    new_key = release_key(version.split("-", 1)[0])
    current_key = release_key(_read_version(current)[0].split("-", 1)[0])
    return new_key is not None and current_key is not None and new_key >= current_key


def list_bundles() -> list[BundleInfo]:
    """Installed bundles, sorted by version (several model lines live side by side).

    Read again only when the installation changed (:func:`_listing_key`): resolving the bundle of an XML
    message without ``--schemas`` listed them per call (~100 us of reads and JSON per message).
    """
    root = data_home() / "schemas"
    key = _listing_key(root)
    with _LISTING_LOCK:
        cached = _LISTING.get(str(root))
        if key is not None and cached is not None and cached[0] == key:
            return list(cached[1])
    found = _read_bundles(root)
    if key is not None:
        with _LISTING_LOCK:
            _LISTING[str(root)] = (key, tuple(found))
    return found


_LISTING: dict[str, tuple[tuple[Any, ...], tuple[BundleInfo, ...]]] = {}
_LISTING_LOCK = threading.Lock()


def _listing_key(root: Path) -> tuple[Any, ...] | None:
    """What changes when a bundle is installed, replaced or removed, or the default moves: the schemas
    directory, the DEFAULT pointer and every manifest (inode, mtime, size). None: not cacheable (unreadable)."""
    def mark(path: str) -> tuple[int, int, int] | None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    try:
        with os.scandir(root) as entries:
            folders = sorted(entry.path for entry in entries if entry.is_dir())
        return (mark(str(root)), mark(os.path.join(root, _DEFAULT_POINTER)),
                tuple((folder, mark(os.path.join(folder, _MANIFEST))) for folder in folders))
    except OSError:
        return None


def _read_bundles(root: Path) -> list[BundleInfo]:
    default = _default_path()
    found = []
    for manifest in sorted(root.glob(f"*/{_MANIFEST}")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        path = manifest.parent
        namespace = data.get("namespace") or _header_namespace(path)
        found.append(BundleInfo(data["version"], data.get("commit", ""), path, path == default, namespace))
    return found


def _header_namespace(path: Path) -> str:
    """Target namespace of the bundle's RC-DE XSD (the ``message`` element's namespace)."""
    xsd = path / "xsd" / "RC-DE.xsd"
    if not xsd.is_file():
        return ""
    return etree.parse(str(xsd), _safe_schema_parser()).getroot().get("targetNamespace") or ""


def _default_path() -> Path | None:
    pointer = data_home() / "schemas" / _DEFAULT_POINTER
    if not pointer.is_file():
        return None
    path = pointer.parent / pointer.read_text(encoding="utf-8").strip()
    return path if path.is_dir() else None


def _read_version(path: Path) -> tuple[str, str]:
    manifest = path / _MANIFEST
    if manifest.is_file():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return data["version"], data.get("commit", "")
    commit_file = path / "UPSTREAM_COMMIT"
    commit = commit_file.read_text(encoding="utf-8").strip() if commit_file.is_file() else ""
    versions = sorted({str(_load_json(f).get("version")) for f in (path / "json-schema").glob("*.json")} - {"None"})
    version = "+".join(versions) or "unversioned"
    if commit:
        version = f"{version}-{commit[:12]}"
    return version, commit


def _type_table(path: Path) -> dict[str, TypeFiles]:
    table: dict[str, TypeFiles] = {}
    for xsd in sorted((path / "xsd").glob("*.xsd")):
        stem = xsd.stem
        json_schema = path / "json-schema" / f"{stem}.schema.json"
        if stem.startswith(_NOT_PAYLOADS) or not json_schema.is_file():
            continue
        for root in _global_elements(xsd):
            table.setdefault(root, TypeFiles(root, stem, xsd, json_schema))
    return table


def _safe_schema_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _global_elements(xsd: Path) -> list[str]:
    tree = etree.parse(str(xsd), _safe_schema_parser())
    return [el.get("name") for el in tree.getroot().iterchildren(f"{_XS}element") if el.get("name")]


def _schema_locations(xsd: Path) -> list[str]:
    tree = etree.parse(str(xsd), _safe_schema_parser())
    return [
        el.get("schemaLocation")
        for el in tree.getroot().iterchildren(f"{_XS}import", f"{_XS}include")
        if el.get("schemaLocation")
    ]


def _file_refs(node: Any) -> set[str]:
    refs: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#") and "://" not in ref:
            refs.add(ref.split("#", 1)[0])
        for value in node.values():
            refs |= _file_refs(value)
    elif isinstance(node, list):
        for value in node:
            refs |= _file_refs(value)
    return refs


def _load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _load_xsd(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path), _safe_schema_parser()))


def _load_xmlschema(xsd: Path):
    import xmlschema  # slow import and load, only when first needed

    schema = xmlschema.XMLSchema(str(xsd), allow="sandbox")
    linear_xsd_patterns(schema)  # its full error pass must not backtrack on a hostile value (validation.py)
    return schema


def _build_spec(files: TypeFiles, root: str) -> MessageSpec:
    from bridge.core.codec.from_xsd import message_spec

    return message_spec(_load_xmlschema(files.xsd), root)

"""Reading legacy dialect profiles from disk (the edge half of ``bridge.core.adapters.profile``).

A profile is named (``lrm-alpha-text``: looked up in ``mappings/profiles/``) or
given as a path to a ``.toml`` file. For ``legacy-xml`` profiles the XSD named in
the profile is read here too (from ``xsd/legacy/`` or next to the profile file),
so the core adapter receives text and never opens a file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge.core.adapters.profile import Profile, parse_profile
from bridge.core.errors import BridgeError, Issue
from bridge.refdata.resources import project_dir

if TYPE_CHECKING:
    from bridge.refdata.bundle import Bundle


def profiles_dir() -> Path:
    """Where shipped profiles live (``$HUB_BRIDGE_MAPPINGS/profiles`` overrides)."""
    return project_dir("mappings") / "profiles"


def profile_names() -> list[str]:
    """Names of the shipped profiles."""
    return sorted(p.stem for p in profiles_dir().glob("*.toml"))


def profile_path(name_or_path: str | Path) -> Path:
    """The file of a profile given by name or path, or a BridgeError listing the known names."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" and candidate.is_file():
        return candidate
    shipped = profiles_dir() / f"{name_or_path}.toml"
    if shipped.is_file():
        return shipped
    raise BridgeError(f"no legacy profile {str(name_or_path)!r}",
                      [Issue("profile", f"known profiles: {', '.join(profile_names()) or 'none'}", "no-profile")])


def load_profile(name_or_path: str | Path) -> Profile:
    """Read, parse and validate a profile; attach its XSD text for legacy-xml."""
    path = profile_path(name_or_path)
    profile = parse_profile(path.read_text(encoding="utf-8"), str(path))
    if profile.xml is None:
        return profile
    for folder in (path.parent, project_dir("xsd") / "legacy"):
        xsd = folder / profile.xml.xsd
        if xsd.is_file():
            xml = profile.xml.model_copy(update={"xsd_text": xsd.read_text(encoding="utf-8")})
            return profile.model_copy(update={"xml": xml})
    raise BridgeError(f"profile {profile.name}: XSD {profile.xml.xsd} not found",
                      [Issue(str(path), f"looked in {path.parent} and {project_dir('xsd') / 'legacy'}", "no-xsd")])


def load_all_profiles() -> dict[str, Profile]:
    """Every shipped profile by name."""
    return {name: load_profile(name) for name in profile_names()}


# ---- adapter contexts for the CLI, the service and tests ------------------------------------------

class HubCodec:
    """The Hub XML codec adapters need, backed by :func:`bridge.refdata.hub_codec.translate` and a schema bundle."""

    def __init__(self, schemas: Path | str | None = None) -> None:
        self.schemas = schemas

    def to_dict(self, xml: bytes) -> dict:
        from decimal import Decimal

        import simplejson

        from bridge.refdata.hub_codec import translate

        return simplejson.loads(translate(xml, "json", schemas=self.schemas), parse_float=Decimal)

    def to_xml(self, message: dict) -> bytes:
        import simplejson

        from bridge.refdata.hub_codec import translate

        return translate(simplejson.dumps(message, use_decimal=True).encode("utf-8"), "xml", schemas=self.schemas)

    def payload_issues(self, name: str, payload: dict[str, Any]) -> list[Issue]:
        """Every official-schema error of ``{name: payload}``; empty when no bundle is installed.

        The check of an adapter's *input*, in the syntax it was received in (what the Hub itself checks):
        ``payload`` is the dict the strict reader parsed from the received bytes, so it is validated as
        is by the bundle's compiled JSON Schema validator (``Bundle.json_validator``, the hot path's),
        with no re-serialisation. Whether its *XML* form would also be XSD-valid is the codec's question
        (``bridge validate``/``translate``), not the adapter's: the message is decoded, not converted.
        """
        bundle = self._bundle()
        if bundle is None:
            return []
        if name not in bundle.types:
            return [Issue(f"/{name}", f"unknown message type {name!r}", "schema-not-found")]
        if not isinstance(payload, dict):
            return [Issue(f"/{name}", f"a JSON {type(payload).__name__}, not an object", "invalid")]
        try:
            return bundle.json_validator(name).issues(payload, f"/{name}")
        except BridgeError as exc:
            return exc.issues or [Issue("/", exc.message, "schema-not-found")]

    def _bundle(self) -> Bundle | None:
        """The bundle messages are checked against, as :func:`resolve_bundle` finds it now (its identity cache
        answers in a few µs and notices a bundle re-installed behind the same path)."""
        from bridge.refdata.bundle import resolve_bundle

        return resolve_bundle(self.schemas)


def labels_of(nomenclatures) -> dict[str, str]:
    """``code -> label`` of the Hub Santé qualification lists, for RC-EDA ``label`` fields."""
    labels: dict[str, str] = {}
    for name in ("HubSante.fait", "HubSante.lieu", "HubSante.motif", "HubSante.risque"):
        code_list = nomenclatures.get(name) if nomenclatures is not None else None
        if code_list is not None:
            labels.update({code: entry.label for code, entry in code_list.codes.items() if entry.label})
    return labels


def _spelled(raw: bytearray, version: int) -> str:
    """16 bytes with the version nibble and the RFC 4122 variant bits set, spelled as ``str(uuid.UUID)`` spells it."""
    raw[6] = raw[6] & 0x0F | version
    raw[8] = raw[8] & 0x3F | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def new_uuid() -> str:
    """``str(uuid.uuid4())`` without the ``UUID`` object: 16 random bytes, version 4 and RFC 4122 variant bits set."""
    return _spelled(bytearray(os.urandom(16)), 0x40)


def new_uuid7(clock_ns: Callable[[], int] = time.time_ns) -> str:
    """A version-7 UUID (RFC 9562): 48 bits of Unix time in milliseconds, then 74 random bits.

    For the bridge's own distributionIDs (``{clientId}_{uuid}``): they stay unique (74 random bits per
    millisecond) and the Hub only asks that they start with the sender's id, but ids made close in time
    sort close together, so each new message touches the last leaves of the store's distributionID index
    instead of a random one (docs/performance.md, "Time-ordered distributionIDs"). The time it carries is
    the one ``dateTimeSent`` already states. Spelled as ``str(uuid.UUID(...))`` spells it.
    """
    millis = clock_ns() // 1_000_000 & 0xFFFF_FFFF_FFFF
    return _spelled(bytearray(millis.to_bytes(6, "big") + os.urandom(10)), 0x70)


def build_context(*, nomenclature_dir: Path | None = None, mappings_dir: Path | None = None,
                  schemas: Path | str | None = None, profile: str | Path | None = None,
                  sender_id: str = "fr.health.samu000", recipient_id: str = "fr.fire.nexsis.sdis00",
                  now=None, new_id=None, allow_to_fire: tuple[str, ...] | list[str] = (), basis: str = ""):
    """An AdapterContext wired to files: mapping tables, code-list labels, Hub codec, profile.

    ``nomenclature_dir`` defaults to the installed official lists (``bridge nomenclatures
    import``); without lists the tables load unchecked against them and labels stay empty.
    ``allow_to_fire``/``basis``: the deployment's confidentiality opt-ins (docs/confidentiality.md).
    """
    from datetime import datetime

    from bridge.core.adapters.base import AdapterContext
    from bridge.core.nomenclature import Nomenclatures
    from bridge.refdata.adapters import installed_adapters
    from bridge.refdata.confidentiality_store import load_policy
    from bridge.refdata.mapping_loader import load_mappings
    from bridge.refdata.nomenclature_store import official_source, read_directory

    source = official_source(nomenclature_dir)
    nomenclatures = read_directory(source)[0] if source is not None and Path(source).is_dir() else Nomenclatures()
    mappings = load_mappings(mappings_dir or project_dir("mappings"), nomenclatures)
    return AdapterContext(
        now=now or datetime.now(UTC).astimezone(), new_id=new_id or new_uuid,
        mappings=mappings, profile=load_profile(profile) if profile else None, sender_id=sender_id,
        recipient_id=recipient_id, labels=labels_of(nomenclatures), nomenclatures=nomenclatures,
        codec=HubCodec(schemas), adapters=installed_adapters(),
        confidentiality=load_policy(mappings_dir, allow_to_fire, basis),
    )

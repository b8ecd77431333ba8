"""The adapter plugin API: bytes of one format <-> the canonical :class:`Case`.

An adapter is sans-IO: everything it may need from the outside world (the
clock, identifiers, mapping tables, code labels, the Hub XML codec, a legacy
profile) arrives in a frozen :class:`AdapterContext`. That is what lets a
third-party package add a format by shipping one class and one entry point in
the ``hub_bridge.adapters`` group, and what makes every adapter testable with
fixed bytes in and fixed bytes out.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from bridge.core.canonical import Case
from bridge.core.errors import Issue

Direction = Literal["in", "out", "both"]


class MappedLike(Protocol):
    """What a mapping lookup returns (``bridge.core.mapping.Mapped``)."""

    code: str
    warning: Any
    source: str


class MappingLookup(Protocol):
    """The part of ``bridge.core.mapping.MappingSet`` adapters use."""

    def forward(self, table: str, code: str) -> MappedLike: ...

    def reverse(self, table: str, code: str) -> MappedLike: ...


class HubXmlCodec(Protocol):
    """Hub payload XML <-> its JSON dict form (the codec engineer's schema-driven codec)."""

    def to_dict(self, xml: bytes) -> dict[str, Any]: ...

    def to_xml(self, message: dict[str, Any]) -> bytes: ...


@dataclass(frozen=True)
class AdapterContext:
    """Everything an adapter may use besides its input; built once per link by the edge."""

    now: datetime
    new_id: Callable[[], str]
    mappings: MappingLookup | None = None
    profile: Any = None
    sender_id: str = "fr.health.samu000"
    recipient_id: str = "fr.fire.nexsis.sdis00"
    labels: Mapping[str, str] = field(default_factory=dict)
    nomenclatures: Any = None
    codec: HubXmlCodec | None = None
    reference_version: str = "1.3"
    # The adapters the pipeline may pick by name (``bridge.refdata.adapters.installed_adapters()``).
    adapters: Mapping[str, Adapter] = field(default_factory=dict)
    confidentiality: Any = None
    """The fire-side confidentiality policy (``bridge.core.confidentiality.Policy``); ``None``: its floor."""

    def with_profile(self, profile: Any) -> AdapterContext:
        """The same context driven by another legacy profile."""
        return AdapterContext(**{**self.__dict__, "profile": profile})


@dataclass(frozen=True)
class Decoded:
    """A decoded case and the source fields it could not carry (``Issue.code == "dropped"``)."""

    case: Case
    dropped: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)


@dataclass(frozen=True)
class Encoded:
    """Encoded bytes and the case fields the target format could not carry.

    ``document``: for a JSON Hub payload, the dict ``data`` was written from (``{payload: {...}}``,
    see ``hubjson.dump_document``), so the output can be validated without parsing ``data`` again.
    """

    data: bytes
    dropped: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    document: dict[str, Any] | None = None


class Adapter(ABC):  # noqa: B024 - a subclass overrides decode, encode or both, per its direction
    """One format. Subclasses set ``name``, ``version``, ``direction`` and implement the codecs.

    ``direction`` says what the adapter supports: ``"in"`` (decode only),
    ``"out"`` (encode only) or ``"both"``. ``needs_profile`` tells the pipeline
    that a legacy profile is required in the context.
    """

    name: str = ""
    version: str = "0"
    direction: Direction = "both"
    needs_profile: bool = False
    media_type: str = "application/octet-stream"

    def decode(self, data: bytes, ctx: AdapterContext) -> Decoded:
        """Bytes of this format -> canonical case."""
        raise NotImplementedError(f"adapter {self.name!r} cannot decode (direction {self.direction})")

    def encode(self, case: Case, ctx: AdapterContext) -> Encoded:
        """Canonical case -> bytes of this format."""
        raise NotImplementedError(f"adapter {self.name!r} cannot encode (direction {self.direction})")

    def describe(self) -> dict[str, str]:
        """Name, direction and version, for ``bridge adapters list``."""
        return {"name": self.name, "direction": self.direction, "version": self.version}


def dropped(path: str, what: str = "") -> Issue:
    """The Issue recording one field the target cannot carry."""
    return Issue(path, what or "not carried by the target format", "dropped")


__all__ = ["Adapter", "AdapterContext", "Decoded", "Direction", "Encoded", "HubXmlCodec", "MappingLookup", "dropped"]

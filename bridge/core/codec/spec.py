"""The shape of a message type, as the codec needs it.

An :class:`ElementSpec` tree says, for each element, the order of its children
(the XSD sequence), whether it repeats (an array in JSON, repeated siblings in
XML) and what scalar kind its text is (so ``47.147005`` becomes a JSON number
with the same digits and ``true`` a JSON boolean). Specs are plain frozen data,
built once from an official XSD bundle (``from_xsd``) or from the project's
pydantic models when no bundle is installed, and then shared by every message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ScalarKind = Literal["string", "decimal", "integer", "boolean"]
Kind = Literal["complex", "string", "decimal", "integer", "boolean", "any"]

NAMESPACE_PREFIX = "urn:emergency:eda:1.9:"


@dataclass(frozen=True, slots=True)
class ElementSpec:
    """One element: name, kind, whether it repeats, and its children in XSD order.

    ``kind == "any"`` marks open content (``xs:any``, e.g. RS-ERROR
    ``sourceMessage``) that the codec carries through without a schema.
    """

    name: str
    kind: Kind
    repeated: bool = False
    children: tuple[ElementSpec, ...] = ()
    _index: dict[str, ElementSpec] = field(default_factory=dict, compare=False, repr=False)
    _position: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    #: per child, what the JSON -> XML text writer needs: (spec, kind, repeated, "<name>", "</name>")
    _plan: dict[str, tuple[ElementSpec, str, bool, str, str]] = field(default_factory=dict, compare=False, repr=False)
    #: the text writer's memo: the keys of an object as the JSON gave them -> (key, *plan entry) in XSD order
    #: (bounded by the writer; messages of one kind repeat a few key sets, so the sort is done once per set)
    _orders: dict[tuple[str, ...], tuple[tuple[str, ElementSpec, str, bool, str, str], ...]] = field(
        default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({child.name: child for child in self.children})
        self._position.update({child.name: number for number, child in enumerate(self.children)})
        self._plan.update({child.name: (child, child.kind, child.repeated, f"<{child.name}>", f"</{child.name}>")
                           for child in self.children})

    def child(self, name: str) -> ElementSpec | None:
        """The child spec called ``name``, or ``None`` if the schema has no such child."""
        return self._index.get(name)


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """A payload type: its root element (``createCase``) and namespace.

    ``target_namespace`` is the XSD's own namespace when it differs from the
    ``urn:emergency:eda:1.9:<root>`` convention (RS-RI uses ``...:resourcesinfo``,
    all lower case); specs built from the models leave it unset.
    """

    root: ElementSpec
    target_namespace: str | None = None

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def namespace(self) -> str:
        return self.target_namespace or NAMESPACE_PREFIX + self.root.name

"""Build :class:`ElementSpec` trees from an already-loaded official XSD.

The XSD is the authority on element order (the XML sequence), on which
elements repeat (``maxOccurs > 1`` on the element or on an enclosing
group) and on the scalar kind of each leaf. We read that once, at bundle
load, with ``xmlschema`` (which understands includes, imports, extensions
and anonymous types) and keep only the small frozen tree the hot path needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bridge.core.codec.spec import ElementSpec, Kind, MessageSpec

_XS = "{http://www.w3.org/2001/XMLSchema}"
_SCALAR_KINDS: dict[str, Kind] = {
    _XS + "boolean": "boolean",
    _XS + "integer": "integer",
    _XS + "decimal": "decimal",
    _XS + "double": "decimal",
    _XS + "float": "decimal",
}
# Integer subtypes derive from xs:integer, so walking base types finds them;
# these are listed only because xmlschema exposes some builtins without a base.
for _name in ("int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
              "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong",
              "unsignedShort", "unsignedByte"):
    _SCALAR_KINDS[_XS + _name] = "integer"

MAX_SPEC_DEPTH = 40


def message_spec(schema: Any, root_name: str) -> MessageSpec:
    """The spec of the global element ``root_name`` of ``schema`` (an ``xmlschema.XMLSchema``)."""
    element = _global_element(schema, root_name)
    return MessageSpec(root=element_spec(element), target_namespace=schema.target_namespace or None)


def root_names(schema: Any) -> list[str]:
    """Local names of the global elements the schema declares in its own namespace."""
    namespace = schema.target_namespace
    return [el.local_name for el in schema.elements.values() if (el.target_namespace or "") == (namespace or "")]


def element_spec(element: Any, repeated: bool = False, depth: int = 0) -> ElementSpec:
    """Spec of one ``XsdElement``; ``repeated`` is forced by an enclosing repeating group."""
    if depth > MAX_SPEC_DEPTH:
        raise ValueError(f"XSD nesting deeper than {MAX_SPEC_DEPTH} at {element.local_name}: recursive type?")
    repeated = repeated or _repeats(element.max_occurs)
    xsd_type = element.type
    if xsd_type.is_simple() or xsd_type.has_simple_content():
        return ElementSpec(element.local_name, _scalar_kind(xsd_type), repeated)
    if _has_wildcard(xsd_type.content):
        return ElementSpec(element.local_name, "any", repeated)
    children = tuple(_child_specs(xsd_type.content, False, depth + 1))
    return ElementSpec(element.local_name, "complex", repeated, children)


def _child_specs(group: Any, repeated: bool, depth: int) -> Iterator[ElementSpec]:
    repeated = repeated or _repeats(group.max_occurs)
    for item in group:
        if _is_group(item):
            yield from _child_specs(item, repeated, depth)
        elif _is_wildcard(item):
            continue  # unreachable: a parent with open content is kind "any"
        else:
            yield element_spec(item, repeated, depth)


def _has_wildcard(group: Any) -> bool:
    return any(_is_wildcard(item) or (_is_group(item) and _has_wildcard(item)) for item in group)


def _global_element(schema: Any, root_name: str) -> Any:
    for element in schema.elements.values():
        if element.local_name == root_name:
            return element
    raise KeyError(f"schema declares no global element {root_name!r}")


def _repeats(max_occurs: int | None) -> bool:
    return max_occurs is None or max_occurs > 1


def _is_group(item: Any) -> bool:
    return type(item).__name__ == "XsdGroup"


def _is_wildcard(item: Any) -> bool:
    return type(item).__name__ == "XsdAnyElement"


def _scalar_kind(xsd_type: Any) -> Kind:
    if xsd_type.is_complex():
        xsd_type = xsd_type.content  # simple content: the text's type
    current = xsd_type
    while current is not None:
        kind = _SCALAR_KINDS.get(current.name or "")
        if kind:
            return kind
        current = getattr(current, "base_type", None)
    primitive = getattr(xsd_type, "primitive_type", None)
    return _SCALAR_KINDS.get(getattr(primitive, "name", "") or "", "string")

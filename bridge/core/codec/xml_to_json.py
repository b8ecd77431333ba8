"""XML element -> JSON dict (Decimal numbers), walking an :class:`ElementSpec`.

Keys come out in XSD order; repeated elements become arrays even when only
one is present (the schema, not the instance, decides); leaf text is typed by
the spec so decimals keep their exact digits. Whitespace-only text between
child elements (indentation) is ignored; string leaves are kept byte-exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lxml import etree

from bridge.core.codec.scalars import CodecError, value_of
from bridge.core.codec.spec import ElementSpec, MessageSpec
from bridge.core.errors import InboundError, Issue

# Inside open content (RS-ERROR sourceMessage holds an EDXL-DE message), these
# names are JSON arrays in the EDXL-DE JSON schema even when they occur once.
ANY_ARRAY_NAMES = frozenset({"content"})


def element_to_json(element: etree._Element, spec: MessageSpec, base: str = "") -> dict[str, Any]:
    """``{root: {...}}`` for a payload element, which must be in the type's namespace."""
    expected = f"{{{spec.namespace}}}{spec.name}"
    tag = str(element.tag)
    if tag != expected:
        path = f"{base}/{local_name(tag)}"
        message = f"element {tag} found, {expected} expected (another model version? see `bridge schemas list`)"
        raise InboundError(f"cannot convert to JSON: {path}: {message}", [Issue(path, message, "wrong-namespace")])
    try:
        return {spec.name: _value(element, spec.root)}
    except CodecError as exc:
        raise to_inbound(exc, f"{base}/{spec.name}") from None


def to_inbound(exc: CodecError, base: str) -> InboundError:
    """The walker's error as an :class:`InboundError` naming the full XPath."""
    path = "/".join([base, *reversed(exc.segments)])
    return InboundError(f"cannot convert to JSON: {path}: {exc.message}", [Issue(path, exc.message, exc.code)])


def local_name(tag: object) -> str:
    """``{urn:x}name`` -> ``name`` (an element's tag, as lxml types it)."""
    tag = str(tag)
    return tag[tag.index("}") + 1 :] if tag[0] == "{" else tag


def any_value(element: etree._Element) -> object:
    """Open content: children nest, repeats (and ANY_ARRAY_NAMES) become arrays, leaves strings."""
    groups: dict[str, list[Any]] = {}
    for child in element:
        tag = child.tag
        if isinstance(tag, str):
            groups.setdefault(local_name(tag), []).append(any_value(child))
    if not groups:
        return element.text or ""
    return {name: items if len(items) > 1 or name in ANY_ARRAY_NAMES else items[0] for name, items in groups.items()}


def _value(element: etree._Element, spec: ElementSpec) -> object:
    kind = spec.kind
    if kind == "complex":
        return _object(element, spec)
    if kind == "any":
        return any_value(element)
    if len(element):
        for child in element:
            if isinstance(child.tag, str):
                raise CodecError(f"element {local_name(child.tag)!r} found inside a {kind} value", "wrong-type")
    return value_of(element.text, kind)


def _object(element: etree._Element, spec: ElementSpec) -> dict[str, Any]:
    return object_from_children(element, spec)


def object_from_children(children: Iterable[etree._Element], spec: ElementSpec) -> dict[str, Any]:
    """The JSON object of a complex element given its child elements (keys in XSD order)."""
    groups: dict[str, list[Any]] = {}
    index = spec._index
    for child in children:
        tag = child.tag
        if type(tag) is not str:
            continue  # comments, processing instructions
        name = tag[tag.index("}") + 1 :] if tag[0] == "{" else tag
        if name not in index:
            error = CodecError("is not defined in the schema", "unknown-field")
            error.segments.append(name)
            raise error
        found = groups.get(name)
        if found is None:
            groups[name] = [child]
        else:
            found.append(child)
    result: dict[str, Any] = {}
    for name in sorted(groups, key=spec._position.__getitem__):
        found, child_spec = groups[name], index[name]
        if child_spec.repeated:
            result[name] = [_child(one, child_spec, number) for number, one in enumerate(found, 1)]
        elif len(found) > 1:
            error = CodecError(f"occurs {len(found)} times, at most once allowed", "too-many")
            error.segments.append(name)
            raise error
        else:
            result[name] = _child(found[0], child_spec, 0)
    return result


def _child(element: etree._Element, spec: ElementSpec, position: int) -> object:
    try:
        return _value(element, spec)
    except CodecError as exc:
        exc.segments.append(f"{spec.name}[{position}]" if position else spec.name)
        raise

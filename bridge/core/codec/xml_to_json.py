"""XML element -> JSON dict (Decimal numbers), walking an :class:`ElementSpec`.

Keys come out in XSD order; repeated elements become arrays even when only
one is present (the schema, not the instance, decides); leaf text is typed by
the spec so decimals keep their exact digits. Whitespace-only text between
child elements (indentation) is ignored; string leaves are kept byte-exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from bridge.core.codec.json_to_xml import ANY_ARRAY_NAMES, ARRAY, ENTRY, KEY, SHAPE
from bridge.core.codec.scalars import CodecError, value_of
from bridge.core.codec.spec import ElementSpec, MessageSpec
from bridge.core.errors import InboundError, Issue


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
    """Open content: children nest, repeats (and ANY_ARRAY_NAMES) become arrays, leaves strings.

    ``j:array`` / ``j:type`` marks written by :func:`bridge.core.codec.json_to_xml.fill_any` restore what the
    plain reading would change (one-item and empty arrays, empty objects, numbers, booleans, keys
    that are not XML names), so JSON -> XML -> JSON gives back the same value.
    """
    shape = element.get(SHAPE)
    groups: dict[str, list[Any]] = {}
    forced: dict[str, str] = {}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = child.get(KEY, "") if tag == ENTRY else local_name(tag)
        marked = child.get(ARRAY)
        if marked in ("0", "1", "no"):
            forced[name] = marked
        items = groups.setdefault(name, [])
        if marked != "0":
            items.append(any_value(child))
    if not groups:
        return _any_scalar(element.text, shape)
    result: dict[str, Any] = {}
    for name, items in groups.items():
        how = forced.get(name)
        as_array = how in ("0", "1") or (how != "no" and (len(items) > 1 or name in ANY_ARRAY_NAMES))
        result[name] = items if as_array else items[0]
    return result


def _any_scalar(text: str | None, shape: str | None) -> object:
    if shape == "object":
        return {}
    if shape == "null":
        return None
    if shape == "boolean" and text in ("true", "false"):
        return text == "true"
    if shape == "number" and text:
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        return int(number) if number == number.to_integral_value() and "." not in text and "e" not in text.lower() \
            else number
    return text or ""


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

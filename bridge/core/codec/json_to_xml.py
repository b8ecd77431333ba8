"""JSON (a dict with Decimal numbers) -> XML, walking an :class:`ElementSpec`.

Element order comes from the spec (the XSD sequence), never from JSON key
order; arrays become repeated siblings; ``None``, empty objects and empty
arrays of schema-typed elements are dropped (open content keeps them, marked); the payload namespace is the default namespace (no
prefix). Elements are built with lxml's C API, so an XSD-validating caller
can hand the tree straight to ``lxml.etree.XMLSchema`` without reparsing.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from lxml import etree

from bridge.core.codec.scalars import CodecError, text_of, value_of
from bridge.core.codec.spec import ElementSpec, MessageSpec
from bridge.core.errors import InboundError, Issue
from bridge.core.numbers import MAX_DIGITS

JSON_NAMESPACE = "urn:hub-bridge:json"
SHAPE = f"{{{JSON_NAMESPACE}}}type"  # object, number, boolean, null
ARRAY = f"{{{JSON_NAMESPACE}}}array"  # 1: an item of an array, 0: an empty array, no: not an array
KEY = f"{{{JSON_NAMESPACE}}}key"
ENTRY = f"{{{JSON_NAMESPACE}}}entry"
# names read as arrays in open content even when they occur once (RS-ERROR sourceMessage holds an
# EDXL-DE message, whose "content" is an array)
ANY_ARRAY_NAMES = frozenset({"content"})
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_SubElement = etree.SubElement


def build_element(payload: dict[str, Any], spec: MessageSpec, json_path: str = "") -> etree._Element:
    """The XML element of ``payload`` (the value under the root key, e.g. ``createCase``)."""
    namespace = spec.namespace
    root = etree.Element(f"{{{namespace}}}{spec.name}", nsmap={None: namespace})
    try:
        fill_element(root, payload, spec.root, f"{{{namespace}}}")
    except CodecError as exc:
        raise to_inbound(exc, f"{json_path}/{spec.name}") from None
    return root


def serialize(element: etree._Element) -> bytes:
    """Deterministic bytes: fixed declaration, default namespace, 2-space indent."""
    return XML_DECLARATION + etree.tostring(element, encoding="UTF-8", pretty_print=True)


def json_to_xml(payload: dict[str, Any], spec: MessageSpec) -> bytes:
    """Serialized XML of one payload."""
    return serialize(build_element(payload, spec))


def fill_any(parent: etree._Element, value: object, prefix: str) -> None:
    """Open content (``xs:any``): objects nest, arrays repeat, scalars become text.

    XML has no types there, so what the plain form would read back differently is marked with
    ``j:array`` / ``j:type`` attributes (namespace ``urn:hub-bridge:json``, allowed by the XSDs' ``processContents
    lax/skip``): a one-item or empty array, a value that is not an array under a name read as one
    (``content``), an empty object, a number, a boolean; a key that is not an XML name travels as
    ``<j:entry j:key="...">``. XML from elsewhere carries no marks and is read as before.
    """
    if isinstance(value, dict):
        if not value:
            parent.set(SHAPE, "object")
        for key, item in value.items():
            if item is None:
                continue
            if isinstance(item, list):
                if not item:
                    _any_child(parent, key, prefix).set(ARRAY, "0")
                for one in item:
                    child = _any_child(parent, key, prefix)
                    if len(item) == 1 and key not in ANY_ARRAY_NAMES:
                        child.set(ARRAY, "1")
                    _fill_any_item(child, one, key, prefix)
                continue
            child = _any_child(parent, key, prefix)
            if key in ANY_ARRAY_NAMES:
                child.set(ARRAY, "no")
            _fill_any_item(child, item, key, prefix)
    elif value is not None:
        if isinstance(value, bool):
            parent.set(SHAPE, "boolean")
        elif isinstance(value, (int, float, Decimal)):
            parent.set(SHAPE, "number")
        elif isinstance(value, list):
            raise CodecError("an array inside an array cannot be carried as XML open content", "nested-array")
        set_text(parent, value)


def _any_child(parent: etree._Element, key: str, prefix: str) -> etree._Element:
    if _XML_NAME.fullmatch(key):
        return _SubElement(parent, prefix + key)
    child = _SubElement(parent, ENTRY, nsmap={"j": JSON_NAMESPACE})
    child.set(KEY, key)
    return child


def _fill_any_item(child: etree._Element, value: object, key: str, prefix: str) -> None:
    if value is None:
        child.set(SHAPE, "null")
        return
    try:
        fill_any(child, value, prefix)
    except CodecError as exc:
        exc.segments.append(key)
        raise


def set_text(element: etree._Element, value: object) -> None:
    """Text of a leaf; characters XML 1.0 cannot carry (NUL, most control codes) are the sender's error."""
    try:
        element.text = text_of(value)
    except ValueError:
        raise CodecError("contains characters XML cannot carry (control codes or NUL)", "not-xml-compatible") from None


def fill_element(parent: etree._Element, value: object, spec: ElementSpec, prefix: str) -> None:
    """Fill ``parent`` (already created) with ``value`` shaped by ``spec``; children get ``prefix``."""
    kind = spec.kind
    if kind == "complex":
        if type(value) is not dict:
            raise CodecError(f"{_json_type(value)} found, object expected", "wrong-type")
        _fill_object(parent, value, spec, prefix)
    elif kind == "any":
        fill_any(parent, value, prefix)
    else:
        set_text(parent, value)


def _fill_object(parent: etree._Element, value: dict[str, Any], spec: ElementSpec, prefix: str) -> None:
    # Hot path: visit only the keys present, in XSD order (sorting a handful of keys
    # beats scanning the dozens of optional children most schemas declare).
    position = spec._position
    try:
        keys = sorted(value, key=position.__getitem__)
    except KeyError:
        unknown = next(key for key in value if key not in position)
        error = CodecError("is not defined in the schema", "unknown-field")
        error.segments.append(unknown)
        raise error from None
    index = spec._index
    for key in keys:
        item = value[key]
        child = index[key]
        # None, [] and a typed {} carry nothing and are left out (documented normalisation); open content
        # (xs:any) keeps its empty object, marked, so it reads back as {}, not ""
        if item is None or item == [] or (item == {} and child.kind != "any"):
            continue
        if type(item) is list:
            if not child.repeated:
                error = CodecError("array found, single value expected", "wrong-type")
                error.segments.append(key)
                raise error
            for number, one in enumerate(item):
                _put(parent, one, child, prefix, f"{key}/{number}")
        else:
            _put(parent, item, child, prefix, key)


def _put(parent: etree._Element, item: object, child: ElementSpec, prefix: str, segment: str) -> None:
    try:
        element = _SubElement(parent, prefix + child.name)
        kind = child.kind
        if kind == "complex":
            if type(item) is not dict:
                raise CodecError(f"{_json_type(item)} found, object expected", "wrong-type")
            _fill_object(element, item, child, prefix)
        elif kind == "any":
            fill_any(element, item, prefix)
        elif type(item) is str:
            element.text = item
        elif isinstance(item, (dict, list)):
            raise CodecError(f"{_json_type(item)} found, {kind} expected", "wrong-type")
        else:
            element.text = text_of(item)
    except CodecError as exc:
        exc.segments.append(segment)
        raise
    except ValueError:
        error = CodecError("contains characters XML cannot carry (control codes or NUL)", "not-xml-compatible")
        error.segments.append(segment)
        raise error from None


def _json_type(value: object) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    return "number" if not isinstance(value, bool) else "boolean"


def to_inbound(exc: CodecError, base: str) -> InboundError:
    path = "/".join([base, *reversed(exc.segments)])
    return InboundError(f"cannot convert to XML: {path}: {exc.message}", [Issue(path, exc.message, exc.code)])


# --- the fast path: the same bytes as serialize(build_element(...)), written as text -----------------------------
#
# Building ~100 lxml elements from Python and serialising them cost ~200 us for a 4 kB RC-EDA payload; writing
# the pretty-printed text directly costs a fraction of that. The text builder handles only the plain case
# (schema-typed elements, scalar leaves, XML-safe text) and steps aside for everything else (open content, an
# error to report, a character lxml would refuse), so the element builder stays the one reference for both the
# output and every error. Tests check that both give the same bytes.

# Characters outside XML 1.0 (https://www.w3.org/TR/xml/#charsets): looked for only in text that is not all
# printable (str.isprintable() is false for every one of them), and such a message goes to the element builder
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_INDENTS = tuple("\n" + "  " * depth for depth in range(66))
_INT_BOUND = 10**MAX_DIGITS


class PlainText:
    """A payload written as XML text by :func:`build_text`, with what the parser's limits look at.

    ``faithful``: reading the XML back (``element_to_json``, then the JSON text round trip) gives exactly the
    payload it was built from (same keys, values and types), so the JSON Schema verdict on the payload
    holds for the read-back form too. False as soon as anything was normalised (a null, empty array or
    typed empty object dropped, a single value under a repeating element, a number or boolean whose text
    reads back as another value or type).
    """

    __slots__ = ("data", "depth", "elements", "faithful")

    def __init__(self, data: bytes, elements: int, depth: int, faithful: bool) -> None:
        self.data, self.elements, self.depth, self.faithful = data, elements, depth, faithful


class _NotPlain(Exception):
    """The payload needs the element builder (open content, an error to name, an unusual character)."""


def build_text(payload: dict[str, Any], spec: MessageSpec, *, plain_strings: bool = False) -> PlainText | None:
    """``serialize(build_element(payload, spec))`` written directly, or None when only the element builder can say.

    ``plain_strings``: the caller vouches that no string of ``payload`` holds ``&``, ``<``, ``>``, ``\r`` or a
    character outside XML 1.0 (:func:`bridge.core.jsonstrict.strings_are_xml_text` says so of the JSON text it
    was read from), so the string leaves are written without looking at each one.
    """
    namespace, name = spec.namespace, spec.name
    if '"' in namespace or "&" in namespace or "<" in namespace or type(payload) is not dict:
        return None
    out: list[str] = []
    # closed (elements written with a start and an end tag), depth (levels, the root is 1), faithful; every other
    # element is one item of ``out``, and a closed one two: elements = the root + items - closed
    state: list[Any] = [0, 1, True, plain_strings]
    try:
        _text_object(out, payload, spec.root, 1, state)
    except (_NotPlain, CodecError, RecursionError, IndexError):
        return None
    body = "".join(out)
    text = f'<{name} xmlns="{namespace}">{body}\n</{name}>\n' if body else f'<{name} xmlns="{namespace}"/>\n'
    return PlainText(XML_DECLARATION + text.encode("utf-8"), 1 + len(out) - state[0], state[1], state[2])


#: key sets remembered per element spec (:attr:`ElementSpec._orders`); past that, the others are sorted per call
MAX_ORDERS = 64


def _order(value: dict[str, Any], spec: ElementSpec) -> tuple[tuple[str, ElementSpec, str, bool, str, str], ...]:
    """The keys of ``value`` in XSD order, each with its plan entry; remembered per key set (at most MAX_ORDERS)."""
    plan = spec._plan
    try:
        order = tuple((key, *plan[key]) for key in sorted(value, key=spec._position.__getitem__))
    except KeyError:
        raise _NotPlain from None
    orders = spec._orders
    if len(orders) < MAX_ORDERS:
        orders[tuple(value)] = order
    return order


def _text_object(out: list[str], value: dict[str, Any], spec: ElementSpec, depth: int, state: list[Any]) -> bool:
    """Write the children of ``value`` (one item of ``out`` per element, a closed element's end tag another);
    whether any was written."""
    order = spec._orders.get(tuple(value)) or _order(value, spec)
    plain_strings = state[3]
    indent = _INDENTS[depth]
    written = len(out)
    append = out.append
    for key, child, kind, repeated, start, end in order:
        item = value[key]
        if not repeated:  # the common cases inline: a string leaf, a non-empty object
            if type(item) is str and kind == "string":
                if not plain_strings:
                    if not item.isprintable() and _NOT_XML_CHAR.search(item):
                        raise _NotPlain
                    if "&" in item or "<" in item or ">" in item or "\r" in item:
                        item = _escape(item)
                append(f"{indent}{start}{item}{end}")
                continue
            if type(item) is dict and kind == "complex" and item:
                append(indent + start)
                if _text_object(out, item, child, depth + 1, state):
                    append(indent + end)
                    state[0] += 1
                else:
                    out[-1] = f"{indent}<{child.name}/>"
                continue
        # by type first: ``Decimal == []`` asks numbers.Rational (an ABC) each time; other types step aside below
        if item is None or (type(item) is list and not item) or (type(item) is dict and not item and kind != "any"):
            state[2] = False  # dropped: the read-back form lacks it
            continue
        if type(item) is list:
            if not repeated:
                raise _NotPlain
            for one in item:
                _text_put(out, one, child, kind, start, end, depth, indent, state)
        else:
            if repeated:
                state[2] = False  # a single value reads back as a one-item array
            _text_put(out, item, child, kind, start, end, depth, indent, state)
    if len(out) > written:
        if depth >= state[1]:
            state[1] = depth + 1  # levels of elements written (the root is level 1)
        return True
    return False


def _text_put(out: list[str], item: object, child: ElementSpec, kind: str, start: str, end: str, depth: int,
              indent: str, state: list[Any]) -> None:
    if kind == "complex":
        if type(item) is not dict:
            raise _NotPlain
        out.append(indent + start)
        if _text_object(out, item, child, depth + 1, state):
            out.append(indent + end)
            state[0] += 1
        else:
            out[-1] = f"{indent}<{child.name}/>"
        return
    if kind == "any":
        raise _NotPlain
    if type(item) is str:
        text = item
        if kind != "string":
            state[2] = False  # "12" under a number reads back as 12
        if not text.isprintable() and _NOT_XML_CHAR.search(text):
            raise _NotPlain
    elif type(item) is dict or type(item) is list:
        raise _NotPlain
    elif type(item) is Decimal and kind == "decimal" and "." in (text := str(item)) and "E" not in text \
            and len(text) <= MAX_DIGITS:
        pass  # plain notation, at most 40 characters: in bounds, and it reads back with the same digits
    elif type(item) is int and kind == "integer" and -_INT_BOUND < item < _INT_BOUND:
        text = str(item)
    else:
        text = text_of(item)  # a CodecError sends the message to the element builder, which names the field
        if state[2] and not _reads_back(text, kind, item):
            state[2] = False
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        text = _escape(text)
    out.append(f"{indent}{start}{text}{end}")


def _escape(text: str) -> str:
    """Text content as libxml2 writes it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _reads_back(text: str, kind: str, item: object) -> bool:
    """Whether the XML reader, then a JSON text round trip, gives ``item`` back: same type and same digits."""
    if kind == "string":
        return False  # a number or boolean under a string element reads back as a string
    try:
        back = value_of(text, kind)  # type: ignore[arg-type]
    except CodecError:
        return False
    if type(back) is not type(item) or back != item:
        return False
    # a Decimal is written to JSON as its text: without a point ("15", from 1.5e1) it would read back as an int
    return not isinstance(item, Decimal) or (str(back) == str(item) and "." in str(item)
                                             and "e" not in str(item).lower())

"""A hardened XML parser for everything that comes from outside.

The Hub, NexSIS and every LRM send XML we do not control. This parser refuses
document type declarations outright (so no entity, internal or external, can be
declared or expanded: XXE and "billion laughs" both die here), never touches the
network, and enforces limits on size, nesting depth, element count, attributes per
element and namespace declarations *before* any of the document is handed to the
rest of the bridge (the last two keep the schema validator's full error pass cheap:
2,000 attributes on one element made it take 54 s). Each refusal is an
:class:`~bridge.core.errors.InboundError` with a message naming the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from bridge.core.errors import InboundError, Issue, MessageTooLarge, UnsafeXml

DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_ELEMENTS = 50_000
DEFAULT_MAX_ATTRIBUTES = 64
DEFAULT_MAX_NAMESPACES = 64


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """Limits applied to one document; exceeding any of them is the sender's fault."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_elements: int = DEFAULT_MAX_ELEMENTS
    #: attributes on any one element (namespace declarations not counted)
    max_attributes: int = DEFAULT_MAX_ATTRIBUTES
    #: namespace declarations (``xmlns``, ``xmlns:p``) in the whole document
    max_namespaces: int = DEFAULT_MAX_NAMESPACES


DEFAULT_LIMITS = XmlLimits()


class _NothingExternal(etree.Resolver):
    """Answers every external load (DTD subset, entity) with empty text, so no file is ever opened.

    The byte scan in :func:`parse_xml` cannot see a DOCTYPE in UTF-16/UTF-32, and
    with ``collect_ids=False`` libxml2 then reads the external subset it names
    (``SYSTEM "/etc/passwd"`` probes the disk; ``SYSTEM "/dev/stdin"`` or a FIFO
    blocks the reactor for ever) despite ``load_dtd=False``.
    """

    def resolve(self, system_url: str | None, public_id: str | None, context: object) -> Any:
        return self.resolve_string("", context)


_NOTHING_EXTERNAL = _NothingExternal()


def new_parser(*, remove_blank_text: bool = False) -> etree.XMLParser:
    """A parser with the hardened settings (no DTD, no entity, no network, no external file).

    ``remove_blank_text``: leave out the whitespace-only text between elements (libxml2's "ignorable
    whitespace"; a leaf's own text, even all blanks, is kept), for a reader that needs no such node.
    """
    # huge_tree=False keeps libxml2's own ceilings (depth 256, text node 10 MB) as a
    # second line of defence behind ours.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
        remove_blank_text=remove_blank_text,
    )
    parser.resolvers.add(_NOTHING_EXTERNAL)
    return parser


def parse_xml(data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> etree._Element:
    """Parse ``data`` into an element tree, refusing anything unsafe or oversize."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("parse_xml takes bytes")
    if len(data) > limits.max_bytes:
        raise MessageTooLarge(
            f"XML document is {len(data)} bytes, over the limit of {limits.max_bytes}",
            [Issue("/", f"size {len(data)} > {limits.max_bytes}", "too-large")],
        )
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise _unsafe("document type declarations and entities are not accepted")
    try:
        root = etree.fromstring(bytes(data), new_parser())
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    if root.getroottree().docinfo.internalDTD is not None:
        # Reached only for encodings the byte scan above cannot see (UTF-16...).
        raise _unsafe("document type declarations and entities are not accepted")
    _check_shape(root, limits)
    _check_namespaces(data, root, limits)
    return root


def _syntax_error(exc: etree.XMLSyntaxError) -> InboundError:
    """libxml2's own resource ceilings get the same codes as ours; the rest is plain syntax."""
    line = getattr(exc, "lineno", None) or 0
    text = str(exc.msg)
    if "amplification" in text or "Entity" in text or "entity" in text:
        return _unsafe(f"entity expansion refused by the parser ({text})")
    if "Excessive depth" in text:
        return InboundError(f"XML nesting too deep (line {line}): {text}", [Issue(f"line {line}", text, "too-deep")])
    if "Resource limit exceeded" in text or "huge" in text.lower():
        return MessageTooLarge(f"XML too large (line {line}): {text}", [Issue(f"line {line}", text, "too-large")])
    return InboundError(f"XML is not well-formed: {text}", [Issue(f"line {line}", text, "xml-syntax")])


def _unsafe(reason: str) -> UnsafeXml:
    return UnsafeXml(f"unsafe XML refused: {reason}", [Issue("/", reason, "unsafe-xml")])


def _check_shape(root: etree._Element, limits: XmlLimits) -> None:
    # Both checks run inside libxml2's XPath engine: a Python walk over every
    # element cost a quarter of the XML->JSON conversion time.
    count = int(root.xpath("count(//*)"))
    if count > limits.max_elements:
        raise MessageTooLarge(
            f"XML has more than {limits.max_elements} elements",
            [Issue("/", f"elements {count} > {limits.max_elements}", "too-large")],
        )
    crowded = root.xpath(f"(//*[count(@*) > {int(limits.max_attributes)}])[1]")
    if crowded:
        count = len(crowded[0].attrib)
        raise MessageTooLarge(
            f"XML element has {count} attributes, over the limit of {limits.max_attributes}",
            [Issue(_path_of(crowded[0]), f"attributes {count} > {limits.max_attributes}", "too-many-attributes")],
        )
    too_deep = root.xpath("/*" + "/*" * limits.max_depth)
    if too_deep:
        raise InboundError(
            f"XML nesting deeper than {limits.max_depth} levels",
            [Issue(_path_of(too_deep[0]), f"depth > {limits.max_depth}", "too-deep")],
        )


def _check_namespaces(data: bytes, root: etree._Element, limits: XmlLimits) -> None:
    # The byte count is an upper bound (text may say "xmlns" too) for ASCII-compatible
    # encodings; only over it (or in UTF-16/32) is the tree walked to count the declarations.
    encoding = (root.getroottree().docinfo.encoding or "UTF-8").upper()
    wide = encoding.startswith(("UTF-16", "UTF-32", "UCS"))
    if not wide and bytes(data).count(b"xmlns") <= limits.max_namespaces:
        return
    for count, _ in enumerate(etree.iterwalk(root, events=("start-ns",)), start=1):
        if count > limits.max_namespaces:
            raise MessageTooLarge(
                f"XML declares more than {limits.max_namespaces} namespaces",
                [Issue("/", f"namespace declarations > {limits.max_namespaces}", "too-many-namespaces")],
            )


def _path_of(element: etree._Element) -> str:
    return element.getroottree().getpath(element)

"""Whole EDXL-DE messages (envelope + RC-DE header + payload) between JSON and XML.

The Hub converts a full message when sender and recipient prefer different
formats; so do we. The two shapes:

* JSON: ``content[i].jsonContent.embeddedJsonContent.message`` holds the RC-DE
  header fields next to exactly one payload key (``createCase``...);
* XML: ``content/contentObject[i]/contentXML/embeddedXMLContent/message`` in
  the RC-DE header's namespace (the bundle's model line: ``urn:emergency:eda:1.9``,
  ``urn:emergency:cisu:2.0``...) holds the same header elements, then the payload
  element in its own namespace.

The envelope part is the small fixed subset of EDXL-DE 2.0 the Hub uses, so it
is written out here rather than derived from the (much larger) EDXL-DE XSD.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from bridge.core.codec.json_to_xml import build_element, fill_element, set_text
from bridge.core.codec.json_to_xml import to_inbound as json_error
from bridge.core.codec.scalars import CodecError
from bridge.core.codec.spec import ElementSpec, MessageSpec
from bridge.core.codec.xml_to_json import element_to_json, local_name, object_from_children
from bridge.core.codec.xml_to_json import to_inbound as xml_error
from bridge.core.errors import BridgeError

EDXL_NAMESPACE = "urn:oasis:names:tc:emergency:EDXL:DE:2.0"
XLINK_NAMESPACE = "http://www.w3.org/1999/xlink"
MESSAGE_NAMESPACE = "urn:emergency:eda:1.9"
"""The header namespace of the project's models (used when no bundle is installed); a bundle brings its own."""
ENVELOPE_ROOT = "edxlDistribution"
HEADER_ROOT = "distributionElement"
ENVELOPE_FIELDS = ("distributionID", "senderID", "dateTimeSent", "dateTimeExpires", "distributionStatus", "distributionKind")
DESCRIPTOR_FIELDS = ("language", "explicitAddress")
ADDRESS_FIELDS = ("explicitAddressScheme", "explicitAddressValue")
MESSAGE_POINTER = "jsonContent/embeddedJsonContent/message"
# Payloads the Hub carries without an RC-DE header (EDXL-DE-full-no-header.xsd).
NO_HEADER_ROOTS = frozenset({"error", "technicalNoreq", "customContent", "distributionElement"})

SpecLookup = Callable[[str], MessageSpec]
_E = f"{{{EDXL_NAMESPACE}}}"
_XLINK_TYPE = f"{{{XLINK_NAMESPACE}}}type"


def is_envelope_json(document: object) -> bool:
    """A JSON document is a full message when it has the EDXL-DE ``content`` array."""
    return isinstance(document, dict) and ("content" in document or "distributionID" in document)


def envelope_to_element(document: dict[str, Any], spec_of: SpecLookup) -> etree._Element:
    """XML tree of a full JSON message."""
    root = etree.Element(_E + ENVELOPE_ROOT, {_XLINK_TYPE: "extended"}, nsmap={None: EDXL_NAMESPACE, "xlink": XLINK_NAMESPACE})
    try:
        _check_keys(document, (*ENVELOPE_FIELDS, "descriptor", "content"))
        for name in ENVELOPE_FIELDS:
            if document.get(name) is not None:
                set_text(etree.SubElement(root, _E + name), document[name])
        if document.get("descriptor") is not None:
            _descriptor_to_xml(etree.SubElement(root, _E + "descriptor", {_XLINK_TYPE: "resource"}), document["descriptor"])
    except CodecError as exc:
        raise json_error(exc, "") from None
    content = document.get("content") or []
    if not isinstance(content, list):
        raise json_error(CodecError("object found, array expected", "wrong-type"), "/content")
    if content:
        holder = etree.SubElement(root, _E + "content", {_XLINK_TYPE: "resource"})
        for position, item in enumerate(content):
            base = f"/content/{position}/{MESSAGE_POINTER}"
            message = _dig(item, ("jsonContent", "embeddedJsonContent", "message"), f"/content/{position}")
            xml_message = _nest(holder, ("contentObject", "contentXML", "embeddedXMLContent"))
            _message_to_xml(xml_message, message, spec_of, base)
    return root


def envelope_to_json(root: etree._Element, spec_of: SpecLookup) -> dict[str, Any]:
    """JSON dict of a full XML message (``edxlDistribution`` root)."""
    result: dict[str, Any] = {}
    children = _children(root)
    try:
        _check_names(children, (*ENVELOPE_FIELDS, "descriptor", "content"))
        for name in ENVELOPE_FIELDS:
            if name in children:
                result[name] = children[name][0].text or ""
        if "descriptor" in children:
            result["descriptor"] = _descriptor_to_json(children["descriptor"][0])
    except CodecError as exc:
        raise xml_error(exc, f"/{ENVELOPE_ROOT}") from None
    if "content" in children:
        objects = [child for child in children["content"][0] if isinstance(child.tag, str)]
        result["content"] = [
            {"jsonContent": {"embeddedJsonContent": {"message": _message_to_json(obj, spec_of, position)}}}
            for position, obj in enumerate(objects, 1)
        ]
    return result


def _message_to_xml(parent: etree._Element, message: dict[str, Any], spec_of: SpecLookup, base: str) -> None:
    header_spec = spec_of(HEADER_ROOT)
    header, namespace = header_spec.root, header_spec.namespace
    xml_message = etree.SubElement(parent, f"{{{namespace}}}message", nsmap={None: namespace})
    payload_names = [key for key in message if header.child(key) is None]
    if len(payload_names) != 1:
        error = CodecError(f"exactly one payload expected next to the header, found {payload_names or 'none'}", "payload")
        raise json_error(error, base)
    present = {key: value for key, value in message.items() if header.child(key) is not None}
    try:
        fill_element(xml_message, present, ElementSpec("message", "complex", children=header.children), f"{{{namespace}}}")
    except CodecError as exc:
        raise json_error(exc, base) from None
    name = payload_names[0]
    spec = _spec_or_error(spec_of, name, f"{base}/{name}")
    payload = message[name]
    if not isinstance(payload, dict):
        raise json_error(CodecError("object expected", "wrong-type"), f"{base}/{name}")
    xml_message.append(build_element(payload, spec, base))


def _message_to_json(content_object: etree._Element, spec_of: SpecLookup, position: int) -> dict[str, Any]:
    base = f"/{ENVELOPE_ROOT}/content/contentObject[{position}]/contentXML/embeddedXMLContent/message"
    message = _xml_dig(content_object, ("contentXML", "embeddedXMLContent", "message"), base)
    header_spec = spec_of(HEADER_ROOT)
    header = header_spec.root
    tag = str(message.tag)
    if tag != f"{{{header_spec.namespace}}}message":
        found = tag.partition("}")[0].lstrip("{") or "no namespace"
        raise xml_error(CodecError(f"message in namespace {found}, {header_spec.namespace} expected "
                                   "(another model version: install its schema bundle)", "wrong-namespace"), base)
    header_children: list[etree._Element] = []
    payloads: list[etree._Element] = []
    for child in message:
        if isinstance(child.tag, str):
            (header_children if header.child(local_name(child.tag)) else payloads).append(child)
    if len(payloads) != 1:
        names = [local_name(child.tag) for child in payloads]
        raise xml_error(CodecError(f"exactly one payload expected next to the header, found {names or 'none'}", "payload"), base)
    try:
        result = object_from_children(header_children, ElementSpec("message", "complex", children=header.children))
    except CodecError as exc:
        raise xml_error(exc, base) from None
    payload = payloads[0]
    spec = _spec_or_error(spec_of, local_name(payload.tag), f"{base}/{local_name(payload.tag)}")
    result.update(element_to_json(payload, spec, base))
    return result


def _descriptor_to_xml(parent: etree._Element, descriptor: object) -> None:
    if not isinstance(descriptor, dict):
        raise _segment(CodecError("object expected", "wrong-type"), "descriptor")
    try:
        _check_keys(descriptor, DESCRIPTOR_FIELDS)
        if descriptor.get("language") is not None:
            set_text(etree.SubElement(parent, _E + "language"), descriptor["language"])
        addresses = descriptor.get("explicitAddress")
        for address in addresses if isinstance(addresses, list) else [addresses] if addresses else []:
            if not isinstance(address, dict):
                raise _segment(CodecError("object expected", "wrong-type"), "explicitAddress")
            _check_keys(address, ADDRESS_FIELDS, "explicitAddress")
            element = etree.SubElement(parent, _E + "explicitAddress")
            for name in ADDRESS_FIELDS:
                if address.get(name) is not None:
                    set_text(etree.SubElement(element, _E + name), address[name])
    except CodecError as exc:
        raise _segment(exc, "descriptor") from exc


def _descriptor_to_json(descriptor: etree._Element) -> dict[str, Any]:
    children = _children(descriptor)
    try:
        _check_names(children, DESCRIPTOR_FIELDS)
        result: dict[str, Any] = {}
        if "language" in children:
            result["language"] = children["language"][0].text or ""
        addresses = children.get("explicitAddress", [])
        if len(addresses) > 1:
            raise _segment(CodecError("the JSON form carries a single explicitAddress", "too-many"), "explicitAddress")
        if addresses:
            fields = _children(addresses[0])
            _check_names(fields, ADDRESS_FIELDS, "explicitAddress")
            result["explicitAddress"] = {name: fields[name][0].text or "" for name in ADDRESS_FIELDS if name in fields}
    except CodecError as exc:
        raise _segment(exc, "descriptor") from exc
    return result


def _children(element: etree._Element) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for child in element:
        if isinstance(child.tag, str):
            groups.setdefault(local_name(child.tag), []).append(child)
    return groups


def _check_keys(document: dict[str, Any], allowed: tuple[str, ...], where: str | None = None) -> None:
    for key in document:
        if key not in allowed:
            error = _segment(CodecError("is not defined in the schema", "unknown-field"), key)
            raise _segment(error, where) if where else error


_check_names = _check_keys


def _segment(error: CodecError, name: str) -> CodecError:
    error.segments.append(name)
    return error


def _dig(item: object, names: tuple[str, ...], base: str) -> dict[str, Any]:
    path = base
    for name in names:
        if not isinstance(item, dict) or name not in item:
            raise json_error(CodecError(f"{name} is missing", "required"), path)
        item, path = item[name], f"{path}/{name}"
    if not isinstance(item, dict):
        raise json_error(CodecError("object expected", "wrong-type"), path)
    return item


def _xml_dig(element: etree._Element, names: tuple[str, ...], base: str) -> etree._Element:
    for name in names:
        found = [child for child in element if isinstance(child.tag, str) and local_name(child.tag) == name]
        if len(found) != 1:
            raise xml_error(CodecError(f"exactly one {name} expected", "required"), base)
        element = found[0]
    return element


def _nest(parent: etree._Element, names: tuple[str, ...]) -> etree._Element:
    for name in names:
        parent = etree.SubElement(parent, _E + name, {_XLINK_TYPE: "resource"} if name == "contentObject" else {})
    return parent


def _spec_or_error(spec_of: SpecLookup, name: str, path: str) -> MessageSpec:
    try:
        return spec_of(name)
    except (KeyError, BridgeError):  # the bundle or the models know no such payload
        raise json_error(CodecError(f"unknown message type {name!r}", "schema-not-found"), path) from None

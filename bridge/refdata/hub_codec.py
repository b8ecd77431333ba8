"""The public conversion API: ``translate``, ``validate``, ``detect``.

This is the layer that knows where schemas come from (an official bundle via
:mod:`bridge.refdata.bundle`, or the project's models when none is installed) and
wires them to the sans-IO codec in :mod:`bridge.core.codec`. Every function
takes bytes and gives bytes or a list of issues; nothing here touches the
network, and every XML byte goes through the hardened parser.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import simplejson
from lxml import etree

from bridge.core.codec.envelope import ENVELOPE_ROOT, envelope_to_element, envelope_to_json, is_envelope_json
from bridge.core.codec.json_to_xml import PlainText, build_element, build_text, serialize
from bridge.core.codec.spec import MessageSpec
from bridge.core.codec.xml_to_json import element_to_json, local_name
from bridge.core.errors import BridgeError, HubErrorCode, InboundError, Issue, UnknownMessageType
from bridge.core.jsonstrict import loads_strict, strings_are_xml_text
from bridge.core.validation import json_message_issues, xml_message_issues
from bridge.core.xmlsafe import DEFAULT_LIMITS, XmlLimits, new_parser, parse_xml
from bridge.refdata.bundle import Bundle, resolve_bundle

FORMATS = ("json", "xml")
# Issue codes that mean "could not even read it" (CLI exit 2) rather than "invalid" (exit 1).
UNREADABLE_CODES = frozenset({"json-syntax", "xml-syntax", "unsafe-xml", "too-large", "too-deep", "not-a-message", "empty"})


def detect(data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> tuple[str, str]:
    """``("json" | "xml", root)``: root is ``edxlDistribution`` for a full message, else the payload name."""
    fmt, _, root = parse(data, limits)
    return fmt, root


def parse(data: bytes, limits: XmlLimits = DEFAULT_LIMITS, root_hint: str | None = None) -> tuple[str, Any, str]:
    """``(format, document, root)``: a JSON dict (Decimal numbers) or an XML element, and its type.

    ``root_hint`` names the type of a bare JSON payload that lacks its root key.
    """
    if len(data) > limits.max_bytes:
        raise InboundError(f"message is {len(data)} bytes, over the limit of {limits.max_bytes}",
                           [Issue("/", f"size {len(data)} > {limits.max_bytes}", "too-large")])
    head = bytes(data[:64]).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        element = parse_xml(data, limits)
        return "xml", element, local_name(element.tag)
    if head.startswith((b"{", b"[")):
        document = _load_json(data)
        return "json", document, _json_root(document, root_hint)
    if not bytes(data).strip(b"\xef\xbb\xbf \t\r\n"):
        raise InboundError("empty message", [Issue("/", "the message is empty (0 bytes, or only blanks)", "empty")],
                           HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT)
    raise InboundError("neither JSON nor XML", [Issue("/", "the message starts with neither '{' nor '<'", "not-a-message")],
                       HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT)


def translate(data: bytes, to: str, *, schemas: Path | str | None = None, validate: bool = True,
              limits: XmlLimits = DEFAULT_LIMITS, version: str | None = None) -> bytes:
    """Convert a message (payload or full EDXL-DE message) to ``to`` (``json`` or ``xml``).

    The message is read and written with one bundle (:func:`bundle_for`): ``schemas``,
    else the installed ``version``, else the installed bundle whose namespace an XML
    message carries, else the default; the XML it writes is in that bundle's namespaces.
    With a bundle and ``validate`` the input is checked first and an
    :class:`InboundError` lists every schema error; without a bundle the
    modelled types (createCase, emsi, reference, error) convert through the models.
    """
    if to not in FORMATS:
        raise ValueError(f"to must be one of {FORMATS}, not {to!r}")
    fmt, document, root = parse(data, limits)
    bundle = bundle_for(fmt, document, schemas=schemas, version=version)
    if validate and bundle is not None:
        issues = _schema_issues(fmt, document, root, bundle)
        if issues:
            raise InboundError(f"invalid {root} message: {len(issues)} error(s)", issues, HubErrorCode.INVALID_MESSAGE)
    spec_of = spec_lookup(bundle)
    if validate and bundle is not None and fmt == "json" and to == "xml" and root != ENVELOPE_ROOT:
        # the JSON text says whether its strings are XML text as they stand (bytes only: parse read them so)
        built = _translate_plain(document, root, bundle, type(data) is bytes and strings_are_xml_text(data))
        if built is not None:
            return built
    element = document if fmt == "xml" else to_element(document, root, spec_of)
    if validate and bundle is not None and fmt != to:
        issues = _other_form_issues(fmt, document, element, root, bundle, spec_of)
        if issues:
            raise InboundError(f"the {to.upper()} form of this {root} message would not be valid: "
                               f"{len(issues)} error(s)", issues, HubErrorCode.INVALID_MESSAGE)
    return serialize(element) if to == "xml" else dump_json(to_json(element, root, spec_of))


def validate(data: bytes, *, schemas: Path | str | None = None, root_hint: str | None = None,
             limits: XmlLimits = DEFAULT_LIMITS, version: str | None = None,
             convertible: bool = True) -> list[Issue]:
    """Every error of a message (empty when valid) against its own bundle (:func:`bundle_for`)."""
    known = _BUILT.take(data)
    if known is not None:
        found = _validate_built(known, data, schemas, limits, version, convertible)
        if found is not None:
            return found
    try:
        fmt, document, root = parse(data, limits, root_hint)
    except InboundError as exc:
        return exc.issues or [Issue("/", exc.message, "not-a-message")]
    try:
        bundle = bundle_for(fmt, document, schemas=schemas, version=version)
    except BridgeError as exc:
        return exc.issues or [Issue("/", exc.message, "schema-not-found")]
    if bundle is not None:
        try:
            issues = _schema_issues(fmt, document, root, bundle)
        except BridgeError as exc:
            return exc.issues or [Issue("/", exc.message, "schema-not-found")]
    else:
        issues = _model_issues(fmt, document, root)
    # ``convertible``: also what ``translate`` would refuse (the other syntax cannot carry it), so the two
    # commands agree; the Hub dispatcher emulators pass False, as the real Hub checks its own schema only
    return issues or (_conversion_issues(fmt, document, root, bundle) if convertible else [])


@dataclass(frozen=True, slots=True, eq=False)
class _Built:
    """What :func:`translate` knows of XML bytes it has just written and checked (see :func:`_translate_plain`)."""

    data: bytes
    #: the tree libxml2 parsed from ``data`` and validated against the bundle's XSD, kept for the conversion
    #: check only when the text does not read back as the payload (``text.faithful`` false); else None, freed
    element: Any
    namespace: str  # of the root element: what bundle resolution reads from an XML message
    root: str
    bundle: Bundle
    text: PlainText


class _JustBuilt:
    """The XML bytes the last few ``translate`` calls returned, each handed once to a ``validate`` of the very same
    bytes object (``is``, not equality: nobody else can have produced it). Bounded; thread-safe."""

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._entries: OrderedDict[int, _Built] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, built: _Built) -> None:
        with self._lock:
            self._entries[id(built.data)] = built  # the entry holds the bytes, so their id is not reused meanwhile
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def take(self, data: object) -> _Built | None:
        if type(data) is not bytes:
            return None
        with self._lock:
            built = self._entries.get(id(data))
            if built is None or built.data is not data:
                return None
            del self._entries[id(data)]
        return built


_BUILT = _JustBuilt()
_OWN_PARSER = threading.local()


def _translate_plain(document: Any, root: str, bundle: Bundle, plain_strings: bool = False) -> bytes | None:
    """JSON payload -> XML bytes, already checked against the XSD, or None to take the general path.

    The text writer (:func:`bridge.core.codec.json_to_xml.build_text`) gives the very bytes the element
    builder and ``serialize`` would; libxml2 parses them (our own bytes, with the hardened parser's
    settings, leaving out the indentation between elements: 100 text nodes fewer to build, check and free
    for a 4 kB RC-EDA, and neither the XSD nor the JSON reading looks at them; a leaf's text is kept, even
    all blanks) and the XSD checks that tree: the verdict any reader of the bytes gets. Anything unusual
    (open content, a character or value the element builder must judge, an XSD error to report) returns
    None, and the general path does the work and names the errors as it always has. What was checked is
    kept for a ``validate`` of the same bytes object (:class:`_JustBuilt`), the tree only when that needs it.
    """
    payload = document.get(root) if isinstance(document, dict) and len(document) == 1 else None
    if not isinstance(payload, dict):
        return None
    spec = bundle.spec(root)
    text = build_text(payload, spec, plain_strings=plain_strings)
    if text is None:
        return None
    parser = getattr(_OWN_PARSER, "parser", None)
    if parser is None:
        parser = _OWN_PARSER.parser = new_parser(remove_blank_text=True)
    try:
        element = etree.fromstring(text.data, parser)
    except etree.XMLSyntaxError:
        return None
    if not bundle.xml_validator(root).is_valid(element):
        return None
    _BUILT.put(_Built(text.data, None if text.faithful else element, spec.namespace, root, bundle, text))
    return text.data


def _validate_built(known: _Built, data: bytes, schemas: Path | str | None, limits: XmlLimits,
                    version: str | None, convertible: bool) -> list[Issue] | None:
    """``validate`` of bytes ``translate`` has just written and checked, or None to take the general path.

    Every limit of the hardened parser is applied to what the writer counted (size, elements, depth; it
    writes no attribute and one namespace declaration, and no ``<!``: every ``<`` in text is escaped, so
    the parser's byte scans for ``<!DOCTYPE``, ``<!ENTITY`` and ``xmlns`` have their answer without reading
    the bytes again: no, no, one), the bundle is resolved as for any message and
    must be the one the bytes were checked against; the XSD verdict is then known. The conversion check
    (would the JSON form be valid?) is known too when the text reads back as exactly the JSON payload
    that passed its schema in ``translate`` (``PlainText.faithful``); otherwise it runs on the kept tree.
    """
    text = known.text
    if (len(data) > limits.max_bytes or text.elements > limits.max_elements or text.depth > limits.max_depth
            or limits.max_attributes < 0 or limits.max_namespaces < 1):
        return None  # the general path refuses it, with the parser's own message
    try:
        bundle = resolve_bundle(schemas, version=version, namespace=known.namespace)  # bundle_for of the tree
    except BridgeError:
        return None
    if bundle is not known.bundle:
        return None
    if not convertible or text.faithful:
        return []
    return _conversion_issues("xml", known.element, known.root, bundle)


def _conversion_issues(fmt: str, document: Any, root: str, bundle: Bundle | None) -> list[Issue]:
    """What ``translate`` would refuse in a schema-valid message, so ``validate`` and ``translate`` agree.

    The official JSON Schemas are open in places the XSDs are closed (an ``anyOf`` of message
    types with no ``additionalProperties: false``: a property next to the payload passes the JSON
    Schema, and no XML element can carry it). Such a message cannot cross to the other syntax;
    ``validate`` says so with the codec's own error rather than calling it valid.
    """
    spec_of = spec_lookup(bundle)
    try:
        element = document if fmt == "xml" else to_element(document, root, spec_of)
        return _other_form_issues(fmt, document, element, root, bundle, spec_of) if bundle is not None else []
    except BridgeError as exc:
        return exc.issues or [Issue("/", exc.message, "not-convertible")]


def _other_form_issues(fmt: str, document: Any, element: Any, root: str, bundle: Bundle,
                       spec_of: Callable[[str], MessageSpec]) -> list[Issue]:
    """The other syntax's schema errors of a converted message (e.g. an empty ``customContent`` object is
    valid JSON, but its XSD requires one element): such a message is refused by both commands."""
    if fmt == "json":
        found = _schema_issues("xml", element, root, bundle)
        where = "XML form"
    else:
        found = _schema_issues("json", as_json_text_reads_it(to_json(element, root, spec_of)), root, bundle)
        where = "JSON form"
    return [Issue(i.path, f"{i.message} (in the {where}: this message cannot be carried in the other syntax)",
                  i.code) for i in found]


class _Unusual(Exception):
    """A value :func:`as_json_text_reads_it` leaves to the real round trip."""


def as_json_text_reads_it(document: Any) -> Any:
    """``simplejson.loads(dump_json(document), use_decimal=True)``, without writing and reading the text.

    The JSON form of a converted message is what a reader of its JSON text gets: a finite Decimal
    written without a point or an exponent (``15``, ``-0``) reads back as an int, everything else the
    codec produces (dict, list, str, int, bool, None, other finite Decimals) as itself. Anything else
    takes the real round trip. Writing and reading the text cost 80 us of a 4 kB RC-EDA's ``validate``.
    """
    try:
        return _reads_it(document)
    except _Unusual:
        return simplejson.loads(dump_json(document), use_decimal=True)


def _reads_it(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        result = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual
            result[key] = _reads_it(item)
        return result
    if kind is list:
        return [_reads_it(item) for item in value]
    if kind is Decimal and value.is_finite():
        text = str(value)
        return value if "." in text or "E" in text else int(text)
    raise _Unusual


def bundle_for(fmt: str, document: Any, *, schemas: Path | str | None = None,
               version: str | None = None) -> Bundle | None:
    """The bundle a parsed message belongs to.

    An explicit ``schemas`` or ``version`` (configuration, ``--schemas``/``--schema-version``)
    decides; otherwise an XML message names its model line by its namespace (the payload's,
    or the RC-DE ``message`` element's in a full EDXL-DE message) and the installed bundle
    of that line is used; JSON carries no version, so it takes the default bundle.
    """
    namespace = message_namespace(document) if fmt == "xml" else None
    return resolve_bundle(schemas, version=version, namespace=namespace)


def message_namespace(element) -> str | None:
    """Namespace of the payload element, or of the RC-DE ``message`` inside a full EDXL-DE message."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if local_name(tag) == ENVELOPE_ROOT:
        for child in element.iter():
            if isinstance(child.tag, str) and local_name(child.tag) == "message":
                tag = child.tag
                break
    return tag[1:].partition("}")[0] if tag.startswith("{") else None


def to_element(document: dict, root: str, spec_of: Callable[[str], MessageSpec]):
    """The lxml element of a parsed JSON document (full message or ``{root: payload}``)."""
    if root == ENVELOPE_ROOT:
        return envelope_to_element(document, spec_of)
    payload = document.get(root) if isinstance(document, dict) and len(document) == 1 else None
    if not isinstance(payload, dict):
        raise UnknownMessageType("expected one top-level key naming the message type",
                                 [Issue("/", "expected {\"<type>\": {...}}", "not-a-message")])
    return build_element(payload, _spec(spec_of, root))


def to_json(element, root: str, spec_of: Callable[[str], MessageSpec]) -> dict:
    """The canonical JSON dict of an XML element (full message or payload)."""
    if root == ENVELOPE_ROOT:
        return envelope_to_json(element, spec_of)
    return element_to_json(element, _spec(spec_of, root))


def dump_json(document: Any) -> bytes:
    """Deterministic JSON bytes: exact decimals, UTF-8 as is, 2-space indent, trailing newline."""
    return (simplejson.dumps(document, use_decimal=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def spec_lookup(bundle: Bundle | None) -> Callable[[str], MessageSpec]:
    """Specs from the bundle, or from the models (modelled types only) when there is none."""
    if bundle is not None:
        return bundle.spec
    return _models_spec_lookup()


@functools.cache
def _models_spec_lookup() -> Callable[[str], MessageSpec]:
    """The model-derived specs, built once per process (the models never change at run time).

    Rebuilding them walked every payload model on each call: 2.5-6.5 ms per
    conversion in embedded mode (no bundle installed, the Docker image).
    The specs are frozen dataclasses, so sharing them is safe.
    """
    try:
        from bridge.core.models.spec_from_models import message_specs
    except ImportError:  # pragma: no cover - the models package ships with the bridge
        raise BridgeError("no schema bundle: run `bridge schemas install DIR` or pass --schemas DIR",
                          [Issue("schemas", "no bundle and no model fallback", "schema-not-found")],
                          HubErrorCode.SCHEMA_NOT_FOUND) from None
    return _models_lookup(message_specs())


def _models_lookup(specs: dict[str, MessageSpec]) -> Callable[[str], MessageSpec]:
    def lookup(root: str) -> MessageSpec:
        try:
            return specs[root]
        except KeyError:
            raise UnknownMessageType(
                f"no schema bundle installed and no model for {root!r}: install one with `bridge schemas install DIR`",
                [Issue(f"/{root}", "no schema bundle: run `bridge schemas install DIR` or pass --schemas DIR "
                       f"(without one only {', '.join(sorted(specs))} convert)", "schema-not-found")],
                HubErrorCode.SCHEMA_NOT_FOUND) from None
    return lookup


def _spec(spec_of: Callable[[str], MessageSpec], root: str) -> MessageSpec:
    try:
        return spec_of(root)
    except BridgeError:
        raise
    except KeyError:
        raise UnknownMessageType(f"unknown message type {root!r}", [Issue(f"/{root}", "unknown message type", "schema-not-found")],
                                 HubErrorCode.SCHEMA_NOT_FOUND) from None


def _schema_issues(fmt: str, document: Any, root: str, bundle: Bundle) -> list[Issue]:
    if root != ENVELOPE_ROOT and root not in bundle.types:
        return [Issue(f"/{root}", f"unknown message type {root!r}", "schema-not-found")]
    if fmt == "xml":
        return xml_message_issues(document, bundle, root)
    return json_message_issues(document, bundle, root)


def _model_issues(fmt: str, document: Any, root: str) -> list[Issue]:
    """No bundle: the models check envelope, RC-DE header and payload (modelled types only)."""
    from bridge.core import models

    try:
        if fmt == "xml":
            document = to_json(document, root, spec_lookup(None))
        if root != ENVELOPE_ROOT:
            payload = document.get(root) if isinstance(document, dict) and len(document) == 1 else document
            models.validate_payload(root, payload)
            return []
    except BridgeError as exc:
        return exc.issues or [Issue("/", exc.message, "invalid")]
    found = _model_check(lambda: models.validate_model(models.EdxlDistribution, document), "")
    content = document.get("content") if isinstance(document, dict) else None
    for position, item in enumerate(content if isinstance(content, list) else []):
        message = item
        for key in ("jsonContent", "embeddedJsonContent", "message"):
            message = message.get(key) if isinstance(message, dict) else None
        if isinstance(message, dict):
            found += _model_message_issues(message, f"/content/{position}/jsonContent/embeddedJsonContent/message")
    return list(dict.fromkeys(found))


def _model_message_issues(message: dict, base: str) -> list[Issue]:
    from bridge.core import models

    payloads = [key for key in message if key in models.PAYLOAD_MODELS]
    if len(payloads) != 1:
        return [Issue(base, f"exactly one payload of {', '.join(models.PAYLOAD_MODELS)} expected, found {payloads or 'none'}",
                      "no-schema" if not payloads else "too-many-schemas")]
    name = payloads[0]
    found = _model_check(lambda: models.validate_payload(name, message[name]), base)
    if name != "error":  # RS-ERROR travels without an RC-DE header
        header = {key: value for key, value in message.items() if key != name}
        found += _model_check(lambda: models.validate_model(models.HEADER_MODEL, header), base)
    return found


def _model_check(check: Callable[[], object], base: str) -> list[Issue]:
    try:
        check()
    except BridgeError as exc:
        return [Issue(base + issue.path, issue.message, issue.code) for issue in exc.issues] or [Issue(base or "/", exc.message)]
    return []


def _load_json(data: bytes) -> Any:
    return loads_strict(data)


def _json_root(document: Any, hint: str | None) -> str:
    if hint:
        return hint
    if is_envelope_json(document):
        return ENVELOPE_ROOT
    if isinstance(document, dict) and len(document) == 1:
        return next(iter(document))
    raise UnknownMessageType("cannot tell the message type: expected one top-level key (createCase, emsi...) "
                             "or a full EDXL-DE message", [Issue("/", "no single top-level key", "not-a-message")],
                             HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT)

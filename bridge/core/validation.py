"""Schema validation that names every field at fault, not only the first.

JSON: ``jsonschema-rs`` (compiled, Rust) answers "valid?" in a few microseconds
for the common case; only when it says no does the fastjsonschema-compiled
function (the reference verdict, as before) decide, and when that says no too
the (much slower) jsonschema ``Draft7Validator`` walks the instance to collect
*all* errors. The two fast validators read JSON Schema alike with a few
exceptions, all of which make ``jsonschema-rs`` the stricter one but one, which
a keyword of ours closes (see :class:`_IntegerNotDecimal`); a test compares
their verdicts over mutations of every official example. XML: libxml2's
XSD validator (``lxml.etree.XMLSchema``), whose error log is turned into
readable XPaths (``/createCase/location/city``) with line numbers.

Paths follow the official validator's granularity: a missing required
property or an unexpected one is reported at the property itself
(``/descriptor/language``), not at the object that lacks or holds it.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import fastjsonschema
import jsonschema_rs
from jsonschema import Draft7Validator, ValidationError
from jsonschema.validators import extend
from lxml import etree

from bridge.core.errors import Issue

if TYPE_CHECKING:  # xmlschema is slow to import: only its type here
    from xmlschema import XMLSchemaValidationError

_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
               (list, "array"), (dict, "object"), (type(None), "null"))
_ELEMENT_PREFIX = re.compile(r"^Element '[^']*'(?:, attribute '[^']*')?: ")
_CLARK_NAMESPACE = re.compile(r"\{(?:urn|https?):[^}]*\}")

#: The full (xmlschema) error pass lists at most this many errors; more are summarised in one Issue.
#: Each of its errors renders the element at fault, so its cost grows with errors x element size.
MAX_FULL_ERRORS = 100
#: The full pass runs only on documents up to this size (serialised); bigger ones get libxml2's list,
#: which is complete for everything but a parent's other children after its first content error.
MAX_FULL_ERRORS_BYTES = 64 * 1024
#: ... and with at most this many elements: xmlschema's work on one parent's unexpected children is
#: quadratic in their number and happens before the first error is yielded (12,000 empty children: 1 s).
MAX_FULL_ERRORS_ELEMENTS = 2_000


class _IntegerNotDecimal:
    """A ``jsonschema-rs`` keyword, added next to every ``"type": "integer"``: no Decimal there.

    JSON Schema calls ``1.0`` an integer and ``jsonschema-rs`` follows it; fastjsonschema and
    jsonschema, the reference verdict, take only an ``int`` (or a float without a fraction), and the
    strict reader gives ``1.0``, ``1E+2`` or ``-0.0`` as a Decimal. The keyword sees the Python
    object itself, so it refuses those Decimals where the reference does.
    """

    def __init__(self, parent_schema: dict[str, Any], value: Any, schema_path: list[str | int]) -> None:
        del parent_schema, value, schema_path

    def validate(self, instance: Any) -> None:
        if isinstance(instance, Decimal):
            raise TypeError(f"{instance} is a decimal number, not an integer")


_INTEGER_KEYWORD = "x-bridge-integer-not-decimal"


def _marked_integers(node: Any) -> Any:
    """A copy of ``node`` with :class:`_IntegerNotDecimal`'s keyword beside each ``"type": "integer"``."""
    if isinstance(node, dict):
        copy = {key: _marked_integers(value) for key, value in node.items()}
        kind = node.get("type")
        if kind == "integer" or (isinstance(kind, list) and "integer" in kind):
            copy[_INTEGER_KEYWORD] = True
        return copy
    if isinstance(node, list):
        return [_marked_integers(item) for item in node]
    return node


# A pattern Python's ``re`` reads differently from jsonschema-rs's engine on non-ASCII text: Unicode
# classes (``\d`` is every decimal digit for ``re``, 0-9 for jsonschema-rs), flags.
_UNICODE_SENSITIVE = re.compile(r"\\[dDwWsSbB]|\(\?[a-zA-Z]")
# ... or on any text: lookaround, back references, an end anchor anywhere but at the very end.
_NOT_LINEAR = re.compile(r"\(\?[=!<]|\\[1-9]|\$.")


class _LinearPattern:
    """A schema ``pattern`` matched in linear time where that gives Python ``re``'s answer.

    The official patterns include ``^([a-zA-Z0-9_-]+\\.?){4,10}$`` (``caseId``): Python's backtracking
    ``re`` needs 1 s for a 28-character near miss (``"a" * 28 + "!"``) and hours for 40, in
    fastjsonschema and in jsonschema alike, so one message could freeze the bridge. jsonschema-rs's
    engine (Rust ``regex``: automata, no backtracking) answers in microseconds for 200 kB. It reads a
    pattern as ``re`` does on ASCII text; on other text only when the pattern has no Unicode-sensitive
    class (``\\d``...), else ``re`` answers (none of the official ``\\d`` patterns backtracks).
    ``dollar_before_newline``: ``re.search``'s ``$`` also matches before a final newline (jsonschema's
    reading); fastjsonschema compiles ``$`` as ``\\Z``, the end, as jsonschema-rs reads it.
    Returns a truthy value or None, as ``Pattern.search`` does, for the code that calls it.
    """

    __slots__ = ("_dollar_before_newline", "_linear", "_python", "_unicode_sensitive")

    def __init__(self, source: str, python: re.Pattern[str], *, dollar_before_newline: bool) -> None:
        self._python = python
        self._dollar_before_newline = dollar_before_newline
        self._unicode_sensitive = bool(_UNICODE_SENSITIVE.search(source))
        self._linear: Any = None
        if not _NOT_LINEAR.search(source):
            try:
                self._linear = jsonschema_rs.validator_for({"type": "string", "pattern": source}, offline=True)
            except (ValueError, TypeError):  # a pattern its engine does not take: ``re`` answers
                self._linear = None

    def _linear_match(self, text: str) -> bool | None:
        try:
            return bool(self._linear.is_valid(text))
        except (ValueError, TypeError):  # a lone surrogate: ``re`` answers
            return None

    def search(self, text: str) -> bool | None:
        if self._linear is None or (self._unicode_sensitive and not text.isascii()):
            return self._python.search(text) is not None or None
        found = self._linear_match(text)
        if found is None:
            return self._python.search(text) is not None or None
        if not found and self._dollar_before_newline and text.endswith("\n"):
            found = bool(self._linear_match(text[:-1]))
        return found or None


def _linear_patterns(fast: Callable[..., Any]) -> None:
    """Swap the schema patterns fastjsonschema compiled (``$`` as ``\\Z``) for :class:`_LinearPattern` ones."""
    patterns = getattr(fast, "__globals__", {}).get("REGEX_PATTERNS")
    if not isinstance(patterns, dict):
        return
    for source, compiled in list(patterns.items()):
        if isinstance(compiled, re.Pattern) and not source.endswith("_re_pattern"):  # its formats' own regexes stay
            patterns[source] = _LinearPattern(source, compiled, dollar_before_newline=False)


@functools.cache
def _draft7_pattern(source: str) -> _LinearPattern:
    return _LinearPattern(source, re.compile(source), dollar_before_newline=True)


def _pattern_keyword(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """jsonschema's ``pattern`` keyword (``re.search``), matched by :class:`_LinearPattern`."""
    del schema
    if validator.is_type(instance, "string") and not _draft7_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_FullValidator = extend(Draft7Validator, {"pattern": _pattern_keyword})  # type: ignore[no-untyped-call]


_XSD_END = "(?!\\n\\Z)"  # xmlschema's translation ends a pattern with ``$(?!\n\Z)``: the very end, no final newline


class _LinearXsdPattern:
    """An XSD ``pattern`` facet xmlschema compiled, matched by :class:`_LinearPattern` where that gives ``re``'s
    answer: the full error pass (``xmlschema``) on an invalid XML message ran Python's backtracking ``re`` on
    a near miss of the ``caseId`` pattern (0.2-0.5 s at 24-25 characters, on the reactor; libxml2 gives up
    from 26). ``match`` answers like ``Pattern.match`` for xmlschema's ``is None`` test; anything else is
    the compiled pattern's."""

    __slots__ = ("_linear", "_python")

    def __init__(self, python: re.Pattern[str]) -> None:
        self._python = python
        source = python.pattern
        linear = source[: -len(_XSD_END)] if source.endswith(_XSD_END) else None
        self._linear = _LinearPattern(linear, python, dollar_before_newline=False) if linear else None

    def match(self, text: str) -> Any:
        if self._linear is None or not isinstance(text, str):
            return self._python.match(text)
        return self._linear.search(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._python, name)


def linear_xsd_patterns(schema: Any) -> int:
    """Swap the pattern facets of an ``xmlschema.XMLSchema`` (and the schemas it imports) for
    :class:`_LinearXsdPattern` ones; returns how many patterns were swapped."""
    from xmlschema.validators.facets import XsdPatternFacets  # xmlschema is slow to import: only with a schema

    swapped = 0
    for component in schema.maps.iter_components():
        if isinstance(component, XsdPatternFacets):
            patterns: list[Any] = component.patterns  # re.Pattern items, swapped in place
            for index, pattern in enumerate(patterns):
                if isinstance(pattern, re.Pattern):
                    patterns[index] = _LinearXsdPattern(pattern)
                    swapped += 1
    return swapped


class JsonValidator:
    """One JSON Schema, compiled three times: a fast yes, the reference yes/no, then full error collection.

    ``jsonschema-rs`` answers first (3-4 us for a 4 kB RC-EDA where fastjsonschema takes 55 us); its
    yes is final, its no (or an instance it cannot take: a lone surrogate, nesting beyond its limit)
    goes to fastjsonschema, whose verdict is the one this class always gave.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        # The official "$id" (classpath:/...) is not resolvable; refs are local anyway.
        schema = {key: value for key, value in schema.items() if key != "$id"}
        self._fast = fastjsonschema.compile(schema, use_default=False)
        _linear_patterns(self._fast)
        self._full = _FullValidator(schema)
        # offline: the refs are local, nothing is fetched; formats checked (date-time) as fastjsonschema does
        self._quick = jsonschema_rs.validator_for(_marked_integers(schema), validate_formats=True, offline=True,
                                                  keywords={_INTEGER_KEYWORD: _IntegerNotDecimal})

    def _quick_yes(self, instance: Any) -> bool:
        try:
            return bool(self._quick.is_valid(instance))
        except (ValueError, TypeError, OverflowError):  # not an instance it can take: the reference decides
            return False

    def is_valid(self, instance: Any) -> bool:
        """Fast path only."""
        if self._quick_yes(instance):
            return True
        try:
            self._fast(instance)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    def issues(self, instance: Any, base: str = "") -> list[Issue]:
        """Every error, each with a JSON pointer starting at ``base``; empty when valid."""
        if self._quick_yes(instance):
            return []
        try:
            self._fast(instance)
            return []
        except fastjsonschema.JsonSchemaException as exc:
            fast_message = str(exc)
        found: dict[Issue, None] = {}  # ordered set: combinators report one error once per branch
        for error in sorted(self._full.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
            found.update(dict.fromkeys(_json_issues(error, base)))
        return list(found) or [Issue(base or "/", fast_message, "schema")]


class XmlValidator:
    """A compiled XSD (libxml2, fast); on failure an optional full validator lists every error.

    libxml2 stops checking a parent's other children after its first
    content-model error, so when a message is invalid and ``full_errors`` (built
    lazily: ``xmlschema`` is slow to load) is given, its errors supply the complete list instead. ``full_errors``
    maps an element to ``xmlschema`` validation errors.
    """

    def __init__(self, schema: etree.XMLSchema, full_errors: Callable[[etree._Element], Any] | None = None) -> None:
        self._schema = schema
        self._full_errors = full_errors

    def _verdict(self, element: etree._Element) -> bool | None:
        """libxml2's verdict, or None when it gives up: its pattern engine stops at an internal limit on a
        long near miss of a backtracking pattern (``"a" * 26 + "!"`` as a ``caseId``) and lxml raises."""
        try:
            return bool(self._schema.validate(element))
        except etree.XMLSchemaValidateError:
            return None

    def is_valid(self, element: etree._Element) -> bool:
        """Fast path only."""
        return self._verdict(element) is True

    def issues(self, element: etree._Element) -> list[Issue]:
        """Every error of the document; empty when valid."""
        verdict = self._verdict(element)
        if verdict:
            return []
        if verdict is None:  # no full pass: xmlschema's Python re would backtrack on the same value for hours
            return [Issue("/", "the XSD validator gave up on this document (libxml2: internal error in XML Schema "
                          "validation, e.g. a value a pattern cannot be matched against within its limits)",
                          "schema")]
        tree = element.getroottree()
        quick = _capped([_xml_issue(tree, entry) for entry in itertools.islice(self._schema.error_log,
                                                                                MAX_FULL_ERRORS + 1)])
        if (self._full_errors is None or int(element.xpath("count(descendant-or-self::*)")) > MAX_FULL_ERRORS_ELEMENTS
                or len(etree.tostring(element)) > MAX_FULL_ERRORS_BYTES):
            return quick
        errors = itertools.islice(self._full_errors(element), MAX_FULL_ERRORS + 1)
        full = _capped(list(dict.fromkeys(_full_xml_issue(error) for error in errors)))
        return full or quick


def _capped(issues: list[Issue]) -> list[Issue]:
    """At most MAX_FULL_ERRORS issues; one more says the list was cut (fix these, then validate again)."""
    if len(issues) <= MAX_FULL_ERRORS:
        return issues
    return [*issues[:MAX_FULL_ERRORS],
            Issue("/", f"more than {MAX_FULL_ERRORS} schema errors: the rest are not listed", "too-many-errors")]


def pointer(base: str, *parts: object) -> str:
    """JSON pointer ``base/part/...`` with ``~`` and ``/`` escaped."""
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in parts)
    return "/".join([base.rstrip("/"), *escaped]) if parts else (base or "/")


def readable_path(element: etree._Element) -> str:
    """``/createCase/location/city`` with ``[n]`` (1-based) only where a name repeats."""
    steps = []
    current: etree._Element | None = element
    while current is not None:
        name = etree.QName(current).localname
        parent = current.getparent()
        if parent is not None:
            same = [sibling for sibling in parent if sibling.tag == current.tag]
            if len(same) > 1:
                name += f"[{same.index(current) + 1}]"
        steps.append(name)
        current = parent
    return "/" + "/".join(reversed(steps))


def json_type_name(value: Any) -> str:
    """``string``, ``object``... as the JSON Schema vocabulary names them."""
    for python_type, name in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return "number"  # Decimal


def _json_issues(error: Any, base: str) -> list[Issue]:  # jsonschema ValidationError: its fields are `| Unset`
    at = pointer(base, *error.absolute_path)
    keyword = error.validator
    if keyword == "required":
        return [
            Issue(pointer(at, name), "is missing but it is required", "required")
            for name in error.validator_value
            if isinstance(error.instance, dict) and name not in error.instance
        ]
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        extras = [k for k in error.instance if k not in known and not any(p.search(k) for p in patterns)]
        message = "is not defined in the schema and the schema does not allow additional properties"
        return [Issue(pointer(at, name), message, "additional-property") for name in extras]
    return [Issue(at, _json_message(error), keyword)]


def _json_message(error: Any) -> str:
    keyword, expected = error.validator, error.validator_value
    if keyword == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{json_type_name(error.instance)} found, {wanted} expected"
    if keyword == "enum":
        return f"does not have a value in the enumeration [{', '.join(map(str, expected))}]"
    if keyword == "pattern":
        return f"does not match the regex pattern {expected}"
    if keyword == "maxItems":
        return f"there must be a maximum of {expected} items in the array"
    if keyword == "minItems":
        return f"there must be a minimum of {expected} items in the array"
    return str(error.message)


_PYTHON_NOISE = (
    (re.compile(r"invalid literal for int\(\) with base 10: ('[^']*')"), r"\1 is not a valid integer"),
    (re.compile(r" for <class '[^']*'>"), ""),
)
_UNEXPECTED_CHILD = re.compile(r"^Unexpected child with tag '(?:\{[^}]*\})?([^']+)'")


def _full_xml_issue(error: XMLSchemaValidationError) -> Issue:
    path = re.sub(r"\{[^}]*\}", "", error.path or "/")  # Clark names -> local names
    reason = error.reason or error.message
    child = _UNEXPECTED_CHILD.match(reason)
    if child:
        path = f"{path.rstrip('/')}/{child.group(1)}"
    line = getattr(error, "sourceline", None)
    for pattern, replacement in _PYTHON_NOISE:
        reason = pattern.sub(replacement, reason)
    message = _CLARK_NAMESPACE.sub("", reason) + (f" (line {line})" if line else "")
    return Issue(path, message, "schema")


def _xml_issue(tree: etree._ElementTree, entry: etree._LogEntry) -> Issue:
    path = f"line {entry.line}"
    if entry.path:
        try:
            found = tree.xpath(entry.path)
        except etree.XPathError:
            found = []
        if found and isinstance(found[0], etree._Element):
            path = readable_path(found[0])
    message = _CLARK_NAMESPACE.sub("", _ELEMENT_PREFIX.sub("", entry.message))
    return Issue(path, f"{message} (line {entry.line})", "schema")


# --- whole messages: envelope, RC-DE header and content reported separately ---

ENVELOPE_ROOT = "edxlDistribution"
NO_HEADER_ENVELOPE = "edxlDistribution/no-header"
HEADER_ROOT = "distributionElement"
NO_HEADER_ROOTS = frozenset({"error", "technicalNoreq", "customContent", "distributionElement"})
_EMBEDDED = "jsonContent/embeddedJsonContent"


class ValidatorSource(Protocol):
    """What a loaded schema bundle offers (see ``bridge.refdata.bundle.Bundle``)."""

    def payload_roots(self) -> list[str]: ...
    def json_validator(self, root: str) -> JsonValidator: ...
    def xml_validator(self, root: str) -> XmlValidator: ...


def json_message_issues(document: Any, source: ValidatorSource, root: str) -> list[Issue]:
    """Issues of a parsed JSON message: a full EDXL-DE message, ``{root: payload}``, or a bare payload of ``root``."""
    if root == ENVELOPE_ROOT:
        return envelope_json_issues(document, source)
    if isinstance(document, dict) and root in document and len(document) == 1:
        return source.json_validator(root).issues(document[root], f"/{root}")
    return source.json_validator(root).issues(document, "")


def envelope_json_issues(document: Any, source: ValidatorSource) -> list[Issue]:
    """Envelope (EDXL-DE), then per content object the RC-DE header and the payload."""
    found = list(source.json_validator(ENVELOPE_ROOT).issues(document, ""))
    content = document.get("content") if isinstance(document, dict) else None
    for position, item in enumerate(content if isinstance(content, list) else []):
        embedded = _dig(item, ("jsonContent", "embeddedJsonContent"))
        if isinstance(embedded, dict) and isinstance(embedded.get("message"), dict):
            base = f"/content/{position}/{_EMBEDDED}"
            found.extend(_message_issues(embedded["message"], source, base))
    return found


def _message_issues(message: dict[str, Any], source: ValidatorSource, embedded_path: str) -> list[Issue]:
    base = f"{embedded_path}/message"
    roots = set(source.payload_roots())
    payloads = [key for key in message if key in roots]
    header_issues: list[Issue] = []
    if not payloads or any(name not in NO_HEADER_ROOTS for name in payloads):
        header = {key: value for key, value in message.items() if key not in payloads}
        header_issues = source.json_validator(HEADER_ROOT).issues(header, base)
    content_issues = [issue for name in payloads for issue in source.json_validator(name).issues(message[name], f"{base}/{name}")]
    found = header_issues + content_issues
    if not payloads:
        known = ", ".join(sorted(roots - NO_HEADER_ROOTS))
        found.append(Issue(base, f"could not detect any message type: one of {known} is required", "no-schema"))
    elif header_issues and not content_issues:
        found.append(Issue(base, f"could not confirm the message type {payloads[0]}: its RC-DE header is invalid", "no-schema"))
    if len(payloads) > 1:
        found.append(Issue(embedded_path, f"exactly one message type expected, found {len(payloads)}: {', '.join(payloads)}",
                           "too-many-schemas"))
    return found


def xml_message_issues(element: etree._Element, source: ValidatorSource, root: str) -> list[Issue]:
    """Issues of a parsed XML message: a full EDXL-DE message or a payload of type ``root``."""
    if root != ENVELOPE_ROOT:
        return source.xml_validator(root).issues(element)
    payload_names = {etree.QName(el).localname for el in element.iterfind(".//{*}embeddedXMLContent/{*}message/*")}
    headerless = bool(payload_names) and payload_names <= NO_HEADER_ROOTS  # any header element breaks the subset
    return source.xml_validator(NO_HEADER_ENVELOPE if headerless else ENVELOPE_ROOT).issues(element)


def _dig(item: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        if not isinstance(item, dict):
            return None
        item = item.get(name)
    return item

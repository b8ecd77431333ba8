"""Schema validation that names every field at fault, not only the first.

JSON: a fastjsonschema-compiled function answers "valid?" quickly for the
common case; only when it says no does the (much slower) jsonschema
``Draft7Validator`` walk the instance to collect *all* errors. XML: libxml2's
XSD validator (``lxml.etree.XMLSchema``), whose error log is turned into
readable XPaths (``/createCase/location/city``) with line numbers.

Paths follow the official validator's granularity: a missing required
property or an unexpected one is reported at the property itself
(``/descriptor/language``), not at the object that lacks or holds it.
"""

from __future__ import annotations

import re
from typing import Any

import fastjsonschema
from jsonschema import Draft7Validator
from lxml import etree

from bridge.core.errors import Issue

_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
               (list, "array"), (dict, "object"), (type(None), "null"))
_ELEMENT_PREFIX = re.compile(r"^Element '[^']*'(?:, attribute '[^']*')?: ")
_CLARK_NAMESPACE = re.compile(r"\{[^}]*\}")


class JsonValidator:
    """One JSON Schema, compiled twice: fast yes/no, then full error collection."""

    def __init__(self, schema: dict) -> None:
        # The official "$id" (classpath:/...) is not resolvable; refs are local anyway.
        schema = {key: value for key, value in schema.items() if key != "$id"}
        self._fast = fastjsonschema.compile(schema, use_default=False)
        self._full = Draft7Validator(schema)

    def is_valid(self, instance: Any) -> bool:
        """Fast path only."""
        try:
            self._fast(instance)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    def issues(self, instance: Any, base: str = "") -> list[Issue]:
        """Every error, each with a JSON pointer starting at ``base``; empty when valid."""
        try:
            self._fast(instance)
            return []
        except fastjsonschema.JsonSchemaException as exc:
            fast_message = exc.message
        found: list[Issue] = []
        for error in sorted(self._full.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
            found.extend(_json_issues(error, base))
        return found or [Issue(base or "/", fast_message, "schema")]


class XmlValidator:
    """A compiled XSD; turns libxml2's error log into readable-path issues."""

    def __init__(self, schema: etree.XMLSchema) -> None:
        self._schema = schema

    def is_valid(self, element: etree._Element) -> bool:
        """Fast path only."""
        return self._schema.validate(element)

    def issues(self, element: etree._Element) -> list[Issue]:
        """Every error libxml2 reports (it stops inside one parent after a content-model error)."""
        if self._schema.validate(element):
            return []
        tree = element.getroottree()
        return [_xml_issue(tree, entry) for entry in self._schema.error_log]


def pointer(base: str, *parts: object) -> str:
    """JSON pointer ``base/part/...`` with ``~`` and ``/`` escaped."""
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in parts)
    return "/".join([base, *escaped]) if parts else (base or "/")


def readable_path(element: etree._Element) -> str:
    """``/createCase/location/city`` with ``[n]`` (1-based) only where a name repeats."""
    steps = []
    while element is not None:
        name = etree.QName(element).localname
        parent = element.getparent()
        if parent is not None:
            same = [sibling for sibling in parent if sibling.tag == element.tag]
            if len(same) > 1:
                name += f"[{same.index(element) + 1}]"
        steps.append(name)
        element = parent
    return "/" + "/".join(reversed(steps))


def json_type_name(value: Any) -> str:
    """``string``, ``object``... as the JSON Schema vocabulary names them."""
    for python_type, name in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return "number"  # Decimal


def _json_issues(error, base: str) -> list[Issue]:
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


def _json_message(error) -> str:
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
    return error.message


def _xml_issue(tree: etree._ElementTree, entry) -> Issue:
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

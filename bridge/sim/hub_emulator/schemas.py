"""Schema validation for the emulator's dispatcher (the 300 INVALID_MESSAGE check).

The project validator is ``bridge.validate`` (codec engineer). Until it is
importable, or when the emulator is pointed at a schema folder directly, this
module validates JSON with the official EDXL-DE-full JSON Schema (jsonschema +
referencing) and XML with the official EDXL-DE-full XSD (lxml).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bridge.core.errors import BridgeError, Issue

Validator = Callable[[bytes], list[Issue]]
BASE = "https://schemas.hub-bridge.invalid/json-schema/"  # urljoin ignores the official classpath: scheme


def json_schema_validator(reference_dir: Path) -> Validator:
    """Validate a JSON EDXL-DE message (envelope, RC-DE header and payload)."""
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    resources = []
    for path in sorted((Path(reference_dir) / "json-schema").glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        contents["$id"] = BASE + path.name  # every official file claims the same $id; the file name is the real one
        resources.append((BASE + path.name, Resource.from_contents(contents, default_specification=DRAFT7)))
    validator = Draft7Validator({"$ref": BASE + "EDXL-DE-full.schema.json"}, registry=Registry().with_resources(resources))

    def validate(body: bytes) -> list[Issue]:
        try:
            document = json.loads(body)
        except ValueError as exc:
            return [Issue("", f"invalid JSON: {exc}", "json-syntax")]
        return [Issue("/" + "/".join(str(p) for p in error.absolute_path), error.message, "schema")
                for error in validator.iter_errors(document)]

    return validate


def xsd_validator(reference_dir: Path) -> Validator:
    """Validate an XML EDXL-DE message with the official XSD (hardened parse first)."""
    from lxml import etree

    from bridge.core.xmlsafe import parse_xml

    schema = etree.XMLSchema(etree.parse(str(Path(reference_dir) / "xsd" / "EDXL-DE-full.xsd")))

    def validate(body: bytes) -> list[Issue]:
        try:
            document = parse_xml(body)
        except BridgeError as exc:
            return [Issue("", str(exc), "xml-syntax")]
        if schema.validate(document):
            return []
        return [Issue(f"line {e.line}", e.message, "schema") for e in schema.error_log]

    return validate


def reference_validator(reference_dir: Path) -> Validator:
    """Validate against the official schemas in ``reference_dir``, JSON or XML.

    Uses the project's validator (``bridge.validate(data, schemas=...)``: compiled
    JSON Schema and libxml2, pointed errors) when the codec is installed, else
    the slower jsonschema/lxml pair above.
    """
    try:
        from bridge.refdata.hub_codec import validate as project_validate
    except ImportError:
        project_validate = None
    if project_validate is not None:
        # the Hub checks the schema of the syntax it received, not whether the other syntax could carry it
        return lambda body: list(project_validate(body, schemas=reference_dir, convertible=False))
    for_json, for_xml = json_schema_validator(reference_dir), xsd_validator(reference_dir)

    def validate(body: bytes) -> list[Issue]:
        return for_xml(body) if body.lstrip()[:1] == b"<" else for_json(body)

    return validate


def default_validator(reference_dir: Path | None = None) -> Validator:
    """``bridge.validate`` when the codec provides it, else the official schemas in ``reference_dir``."""
    try:
        from bridge.refdata.hub_codec import validate as project_validate
    except ImportError:
        project_validate = None
    if project_validate is not None and reference_dir is None:
        return lambda body: list(project_validate(body, convertible=False))
    if reference_dir is None:
        raise BridgeError("no schema validator: bridge.validate is missing and no schema folder was given")
    from bridge.refdata.bundle import check_bundle

    problems = check_bundle(Path(reference_dir))
    if problems:  # an empty or partial folder would validate nothing (or fail on the first message): refuse now
        raise BridgeError(f"{reference_dir} is not a complete schema bundle (json-schema/ and xsd/ with the "
                          "official schemas)", problems)
    return reference_validator(reference_dir)

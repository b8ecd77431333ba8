"""Generate the pydantic models of Hub payloads from an official schema bundle.

Usage: ``python tools/gen_models.py BUNDLE_DIR [OUT_DIR]`` where ``BUNDLE_DIR``
holds ``json-schema/`` and ``xsd/`` (the official corpus layout); ``OUT_DIR``
defaults to ``bridge/core/models``.

The JSON Schema gives types, required keys, patterns, enums and array bounds;
the XSD gives the field order (its ``sequence``), which is also the order the
codec writes XML elements in. Only names, types and constraints are carried
over: no title or description text of the upstream schemas is copied.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xmlschema
from pydantic import BaseModel

# (module suffix, schema file stem, root element / payload key)
TARGETS: tuple[tuple[str, str, str], ...] = (
    ("rc_eda", "RC-EDA", "createCase"),
    ("emsi", "EMSI", "emsi"),
    ("rc_de", "RC-DE", "distributionElement"),
    ("rc_ref", "RC-REF", "reference"),
    ("rs_error", "RS-ERROR", "error"),
    ("rc_ri", "RC-RI", "resourcesInfoCisu"),
)

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "bridge" / "core" / "models"
_RESERVED = set(keyword.kwlist) | {name for name in dir(BaseModel) if not name.startswith("_")}
# Names the generated module imports or defines: a schema type must not shadow them.
_TAKEN_CLASS_NAMES = {"Annotated", "Any", "Field", "HubDateTime", "HubDecimal", "HubInt", "HubModel", "Literal",
                      "StrictBool", "StrictStr", "StringConstraints"}


class GenerationError(Exception):
    """The bundle's JSON Schema and XSD disagree in a way the generator cannot settle."""


@dataclass
class _Class:
    name: str
    fields: list[str] = field(default_factory=list)


@dataclass
class _Generator:
    """Walks one JSON Schema and its XSD side by side and collects class sources in dependency order."""

    schema: dict[str, Any]
    classes: list[_Class] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    done: dict[str, str] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)

    def resolve(self, node: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        ref = node.get("$ref")
        if ref is None:
            return node, None
        if not ref.startswith("#/definitions/"):
            raise GenerationError(f"unsupported $ref {ref!r}")
        name = ref.removeprefix("#/definitions/")
        return self.schema["definitions"][name], name

    def object_class(self, node: dict[str, Any], def_name: str, element: Any, path: str) -> str:
        if def_name in self.done:
            return self.done[def_name]
        class_name = _pascal(def_name)
        while class_name in _TAKEN_CLASS_NAMES or class_name in self.done.values():
            class_name += "Type"
        self.done[def_name] = class_name
        properties: dict[str, Any] = node.get("properties", {})
        required = set(node.get("required", []))
        order = _xsd_children(element)
        names_in_xsd = [name for name in order if name in properties]
        if set(properties) != set(order):
            raise GenerationError(f"{path or '/'}: JSON keys without XSD element {sorted(set(properties) - set(order))}, "
                                  f"XSD elements without JSON key {sorted(set(order) - set(properties))}")
        cls = _Class(class_name)
        used: set[str] = set()
        for key in names_in_xsd:
            child_path = f"{path}/{key}"
            annotation = self.annotation(properties[key], order[key], child_path, f"{class_name}{_pascal(key)}")
            cls.fields.append(_field_line(key, annotation, key in required, properties[key], used))
        self.classes.append(cls)
        return class_name

    def annotation(self, node: dict[str, Any], element: Any, path: str, inline_name: str) -> str:
        node, def_name = self.resolve(node)
        kind = node.get("type")
        if kind == "array":
            item = self.annotation(node["items"], element, path + "/*", inline_name)
            return f"list[{item}]"
        if kind == "object":
            if not node.get("properties") and node.get("additionalProperties", True) is not False:
                self.imports.add("Any")
                return "dict[str, Any]"
            return self.object_class(node, def_name or inline_name, element, path)
        if kind == "string":
            return self.string_annotation(node, inline_name)
        if kind == "number":
            return "HubDecimal"
        if kind == "integer":
            return "HubInt"
        if kind == "boolean":
            return "StrictBool"
        raise GenerationError(f"{path}: unsupported JSON Schema type {kind!r}")

    def enum_alias(self, name: str, values: list[str]) -> str:
        """Long enumerations become a named, wrapped ``Literal`` alias so field lines stay readable."""
        rows = [", ".join(values[i:i + 10]) for i in range(0, len(values), 10)]
        self.aliases.append(f"{name} = Literal[\n" + "".join(f"    {row},\n" for row in rows) + "]")
        return name

    def string_annotation(self, node: dict[str, Any], inline_name: str) -> str:
        if node.get("format") == "date-time":
            return "HubDateTime"
        if "enum" in node:
            self.imports.add("Literal")
            values = [repr(value) for value in node["enum"]]
            literal = "Literal[" + ", ".join(values) + "]"
            return self.enum_alias(inline_name + "Value", values) if len(literal) > 80 else literal
        if "pattern" in node:
            self.imports.add("Annotated")
            return f"Annotated[str, StringConstraints(strict=True, pattern={ascii_digits(node['pattern'])!r})]"
        return "StrictStr"


def generate(bundle: Path, stem: str, root: str) -> str:
    """Source text of the model module for one message type of the bundle."""
    schema = json.loads((bundle / "json-schema" / f"{stem}.schema.json").read_text(encoding="utf-8"))
    xsd = xmlschema.XMLSchema(str(bundle / "xsd" / f"{stem}.xsd"))
    element = next((el for el in xsd.elements.values() if el.local_name == root), None)
    if element is None:
        raise GenerationError(f"{stem}.xsd declares no element {root!r}")
    gen = _Generator(schema)
    root_def = root if root not in schema.get("definitions", {}) else root + "Root"
    gen.object_class(schema, root_def, element, "")
    return _render(gen, stem, root, schema.get("version", "unknown"))


def write_all(bundle: Path, out_dir: Path) -> list[Path]:
    """Write every ``_gen_<type>.py`` module into ``out_dir``; returns the paths written.

    All modules are generated before any is written, so a bundle the generator
    refuses leaves the committed models untouched.
    """
    sources = {out_dir / f"_gen_{suffix}.py": generate(bundle, stem, root) for suffix, stem, root in TARGETS}
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, text in sources.items():
        path.write_text(text, encoding="utf-8")
    return list(sources)


def _render(gen: _Generator, stem: str, root: str, version: str) -> str:
    typing_names = sorted(gen.imports)
    lines = [
        f"# Generated by tools/gen_models.py from {stem} bundle version {version}. Do not edit:",
        "# regenerate with `python tools/gen_models.py <bundle-dir>` (see docs/models.md).",
        f'"""Pydantic models of the ``{root}`` message ({stem}), fields in XSD sequence order."""',
        "",
        "from __future__ import annotations",
        "",
    ]
    if typing_names:
        lines.append(f"from typing import {', '.join(typing_names)}")
        lines.append("")
    lines += [
        "from pydantic import Field, StrictBool, StrictStr, StringConstraints  # noqa: F401",
        "",
        "from bridge.core.models.base import HubModel",
        "from bridge.core.models.types import HubDateTime, HubDecimal, HubInt  # noqa: F401",
        "",
        f"SCHEMA_VERSION = {version!r}",
        f"ROOT_NAME = {root!r}",
    ]
    for alias in gen.aliases:
        lines += ["", alias]
    for cls in gen.classes:
        lines += ["", "", f"class {cls.name}(HubModel):"]
        lines += [f"    {line}" for line in cls.fields] or ["    pass"]
    root_class = gen.classes[-1].name
    lines += ["", "", f"ROOT_MODEL = {root_class}", ""]
    return "\n".join(lines)


def _field_line(key: str, annotation: str, required: bool, node: dict[str, Any], used: set[str]) -> str:
    name = _snake(key)
    if name in _RESERVED:
        name += "_"
    while name in used:
        name += "_"
    used.add(name)
    args = [f"alias={key!r}"] if name != key else []
    if node.get("type") == "array":
        if "minItems" in node:
            args.append(f"min_length={node['minItems']}")
        if "maxItems" in node:
            args.append(f"max_length={node['maxItems']}")
    if not required:
        annotation += " | None"
        args.insert(0, "None")
    if args == ["None"]:
        return f"{name}: {annotation} = None"
    return f"{name}: {annotation}" + (f" = Field({', '.join(args)})" if args else "")


def ascii_digits(pattern: str) -> str:
    """``pattern`` with ``\\d`` spelled ``0-9``: JSON Schema (ECMA-262) digits are ASCII, pydantic's are Unicode."""
    out, in_class, index = [], False, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            escape = pattern[index:index + 2]
            out.append(("0-9" if in_class else "[0-9]") if escape == "\\d" else escape)
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        index += 1
    return "".join(out)


def _xsd_children(element: Any) -> dict[str, Any]:
    """Child elements of an XSD element, by local name, in sequence order."""
    xsd_type = element.type
    if xsd_type.is_simple() or xsd_type.has_simple_content():
        return {}
    ordered: dict[str, Any] = {}
    _collect(xsd_type.content, ordered)
    return ordered


def _collect(group: Any, ordered: dict[str, Any]) -> None:
    for item in group:
        kind = type(item).__name__
        if kind == "XsdGroup":
            _collect(item, ordered)
        elif kind != "XsdAnyElement":
            ordered.setdefault(item.local_name, item)


def _pascal(name: str) -> str:
    parts = re.split(r"[_\W]+", name)
    return "".join((part.capitalize() if part.isupper() else part[:1].upper() + part[1:]) for part in parts if part)


def _snake(name: str) -> str:
    if name.isupper() or "_" in name:
        return name.lower()
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return text.lower()


def main(argv: list[str]) -> int:
    """Command-line entry: ``gen_models.py BUNDLE_DIR [OUT_DIR]``."""
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    bundle = Path(argv[0])
    out_dir = Path(argv[1]) if len(argv) == 2 else DEFAULT_OUT
    try:
        written = write_all(bundle, out_dir)
    except (GenerationError, OSError) as exc:
        print(f"gen_models: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

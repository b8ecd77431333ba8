"""Convert a Hub payload between two model versions, schema-driven, every loss declared.

The official bundles of two versions describe the same message types with small differences:
a field added or removed (RS-EDA ``patient.healthMotive`` exists in the 2.0 line only), an enum
or pattern tightened or widened. :func:`convert` keeps every leaf of the message whose field
exists in the target version's JSON Schema and reports every other one as a declared drop; the
caller then validates against the target schema and :func:`drop_invalid_leaves` removes leaves
whose *value* the target refuses (an enum member it lacks), again as declared drops. A required
field that cannot be kept makes the conversion fail (the caller raises), never a silent default.

Pure functions on plain dicts (the JSON shape, ``Decimal`` numbers); the schemas are given.
"""

from __future__ import annotations

import copy
from typing import Any

from bridge.core.errors import Issue

MAX_DEPTH = 40


def field_paths(schema: dict[str, Any]) -> frozenset[str]:
    """Every field path of a JSON Schema (``/patient/identity/strictFeatures/sex``), arrays transparent.

    An object with ``additionalProperties`` left open, or a leaf of any type, ends a path; the
    set also holds every intermediate object path.
    """
    definitions = schema.get("definitions", {})
    found: set[str] = set()

    def walk(node: dict[str, Any], path: str, depth: int, seen: tuple[str, ...]) -> None:
        if depth > MAX_DEPTH:
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            name = ref.rsplit("/", 1)[-1]
            if name in seen:  # recursive type: the path is known, stop here
                found.add(path)
                return
            node, seen = definitions.get(name, {}), (*seen, name)
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            walk(node["items"], path, depth + 1, seen)
            return
        found.add(path)
        for key, child in (node.get("properties") or {}).items():
            if isinstance(child, dict):
                walk(child, f"{path}/{key}", depth + 1, seen)

    walk(schema, "", 0, ())
    return frozenset(found)


def convert(payload: dict[str, Any], source_paths: frozenset[str], target_paths: frozenset[str],
            target_label: str, base: str = "") -> tuple[dict[str, Any], list[Issue]]:
    """``payload`` with every field the target version lacks removed, and one declared drop per removal."""
    drops: list[Issue] = []

    def keep(node: Any, schema_path: str, pointer: str) -> Any:
        if isinstance(node, dict):
            kept = {}
            for key, value in node.items():
                child_schema, child_pointer = f"{schema_path}/{key}", f"{pointer}/{key}"
                if child_schema not in target_paths:
                    drops.append(Issue(child_pointer, f"field does not exist in version {target_label}", "dropped"))
                    continue
                kept[key] = keep(value, child_schema, child_pointer)
            return kept
        if isinstance(node, list):
            return [keep(item, schema_path, f"{pointer}/{index}") for index, item in enumerate(node)]
        return node

    return keep(payload, "", base), drops


def drop_invalid_leaves(payload: dict[str, Any], issues: list[Issue], target_label: str,
                        base: str = "") -> tuple[dict[str, Any], list[Issue], list[Issue]]:
    """Remove the leaves the target schema refuses by value; ``(payload, drops, issues that remain)``.

    A scalar leaf named by an issue (enum, pattern, type) is removed. A required field missing
    (often because its refused value was just removed) removes the object that lacks it, when that
    object is not the payload itself; the next validation round says whether *that* object was
    required in turn. Anything else is returned as remaining (the caller fails).
    """
    result = copy.deepcopy(payload)
    drops: list[Issue] = []
    remaining: list[Issue] = []
    for issue in issues:
        parts = issue.path[len(base):].strip("/").split("/") if issue.path.startswith(base) else []
        parent: Any = result
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) and part.isdigit() else (
                parent.get(part) if isinstance(parent, dict) else None)
        last = parts[-1] if parts else ""
        if isinstance(parent, dict) and last in parent and not isinstance(parent[last], (dict, list)):
            value = parent.pop(last)
            drops.append(Issue(issue.path, f"value {value!r} is not allowed in version {target_label}: "
                                           f"{issue.message}", "dropped"))
        elif issue.code == "required" and isinstance(parent, dict) and last not in parent and len(parts) >= 2:
            owner_path = issue.path.rsplit("/", 1)[0]
            if _remove(result, parts[:-1]):
                drops.append(Issue(owner_path, f"dropped whole: its required {last!r} cannot be expressed in "
                                               f"version {target_label}", "dropped"))
            else:
                remaining.append(issue)
        else:
            remaining.append(issue)
    return result, drops, remaining


def _remove(document: Any, parts: list[str]) -> bool:
    """Remove the node at ``parts`` (object key or list index) from ``document``; False when absent."""
    parent: Any = document
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) and part.isdigit() and int(part) < len(parent) else (
            parent.get(part) if isinstance(parent, dict) else None)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
        return True
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]
        return True
    return False


__all__ = ["convert", "drop_invalid_leaves", "field_paths"]

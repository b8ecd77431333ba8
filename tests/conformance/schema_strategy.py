"""A small Hypothesis strategy for the official JSON Schemas (draft-07 subset they use).

``hypothesis-jsonschema`` does not work with the Hypothesis release we pin, and
the Hub schemas only use ``type``, ``properties``, ``required``, ``items``,
``enum``, ``pattern``, ``format``, ``minItems``/``maxItems`` and local ``$ref``,
so this covers them. Strings avoid characters XML 1.0 cannot carry (the codec
refuses those with a clear error, tested separately).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

XML_TEXT = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff",
                         whitelist_characters="\t\n")  # U+FFFE/FFFF: outside XML 1.0 Char too
DATE_TIME = st.from_regex(r"\A20[0-9]{2}-0[1-9]-[0-2][0-9]T[01][0-9]:[0-5][0-9]:[0-5][0-9][+-]0[0-2]:00\Z")
MAX_DEPTH = 6


def from_schema(schema: dict) -> st.SearchStrategy:
    """Values valid (structurally) against ``schema``, refs resolved against its own definitions."""
    return _strategy(schema, schema.get("definitions", {}), 0)


def _strategy(node: dict, definitions: dict, depth: int) -> st.SearchStrategy:
    if "$ref" in node:
        return _strategy(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions, depth)
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type", "object")
    if kind == "object":
        return _object(node, definitions, depth)
    if kind == "array":
        low = max(1, node.get("minItems", 1))
        high = min(node.get("maxItems", 3), low + 2)
        return st.lists(_strategy(node.get("items", {}), definitions, depth + 1), min_size=low, max_size=high)
    if kind == "string":
        if node.get("format") == "date-time":
            return DATE_TIME
        if "pattern" in node:
            return st.from_regex(node["pattern"], fullmatch=True, alphabet=XML_TEXT)
        return st.text(XML_TEXT, max_size=20)
    if kind == "integer":
        return st.integers(min_value=node.get("minimum", -10**6), max_value=node.get("maximum", 10**6))
    if kind == "number":
        return st.decimals(min_value=-10**6, max_value=10**6, allow_nan=False, allow_infinity=False, places=6).map(Decimal)
    if kind == "boolean":
        return st.booleans()
    return st.none()


def _object(node: dict, definitions: dict, depth: int) -> st.SearchStrategy:
    properties = node.get("properties", {})
    required = [name for name in node.get("required", []) if name in properties]
    optional = [name for name in properties if name not in required and depth < MAX_DEPTH]
    fixed = {name: _strategy(properties[name], definitions, depth + 1) for name in required}
    extra = {name: _strategy(properties[name], definitions, depth + 1) for name in optional}
    return st.fixed_dictionaries(fixed, optional=extra)

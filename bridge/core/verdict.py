"""Does a dict validate against a model? The model's own checks, compiled without building the model (issue 18).

``Model.model_validate(data)`` checks ``data`` and builds a tree of frozen model instances,
with every absent optional field filled in. Where the caller keeps ``data`` and throws the
instances away (the wrap step sends the dict the encoders built; the RC-REF read keeps the
payload as received), the building was a third of the check's CPU. :func:`accepts` runs the
same core schema pydantic compiled for the model (same types, patterns, literals, bounds,
strictness, the project's own date and number functions, unknown keys refused the same way)
with each model node turned into the equivalent typed-dict node: a verdict, nothing built.

Only the verdict comes from here: a refusal is explained by the model itself
(:func:`bridge.core.models.validate_model`), so errors are the model's, word for word.
A schema holding anything whose verdict could depend on the built instance (a model
validator, a custom ``__init__``, a post-init hook, a root model, a default that is
validated or replaces an invalid value) is not compiled: :func:`accepts` then answers
``None`` and the caller asks the model.
tests/unit/test_verdict.py checks the verdict against the model's on the golden and official
payloads and on thousands of mutated ones.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaError, SchemaValidator

_WRAPPING_FUNCTIONS = frozenset({"function-before", "function-after", "function-wrap"})


class _NotCompiled(Exception):
    """The schema holds something whose verdict may depend on the built model: ask the model."""


def accepts(model: type[BaseModel], data: Any) -> bool | None:
    """True when ``model.model_validate(data)`` would succeed, False when it would raise a ValidationError,
    None when the model's schema is not compiled here (ask the model)."""
    validator = compiled(model)
    if validator is None:
        return None
    try:
        validator.validate_python(data)
    except ValidationError:
        return False
    return True


@lru_cache(maxsize=32)  # one per model class: a handful, fixed by the code
def compiled(model: type[BaseModel]) -> SchemaValidator | None:
    """The validator of ``model``'s core schema with its model nodes as typed-dict nodes, or None."""
    schema = getattr(model, "__pydantic_core_schema__", None)
    if not isinstance(schema, dict):  # not built yet (a forward reference): the model knows how to finish it
        return None
    try:
        return SchemaValidator(_without_models(schema))
    except (_NotCompiled, SchemaError):
        return None


def _without_models(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_models(item) for item in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind in _WRAPPING_FUNCTIONS or kind in ("dataclass", "dataclass-args", "model-fields", "call"):
        raise _NotCompiled(kind)
    if kind == "model":
        return _typed_dict(node)
    if kind == "function-plain" and node["function"].get("type") == "no-info":
        function = node["function"]["function"]
        if getattr(function, "__module__", None) == _SCALARS:
            node = {**node, "function": {**node["function"], "function": _text_memo(function)}}
    # how a value is written out and what the JSON Schema says of it play no part in validation
    return {key: _without_models(value) for key, value in node.items() if key not in ("serialization", "metadata")}


_SCALARS = "bridge.core.models.types"
MEMO_TEXT = 64  # characters: the longest text whose reading is kept (a strict date is 25)


@lru_cache(maxsize=16)  # one per scalar function of the models
def _text_memo(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``function`` (a scalar reader of the models: a pure function of its input) with its result kept for short
    text: every message of a second carries the same date text, read once. Only exact ``str`` inputs, and exact
    ``Decimal`` inputs by their text, are kept (``Decimal('0')`` equals ``Decimal('0E-999999999')``, ``1`` equals
    ``True``: not the same input, so equality is never the key), only results (a refusal is raised again each
    time), only for text of at most :data:`MEMO_TEXT` characters."""
    remembered = lru_cache(maxsize=64)(function)

    @lru_cache(maxsize=64)
    def remembered_decimal(text: str) -> Any:
        return function(Decimal(text))

    def read(value: Any) -> Any:
        kind = value.__class__
        if kind is str:
            if len(value) <= MEMO_TEXT:
                return remembered(value)
        elif kind is Decimal:
            # a Decimal's text is its exact value and exponent (Decimal('0') is '0', Decimal('0E-999999999') is
            # '0E-999999999'; never written out in full), so it keys the reading as exact text does: the
            # coordinates a message carries twice (location and initialAlert) are read once
            text = str(value)
            if len(text) <= MEMO_TEXT:
                return remembered_decimal(text)
        return function(value)

    return read


def _typed_dict(model: dict[str, Any]) -> dict[str, Any]:
    fields_schema = model["schema"]
    if (fields_schema.get("type") != "model-fields" or model.get("custom_init") or model.get("root_model")
            or model.get("post_init") or fields_schema.get("computed_fields") or fields_schema.get("strict")):
        raise _NotCompiled(model.get("ref"))
    config = dict(model.get("config") or {})
    fields = {}
    for name, field in fields_schema["fields"].items():
        schema, required = field["schema"], True
        if (schema.get("type") == "default" and not schema.get("validate_default")
                and schema.get("on_error", "raise") == "raise"):
            # absent: the model fills in the default without checking it; present: checked as the inner schema
            schema, required = schema["schema"], False
        typed: dict[str, Any] = {"type": "typed-dict-field", "schema": _without_models(schema), "required": required}
        if "validation_alias" in field:
            typed["validation_alias"] = field["validation_alias"]
        fields[name] = typed
    node: dict[str, Any] = {
        "type": "typed-dict",
        "fields": fields,
        "extra_behavior": (fields_schema.get("extra_behavior") or model.get("extra_behavior")
                           or config.get("extra_fields_behavior", "ignore")),
        "config": config,
    }
    for key in ("ref", "strict"):
        if key in model:
            node[key] = model[key]
    if "extras_schema" in fields_schema:
        node["extras_schema"] = _without_models(fields_schema["extras_schema"])
    return node

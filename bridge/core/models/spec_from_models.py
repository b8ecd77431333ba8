"""Codec element specs derived from the models, for when no official XSD bundle is installed.

The generated models keep the XSD sequence order and the scalar kinds, so they
carry everything :class:`~bridge.core.codec.spec.ElementSpec` needs: child
order, repetition (list fields), and number/integer/boolean leaves.
"""

from __future__ import annotations

import types
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from bridge.core.codec.spec import ElementSpec, Kind, MessageSpec
from bridge.core.models import HEADER_MODEL, PAYLOAD_MODELS

HEADER_NAMESPACE = "urn:emergency:eda:1.9"
"""RC-DE lives in the bare EDA namespace, not ``urn:emergency:eda:1.9:<root>``."""
MAX_DEPTH = 40
# Payloads whose XSD namespace is not ``urn:emergency:eda:1.9:<root>`` (RC-RI's is in lower case).
PAYLOAD_NAMESPACES = {"resourcesInfoCisu": "urn:emergency:eda:1.9:resourcesinfocisu"}


def message_specs() -> dict[str, MessageSpec]:
    """Spec per payload root (``createCase``, ``emsi``, ``reference``, ``error``) and the RC-DE header."""
    specs = {name: MessageSpec(root=model_spec(name, model), target_namespace=PAYLOAD_NAMESPACES.get(name))
             for name, model in PAYLOAD_MODELS.items()}
    specs["distributionElement"] = MessageSpec(
        root=model_spec("distributionElement", HEADER_MODEL), target_namespace=HEADER_NAMESPACE
    )
    return specs


def model_spec(name: str, model: type[BaseModel], repeated: bool = False, depth: int = 0) -> ElementSpec:
    """The element spec of ``model`` as element ``name``: one child per field, in field order."""
    if depth > MAX_DEPTH:
        raise ValueError(f"model nesting deeper than {MAX_DEPTH} at {name}: recursive model?")
    children = tuple(_field_spec(field.alias or field_name, field.annotation, depth + 1)
                     for field_name, field in model.model_fields.items())
    return ElementSpec(name, "complex", repeated, children)


def _field_spec(name: str, annotation: Any, depth: int) -> ElementSpec:
    inner, repeated = _unwrap(annotation)
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return model_spec(name, inner, repeated, depth)
    return ElementSpec(name, _scalar_kind(inner), repeated)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """Strip ``Optional``, ``Annotated`` and ``list``; say whether a list was found."""
    repeated = False
    while True:
        origin = get_origin(annotation)
        if origin in (Union, types.UnionType):
            annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
        elif origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin is list:
            repeated, annotation = True, get_args(annotation)[0]
        else:
            return annotation, repeated


def _scalar_kind(annotation: Any) -> Kind:
    origin = get_origin(annotation)
    if origin is dict or annotation is dict:
        return "any"
    if origin is Literal or annotation in (str, datetime):
        return "string"
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    if annotation is Decimal:
        return "decimal"
    raise TypeError(f"no codec kind for field type {annotation!r}")

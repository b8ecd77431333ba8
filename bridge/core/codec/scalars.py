"""Scalar text <-> JSON value rules shared by both codec directions.

Numbers stay :class:`~decimal.Decimal` end to end so ``47.147005`` is never a
float; booleans use the XSD lexical forms; strings pass through untouched.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from bridge.core.codec.spec import Kind
from bridge.core.numbers import MAX_NUMBER_CHARS, number_problem, number_text_problem


class CodecError(Exception):
    """Raised inside the walkers; the path is prepended while the stack unwinds."""

    def __init__(self, message: str, code: str = "codec") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.segments: list[str] = []


def text_of(value: object) -> str:
    """XML text for a JSON scalar (``True`` -> ``true``, ``Decimal('1E+2')`` -> ``100``)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (Decimal, int, float)):
        # a caller's dict may hold NaN or Decimal('1E-999999999'): never write "nan" or a gigabyte of zeros
        problem = number_problem(value)
        if problem:
            raise CodecError(f"{value!s:.40}: {problem[1]}", problem[0])
    if isinstance(value, Decimal):
        text = str(value)
        return format(value, "f") if "E" in text or "e" in text else text
    if isinstance(value, (int, float)):
        return str(value)
    raise CodecError(f"{type(value).__name__} found where a scalar value is expected", "wrong-type")


def value_of(text: str | None, kind: Kind) -> object:
    """JSON value for the XML text of a leaf of the given kind."""
    if kind == "string":
        return text or ""
    raw = (text or "").strip()
    if kind in ("decimal", "integer"):
        problem = number_text_problem(raw)
        if problem:
            raise CodecError(f"{raw[:MAX_NUMBER_CHARS // 2]!r}: {problem[1]}", problem[0])
    try:
        if kind == "decimal":
            number = Decimal(raw)
            if not number.is_finite():
                raise InvalidOperation
            return number
        if kind == "integer":
            return int(raw)
    except (InvalidOperation, ValueError):
        raise CodecError(f"{raw!r} is not a valid {kind}", "wrong-type") from None
    if kind == "boolean":
        if raw in ("true", "1"):
            return True
        if raw in ("false", "0"):
            return False
        raise CodecError(f"{raw!r} is not a valid boolean", "wrong-type")
    return text or ""

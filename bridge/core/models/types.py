"""Scalar types of the Hub message model: strict dates, exact decimals, strict integers.

The Hub's JSON Schemas accept dates only as ``YYYY-MM-DDThh:mm:ss±hh:mm`` (no
``Z``, no fractions) while its XSDs accept both, so dates are kept as
timezone-aware :class:`~datetime.datetime` values and always written back in
the strict form. Numbers stay :class:`~decimal.Decimal` so ``47.147005`` keeps
its exact digits (a float round-trip would not).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from bridge.core.errors import HubErrorCode, InboundError, Issue
from bridge.core.numbers import number_problem

STRICT_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[-+]\d{2}:\d{2}", re.ASCII)
_XSD_DATETIME = re.compile(
    r"(?P<main>-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d+))?(?P<zone>Z|[-+]\d{2}:\d{2})?",
    re.ASCII,
)


def format_hub_datetime(value: datetime) -> str:
    """The strict Hub text of an aware datetime: ``2024-05-18T18:15:00+02:00`` (UTC as ``+00:00``)."""
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("naive datetime: the Hub requires an explicit UTC offset")
    if offset % timedelta(minutes=1):
        raise ValueError(f"UTC offset {offset} has seconds: the Hub format allows hours and minutes only")
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{value.replace(tzinfo=None).isoformat(timespec='seconds')}{sign}{hours:02d}:{mins:02d}"


def parse_hub_datetime(value: Any) -> datetime:
    """An aware datetime from the strict Hub text or from an aware datetime.

    Datetime objects are truncated to the second (the Hub's precision); text
    must already be strict, use :func:`normalise_datetime` for XSD-side text.
    """
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValueError("naive datetime: the Hub requires an explicit UTC offset")
        format_hub_datetime(value)  # rejects offsets with seconds
        return value.replace(microsecond=0)
    if not isinstance(value, str):
        raise ValueError(f"expected a date-time string, got {type(value).__name__}")  # noqa: TRY004 - pydantic reports ValueError
    if not STRICT_DATETIME.fullmatch(value):
        raise ValueError(f"{value!r} is not YYYY-MM-DDThh:mm:ss±hh:mm (no Z, no fractions)")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid date-time: {exc}") from None


def normalise_datetime(text: str, *, path: str = "") -> str:
    """Convert an XSD ``dateTime`` text to the strict Hub form when no information is lost.

    ``Z`` becomes ``+00:00`` and an all-zero fraction is dropped; a non-zero
    fraction or a missing offset cannot be converted without loss and raises
    :class:`InboundError` naming ``path``.
    """
    match = _XSD_DATETIME.fullmatch(text.strip())
    if match is None:
        problem = f"{text!r} is not an XSD dateTime"
    elif match["zone"] is None:
        problem = f"{text!r} has no UTC offset: the Hub requires one"
    elif match["fraction"] and match["fraction"].strip("0"):
        problem = f"{text!r} has fractional seconds: the Hub allows whole seconds only"
    else:
        zone = "+00:00" if match["zone"] == "Z" else match["zone"]
        strict = match["main"] + zone
        try:
            return format_hub_datetime(parse_hub_datetime(strict))
        except ValueError as exc:
            problem = str(exc)
    raise InboundError(
        f"invalid date-time {text!r}",
        [Issue(path, problem, "datetime")],
        HubErrorCode.INVALID_MESSAGE,
    )


def _lenient_datetime_text(value: Any) -> Any:
    if isinstance(value, str) and not STRICT_DATETIME.fullmatch(value):
        try:
            return normalise_datetime(value)
        except InboundError as exc:
            raise ValueError(exc.issues[0].message) from None
    return value


def parse_hub_decimal(value: Any) -> Decimal:
    """A finite Decimal from a Decimal or an int (kept exact) or a float (via its repr)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float)):
        raise ValueError(f"expected a number, got {type(value).__name__}")  # noqa: TRY004 - pydantic reports ValueError
    number = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    problem = number_problem(number)
    if problem:  # 1E-999999999 would be written out as a gigabyte of zeros
        raise ValueError(f"{str(number)[:40]}: {problem[1]}")
    return number


def parse_hub_int(value: Any) -> int:
    """An int from an int or an integral Decimal; booleans, floats with fractions and text are refused."""
    if isinstance(value, bool):
        raise ValueError("expected an integer, got bool")  # noqa: TRY004 - pydantic reports ValueError
    problem = number_problem(value)
    if problem:  # int(Decimal('1E+999999999')) would build a billion-digit integer
        raise ValueError(f"{str(value)[:40]}: {problem[1]}")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    raise ValueError(f"expected an integer, got {value!r}")


_DATETIME_JSON_SCHEMA = WithJsonSchema({"type": "string", "format": "date-time"})

HubDateTime = Annotated[
    datetime,
    PlainValidator(parse_hub_datetime),
    PlainSerializer(format_hub_datetime, return_type=str),
    _DATETIME_JSON_SCHEMA,
]
"""Aware datetime; accepts the strict Hub text, writes ``YYYY-MM-DDThh:mm:ss±hh:mm``."""

LenientHubDateTime = Annotated[
    datetime,
    PlainValidator(lambda value: parse_hub_datetime(_lenient_datetime_text(value))),
    PlainSerializer(format_hub_datetime, return_type=str),
    _DATETIME_JSON_SCHEMA,
]
"""As :data:`HubDateTime`, but also accepts losslessly convertible XSD text (``Z``, ``.000``)."""

HubDecimal = Annotated[Decimal, PlainValidator(parse_hub_decimal), WithJsonSchema({"type": "number"})]
"""Exact decimal number; the Decimal is kept as given, so its text survives a round-trip."""

HubInt = Annotated[int, PlainValidator(parse_hub_int), WithJsonSchema({"type": "integer"})]
"""Strict integer (no bool, no text, no fractional number)."""

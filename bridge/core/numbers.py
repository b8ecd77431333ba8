"""Bounds on every number that enters the bridge, and on coordinates.

A JSON number such as ``1e-999999999`` is a valid ``number`` for the schema and a
valid :class:`~decimal.Decimal`, but written out in fixed-point notation (XML
``xs:decimal`` has no exponent, legacy formats neither) it is a gigabyte of zeros.
``NaN`` and ``Infinity`` are no number a message may carry. So every number read
from outside (JSON, XML text, legacy fields) is checked here, once, at parse time:
finite, at most :data:`MAX_DIGITS` significant digits, and a decimal exponent within
``±``:data:`MAX_EXPONENT`. Its fixed-point text is then at most about 80 characters.

Coordinates are WGS84 degrees: latitude in ``[-90, 90]``, longitude in ``[-180, 180]``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Final

from bridge.core.errors import BridgeError, HubErrorCode, InboundError, Issue

#: Significant digits a number may carry (a WGS84 coordinate to the micrometre needs 15).
MAX_DIGITS: Final = 40
#: Largest decimal exponent magnitude (``1E+40`` and ``1E-40`` pass, ``1E-41`` does not).
MAX_EXPONENT: Final = 40
#: Longest number text read at all (digits, sign, point, exponent): longer is refused unread.
MAX_NUMBER_CHARS: Final = 100

NON_FINITE: Final = "non-finite-number"
OUT_OF_RANGE: Final = "number-out-of-range"
BAD_COORDINATE: Final = "bad-coordinate"

COORDINATE_RANGES: Final = {"lat": Decimal(90), "lon": Decimal(180)}


def number_problem(value: object) -> tuple[str, str] | None:
    """``(code, reason)`` when ``value`` (Decimal, int or float) is not a number the bridge takes; else None."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float)):
        return None
    if isinstance(value, int):
        # bit_length is O(1); 133 bits cover every integer of 40 digits
        if value.bit_length() > 133 and len(str(abs(value))) > MAX_DIGITS:
            return OUT_OF_RANGE, f"integer of more than {MAX_DIGITS} digits"
        return None
    number = value if isinstance(value, Decimal) else Decimal(repr(value))  # a float by its shortest text
    if not number.is_finite():
        return NON_FINITE, f"{number} is not a finite number (NaN and Infinity are refused)"
    _sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    if len(digits) > MAX_DIGITS:
        return OUT_OF_RANGE, f"more than {MAX_DIGITS} significant digits"
    # adjusted() bounds the magnitude; the raw exponent bounds the written length too
    # (0E-999999999 is zero, yet written out it is a billion zeros)
    if (not number.is_zero() and abs(number.adjusted()) > MAX_EXPONENT) or abs(exponent) > MAX_EXPONENT + MAX_DIGITS:
        return OUT_OF_RANGE, f"magnitude or exponent out of range (1E-{MAX_EXPONENT} to 1E+{MAX_EXPONENT})"
    return None


def number_text_problem(text: str) -> tuple[str, str] | None:
    """As :func:`number_problem`, for number text not yet converted (refuses over-long text unread)."""
    if len(text) > MAX_NUMBER_CHARS:
        return OUT_OF_RANGE, f"number text of {len(text)} characters (limit {MAX_NUMBER_CHARS})"
    stripped = text.strip().lstrip("+-").lower()
    if stripped in ("nan", "snan", "inf", "infinity"):
        return NON_FINITE, f"{text.strip()} is not a finite number (NaN and Infinity are refused)"
    try:
        return number_problem(Decimal(text.strip()))
    except InvalidOperation:
        return None  # not a number at all: the caller's own syntax error applies


def check_number(value: object, where: str, *, error: type[BridgeError] = InboundError) -> None:
    """Raise ``error`` naming ``where`` when ``value`` is out of the bounds above."""
    problem = number_problem(value)
    if problem:
        code, reason = problem
        raise error(f"{where}: {reason}", [Issue(where, reason, code)], HubErrorCode.INVALID_MESSAGE)


def coordinate_problem(value: object, axis: str) -> str | None:
    """Why ``value`` is no ``axis`` (``lat`` or ``lon``) in degrees, or None when it is one."""
    if value is None:
        return None
    if isinstance(value, str):  # number text (the models take "47.2" as a Decimal)
        text = value
        problem = number_text_problem(text)
        if problem:
            return problem[1]
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            return f"{text[:40]!r} is not a number of degrees"
    problem = number_problem(value)
    if problem:
        return problem[1]
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float)):
        return f"{type(value).__name__} is not a number of degrees"
    limit = COORDINATE_RANGES[axis]
    if not -limit <= Decimal(value) <= limit:
        return f"{value} is not between -{limit} and {limit} degrees ({'latitude' if axis == 'lat' else 'longitude'})"
    return None


def check_coordinate(value: object, axis: str, where: str, *, error: type[BridgeError] = InboundError) -> None:
    """Raise ``error`` (code ``bad-coordinate``) naming ``where`` when ``value`` is no ``axis`` in degrees."""
    reason = coordinate_problem(value, axis)
    if reason:
        raise error(f"{where}: {reason}", [Issue(where, reason, BAD_COORDINATE)], HubErrorCode.INVALID_MESSAGE)


__all__ = [
    "BAD_COORDINATE", "COORDINATE_RANGES", "MAX_DIGITS", "MAX_EXPONENT", "MAX_NUMBER_CHARS", "NON_FINITE",
    "OUT_OF_RANGE", "check_coordinate", "check_number", "coordinate_problem", "number_problem",
    "number_text_problem",
]

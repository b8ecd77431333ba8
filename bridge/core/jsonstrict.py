"""One strict JSON reader for everything that comes from outside.

The Hub speaks UTF-8 JSON (RFC 8259 §8.1). ``json.loads`` on bytes would guess
UTF-16/32, resolve a duplicate key silently (last one wins, where other
parsers keep the first) and raise ``RecursionError`` on deep nesting; here
each of those is a refusal naming where, and numbers keep their exact digits.
Numbers are bounded as they are read (:mod:`bridge.core.numbers`): ``NaN``,
``Infinity`` and ``1e-999999999`` are refused with the JSON pointer of the value,
before anything can write them out as ``nan`` or as a gigabyte of zeros.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from bridge.core.errors import InboundError, Issue
from bridge.core.numbers import MAX_DIGITS, NON_FINITE, number_text_problem


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return document


class _RefusedNumber:
    """Stands in for a refused number while parsing; the walk after the parse finds its pointer."""

    __slots__ = ("code", "reason", "text")

    def __init__(self, text: str, code: str, reason: str) -> None:
        self.text, self.code, self.reason = text, code, reason


class _Numbers:
    """The parse hooks for numbers: each one bounded, refusals remembered (parsing goes on)."""

    def __init__(self) -> None:
        self.refused = 0

    def _refuse(self, text: str, problem: tuple[str, str]) -> _RefusedNumber:
        self.refused += 1
        return _RefusedNumber(text[:40], *problem)

    def decimal(self, text: str) -> Decimal | _RefusedNumber:
        if len(text) <= MAX_DIGITS and "e" not in text and "E" not in text:
            return Decimal(text)  # the common case, in bounds by its length alone
        problem = number_text_problem(text)
        return self._refuse(text, problem) if problem else Decimal(text)

    def integer(self, text: str) -> int | _RefusedNumber:
        if len(text) <= MAX_DIGITS:
            return int(text)
        problem = number_text_problem(text)  # before int(): a 4,000-digit int costs quadratic time
        return self._refuse(text, problem) if problem else int(text)

    def constant(self, text: str) -> _RefusedNumber:  # NaN, Infinity, -Infinity
        return self._refuse(text, (NON_FINITE, f"{text} is not a finite number (NaN and Infinity are refused)"))


class _Refused(Exception):
    """Raised by the fast reader's hooks at the first number it does not take: the collecting reader reads
    the text again and names every refused number, as it always has."""


def _fast_decimal(text: str) -> Decimal:
    if len(text) <= MAX_DIGITS and "e" not in text and "E" not in text:
        return Decimal(text)
    if number_text_problem(text):
        raise _Refused
    return Decimal(text)


def _fast_integer(text: str) -> int:
    if len(text) <= MAX_DIGITS:
        return int(text)
    if number_text_problem(text):  # before int(): a 4,000-digit int costs quadratic time
        raise _Refused
    return int(text)


def _fast_constant(text: str) -> Any:  # NaN, Infinity, -Infinity
    raise _Refused


# One decoder for every well-behaved document: ``json.loads(text, **hooks)`` builds a decoder and its scanner on
# each call (3-4 us of a 4 kB message), and the collecting hooks need an object per call. Its hooks keep no state,
# and the C scanner's only state (a key memo, cleared after each document) is a cache, so threads may share it.
_FAST_DECODER = json.JSONDecoder(parse_float=_fast_decimal, parse_int=_fast_integer, parse_constant=_fast_constant,
                                 object_pairs_hook=_object_without_duplicates)


def _refused_numbers(document: Any) -> list[Issue]:
    """Issues naming the JSON pointer of every refused number (iterative walk: depth is the parser's)."""
    found: list[Issue] = []
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, _RefusedNumber):
            found.append(Issue(where or "/", f"{value.text}: {value.reason}", value.code))
        elif isinstance(value, dict):
            stack += [(f"{where}/{str(k).replace('~', '~0').replace('/', '~1')}", v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(f"{where}/{i}", v) for i, v in enumerate(value)]
    return sorted(found, key=lambda issue: issue.path)


def loads_strict(data: bytes | str, what: str = "JSON") -> Any:
    """Parse ``data``; :class:`InboundError` with code json-syntax / json-duplicate-key / too-deep,
    or non-finite-number / number-out-of-range naming the pointer of each refused number."""
    if not isinstance(data, (bytes, bytearray, memoryview, str)):  # bytes(10**9) would allocate a gigabyte
        raise TypeError(f"loads_strict takes bytes or str, not {type(data).__name__}")
    numbers = _Numbers()
    try:
        text = bytes(data).decode("utf-8-sig") if not isinstance(data, str) else data
        try:
            if text.startswith("\ufeff"):  # json.loads's own refusal of a (second) byte order mark, below
                raise _Refused
            document = _FAST_DECODER.decode(text)
        except _Refused:  # a refused number or a mark: read again, collecting (a refusal, or a syntax error)
            document = json.loads(text, parse_float=numbers.decimal, parse_int=numbers.integer,
                                  parse_constant=numbers.constant, object_pairs_hook=_object_without_duplicates)
    except _DuplicateKey as exc:
        raise InboundError(f"{what} is not valid JSON: key {exc.key!r} appears twice in one object",
                           [Issue(f"//{exc.key}", "duplicate key: which value is meant is ambiguous",
                                  "json-duplicate-key")]) from None
    except RecursionError:  # e.g. 10,000 nested arrays: refuse it, never crash the caller
        raise InboundError(f"{what} is not valid JSON: nested too deeply",
                           [Issue("/", "nesting too deep", "too-deep")]) from None
    except (ValueError, UnicodeDecodeError) as exc:
        where = f"byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else f"line {getattr(exc, 'lineno', 1)}"
        raise InboundError(f"{what} is not valid JSON: {exc}", [Issue(where, str(exc), "json-syntax")]) from None
    if numbers.refused:
        issues = _refused_numbers(document)
        raise InboundError(f"{what} carries {len(issues)} number(s) the bridge refuses: {issues[0]}", issues)
    return document


def strings_are_xml_text(data: bytes) -> bool:
    """Whether every string :func:`loads_strict` reads from ``data`` (UTF-8) is XML character data as it stands.

    True when the text has no backslash (no escape sequence: each string is the very characters between its
    quotes), none of ``&``, ``<``, ``>``, and no character from U+FFC0 (its UTF-8 starts ``EF BF``; U+FFFE and
    U+FFFF are outside XML 1.0). What else XML 1.0 excludes cannot stand in a string that reads: a control
    character there is a syntax error for the reader (``\r`` included, which outside strings is whitespace),
    and UTF-8 cannot carry a surrogate. A few memchr scans (byte values, not one-byte strings: 0.04 us each
    for 4 kB), instead of five checks per string.
    """
    return not (92 in data or 38 in data or 60 in data or 62 in data  # \\ & < >
                or (0xEF in data and b"\xef\xbf" in data))

"""Hub message bodies on the wire: JSON or XML bytes <-> the JSON-shaped dict.

JSON is read with exact decimals and written with a stable key order; XML goes
through the schema-driven codec. Everything else in the bridge works on the
dict form.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import simplejson

from bridge.core.errors import InboundError, Issue
from bridge.core.jsonstrict import loads_strict

XML = "application/xml"
JSON = "application/json"


def encode_hub_body(message: dict, content_type: str = JSON) -> bytes:
    """Serialise a full EDXL-DE message dict for publishing (JSON by :func:`dumps_hub`)."""
    body = dumps_hub(message)
    if content_type == XML:
        from bridge.refdata.hub_codec import translate

        return translate(body, "xml")
    return body


def decode_hub_body(body: bytes, content_type: str | None = None) -> dict:
    """Parse a received body (JSON, or XML when the type says so or the bytes start with '<')."""
    if content_type == XML or body.lstrip()[:1] == b"<":
        from bridge.refdata.hub_codec import translate

        body = translate(body, "json")
    document = loads_strict(body, "body")
    if not isinstance(document, dict):
        raise InboundError("body is not a JSON object", [Issue("/", "expected an object", "json-type")])
    return document


# ---- JSON bytes ------------------------------------------------------------------------------
# JSON bytes of a Hub message: :func:`dumps_hub`.
#
# The reference writer is simplejson (``use_decimal``: a Decimal is written as its own
# text, never through a float). The standard library's C encoder writes the same bytes for
# everything else in a Hub message (text, ints, lists, dicts, ``None``, booleans) in about 60 % of
# the time, which was a fifth of the wrap step. Decimals are handed to it as a marker and put back
# as ``str(decimal)`` afterwards (a string that happens to hold the marker is seen and the message
# goes the simplejson way). Anything this path does not write (a non-finite or subclassed Decimal,
# a key that is not text, NaN, a lone surrogate...) goes the simplejson way too, with its own result
# or error. One difference is left on purpose: a named tuple is written as an array, as the models'
# dump writes it and the Hub schemas want it, where simplejson writes an object; the bridge's
# messages carry none (the encoders' ``prune`` makes every tuple a list).
# tests/unit/test_hub_body_json.py checks the bytes are equal to simplejson's on any other JSON-shaped value.

_MARK = "\x00hub-decimal\x00"
_QUOTED_MARK = json.dumps(_MARK)  # as the encoder writes it: "\u0000hub-decimal\u0000"


class _NotHere(Exception):
    """A value the standard encoder path does not write like simplejson: take the simplejson path."""


def dumps_hub(message: Any) -> bytes:
    """``message`` as compact UTF-8 JSON, byte for byte what simplejson (``use_decimal``) writes."""
    numbers: list[str] = []

    def decimal_mark(value: object) -> str:
        if value.__class__ is not Decimal or not value.is_finite():
            raise _NotHere
        numbers.append(str(value))
        return _MARK

    try:
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=decimal_mark)
        if numbers:
            pieces = text.split(_QUOTED_MARK)
            if len(pieces) != len(numbers) + 1:  # the marker text was also in a string: not this path
                raise _NotHere
            text = "".join(piece + number for piece, number in zip(pieces, numbers, strict=False)) + pieces[-1]
        return text.encode()
    except (_NotHere, TypeError, ValueError, UnicodeEncodeError):
        return _simplejson_bytes(message)


def _simplejson_bytes(message: Any) -> bytes:
    return simplejson.dumps(message, use_decimal=True, ensure_ascii=False, separators=(",", ":")).encode()

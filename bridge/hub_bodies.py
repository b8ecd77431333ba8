"""Hub message bodies on the wire: JSON or XML bytes <-> the JSON-shaped dict.

JSON is read with exact decimals and written with a stable key order; XML goes
through the schema-driven codec. Everything else in the bridge works on the
dict form.
"""

from __future__ import annotations

import json
from decimal import Decimal

import simplejson

from bridge.core.errors import InboundError, Issue

XML = "application/xml"
JSON = "application/json"


def encode_hub_body(message: dict, content_type: str = JSON) -> bytes:
    """Serialise a full EDXL-DE message dict for publishing."""
    body = simplejson.dumps(message, use_decimal=True, ensure_ascii=False, separators=(",", ":")).encode()
    if content_type == XML:
        from bridge import translate

        return translate(body, "xml")
    return body


class DuplicateKey(ValueError):
    """A JSON object names the same key twice (RFC 8259 leaves the meaning to each parser)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict:
    """``json`` object hook: refuse duplicate keys, which parsers resolve differently (first or last wins)."""
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return document


def decode_hub_body(body: bytes, content_type: str | None = None) -> dict:
    """Parse a received body (JSON, or XML when the type says so or the bytes start with '<')."""
    if content_type == XML or body.lstrip()[:1] == b"<":
        from bridge import translate

        body = translate(body, "json")
    try:
        # The Hub speaks UTF-8 (RFC 8259 §8.1); json.loads would silently guess UTF-16/32 from bytes.
        text = bytes(body).decode("utf-8-sig")
        document = json.loads(text, parse_float=Decimal, object_pairs_hook=_object_without_duplicates)
    except DuplicateKey as exc:
        raise InboundError(f"body is not valid JSON: key {exc.key!r} appears twice in one object",
                           [Issue(f"//{exc.key}", "duplicate key: which value is meant is ambiguous",
                                  "json-duplicate-key")]) from None
    except RecursionError:  # e.g. 10,000 nested arrays: refuse it, never crash the consumer
        raise InboundError("body is not valid JSON: nested too deeply",
                           [Issue("/", "nesting too deep", "too-deep")]) from None
    except (ValueError, UnicodeDecodeError) as exc:
        where = f"byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else f"line {getattr(exc, 'lineno', 1)}"
        raise InboundError(f"body is not valid JSON: {exc}", [Issue(where, str(exc), "json-syntax")]) from None
    if not isinstance(document, dict):
        raise InboundError("body is not a JSON object", [Issue("/", "expected an object", "json-type")])
    return document

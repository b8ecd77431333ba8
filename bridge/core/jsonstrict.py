"""One strict JSON reader for everything that comes from outside.

The Hub speaks UTF-8 JSON (RFC 8259 §8.1). ``json.loads`` on bytes would guess
UTF-16/32, resolve a duplicate key silently (last one wins, where other
parsers keep the first) and raise ``RecursionError`` on deep nesting; here
each of those is a refusal naming where, and numbers keep their exact digits.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from bridge.core.errors import InboundError, Issue


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


def loads_strict(data: bytes | str, what: str = "JSON") -> Any:
    """Parse ``data``; :class:`InboundError` with code json-syntax / json-duplicate-key / too-deep."""
    try:
        text = bytes(data).decode("utf-8-sig") if not isinstance(data, str) else data
        return json.loads(text, parse_float=Decimal, object_pairs_hook=_object_without_duplicates)
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

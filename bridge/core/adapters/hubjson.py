"""JSON in and out for Hub payloads: exact decimals, strict dates, one payload key."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import simplejson

from bridge.core.errors import HubErrorCode, InboundError, Issue
from bridge.core.jsonstrict import loads_strict
from bridge.core.numbers import NON_FINITE, OUT_OF_RANGE


def load_document(data: bytes) -> object:
    """A JSON document through the one strict reader (numbers as Decimal; NaN, Infinity and out-of-range
    numbers refused with their pointer); not JSON is the sender's fault (UNRECOGNIZED_MESSAGE_FORMAT)."""
    try:
        return loads_strict(data)
    except InboundError as exc:
        number = bool(exc.issues) and exc.issues[0].code in (NON_FINITE, OUT_OF_RANGE)
        raise InboundError(exc.message, exc.issues, HubErrorCode.INVALID_MESSAGE if number
                           else HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT) from None


def loads(data: bytes, payload: str) -> dict[str, Any]:
    """The payload dict of ``{"payload": {...}}`` (or a bare payload), numbers as Decimal."""
    try:
        # the one strict reader: NaN, Infinity and 1e-999999999 are refused here, with their pointer
        document = loads_strict(data)
    except InboundError as exc:
        number = bool(exc.issues) and exc.issues[0].code in (NON_FINITE, OUT_OF_RANGE)
        raise InboundError(exc.message, exc.issues, HubErrorCode.INVALID_MESSAGE if number
                           else HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT) from None
    if isinstance(document, dict) and isinstance(document.get(payload), dict):
        return cast(dict[str, Any], document[payload])
    if isinstance(document, dict) and payload not in document and document:
        return document
    raise InboundError(f"expected a {payload} payload", [Issue("/", f"no {payload!r} object", "wrong-payload")],
                       HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT)


def dumps(payload_name: str, payload: dict[str, Any]) -> bytes:
    """``{"payload_name": payload}`` as compact UTF-8 JSON, decimals kept exact (see :func:`dump_document`)."""
    return dump_document({payload_name: payload})


def dump_document(document: dict[str, Any]) -> bytes:
    """A JSON document as compact UTF-8 bytes whose content is exactly ``document``.

    Only JSON's own types are written as they are (dict, list, str, int, finite Decimal, bool, None):
    a tuple, a named tuple, a NaN or an infinity is refused (``TypeError``/``ValueError``) rather than
    silently turned into something else, so a validator that checks ``document`` checks what the bytes
    say (the pipeline validates the dict it encoded, not a re-parse of these bytes; the equivalence is
    tested in tests/unit/test_output_validation.py).
    """
    return simplejson.dumps(document, use_decimal=True, ensure_ascii=False, separators=(",", ":"),
                            allow_nan=False, tuple_as_array=False, namedtuple_as_object=False).encode("utf-8")


def hub_datetime(value: datetime) -> str:
    """The strict Hub form: seconds precision, explicit numeric offset, never ``Z``."""
    if value.tzinfo is None:
        raise ValueError("Hub dates need a time zone")
    return value.replace(microsecond=0).isoformat(timespec="seconds")


def parse_datetime(text: Any, pointer: str) -> datetime | None:
    """A Hub date string -> aware datetime; a bad one is the sender's fault, named by pointer."""
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(text))
    except ValueError:
        raise InboundError(f"bad date {text!r}", [Issue(pointer, f"{text!r} is not an ISO 8601 date", "bad-date")]) from None
    if parsed.tzinfo is None:
        raise InboundError(f"date without offset {text!r}", [Issue(pointer, "date has no offset", "bad-date")])
    return parsed


def prune(value: Any) -> Any:
    """Drop None, empty strings, lists and dicts recursively (the Hub omits empty optionals); tuples become lists."""
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            if type(item) is str:  # most of a payload: kept unless empty, without a call
                if item:
                    kept[key] = item
            elif (item := _pruned(item)) is not _LEFT_OUT:
                kept[key] = item
        return kept
    if isinstance(value, (list, tuple)):
        kept_items = []
        for item in value:
            if type(item) is str:
                if item:
                    kept_items.append(item)
            elif (item := _pruned(item)) is not _LEFT_OUT:
                kept_items.append(item)
        return kept_items
    return value


_LEFT_OUT = object()


def _pruned(item: Any) -> Any:
    """One member of a container, pruned, or ``_LEFT_OUT`` when the Hub omits it (None, "", empty after pruning)."""
    if item is None:
        return _LEFT_OUT
    if type(item) in _CONTAINER_TYPES or isinstance(item, _CONTAINERS):
        item = prune(item) if item else item  # an empty container prunes to an empty one: no call
        return item if item else _LEFT_OUT
    return _LEFT_OUT if item == "" else item


_CONTAINERS = (dict, list, tuple)
_CONTAINER_TYPES = frozenset(_CONTAINERS)

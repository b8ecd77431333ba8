"""Shapes of the console's pages, built from store rows; and the checks on what a browser sends.

Everything a request carries is checked here before it reaches a query: lengths
are bounded, states come from the known list, times must parse. Message bodies
are hostile: they are decoded with replacement characters, cut to a display
budget, and sent as JSON strings that the page puts in with ``textContent``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.core.delivery import State

MAX_TEXT = 200                # a search field, a case id in a path
MAX_DISPLAY_BYTES = 256 * 1024  # of one body shown on the message page
MAX_TRY_BYTES = 64 * 1024     # a pasted frame
STATS_CACHE_SECONDS = 5.0
QUERY_BUDGET_SECONDS = 2.0    # a console query past this is interrupted (HTTP 503: narrow the search)
WINDOWS: dict[str, tuple[timedelta, int]] = {"hour": (timedelta(hours=1), 60), "day": (timedelta(days=1), 1800)}
STATES = frozenset(s.value for s in State)


class BadInput(ValueError):
    """A request parameter is out of bounds or malformed (HTTP 400)."""


def text_param(value: str | None, name: str) -> str | None:
    """A bounded, single-line text parameter (None when empty)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise BadInput(f"{name} is longer than {MAX_TEXT} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise BadInput(f"{name} holds a control character")
    return value


def time_param(value: str | None, name: str) -> datetime | None:
    """ISO 8601; an offset-less time is taken as UTC (the page sends UTC)."""
    text = text_param(value, name)
    if text is None:
        return None
    if len(text) > 40:
        raise BadInput(f"{name} is not a time")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{name} must be an ISO 8601 time, found {text[:40]!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Search:
    """What the search form asks for; at least one criterion or none (the newest messages)."""

    dossier: str | None = None
    case_id: str | None = None
    distribution_id: str | None = None
    state: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100

    @classmethod
    def from_args(cls, args: Mapping[bytes, list[bytes]]) -> Search:
        def get(name: str) -> str | None:
            values = args.get(name.encode())
            return values[0].decode("utf-8", "replace") if values else None

        state = text_param(get("state"), "state")
        if state is not None and state not in STATES:
            raise BadInput(f"state must be one of {', '.join(sorted(STATES))}")
        limit_text = text_param(get("limit"), "limit") or "100"
        if not limit_text.isdigit() or len(limit_text) > 4:
            raise BadInput("limit must be a number up to 500")
        since, until = time_param(get("since"), "since"), time_param(get("until"), "until")
        if since and until and since >= until:
            raise BadInput("since must be before until")
        return cls(text_param(get("dossier"), "dossier"), text_param(get("case"), "case"),
                   text_param(get("distribution_id"), "distribution_id"), state, since, until,
                   max(1, min(500, int(limit_text))))

    def as_dict(self) -> dict[str, Any]:
        return {"dossier": self.dossier, "case": self.case_id, "distribution_id": self.distribution_id,
                "state": self.state, "since": self.since and self.since.isoformat(),
                "until": self.until and self.until.isoformat(), "limit": self.limit}


def decode_body(data: bytes | None, encoding: str) -> dict[str, Any] | None:
    """Bytes as text for display: the given encoding (bad bytes replaced), cut to the display budget."""
    if data is None:
        return None
    shown = bytes(data[:MAX_DISPLAY_BYTES])
    try:
        text = shown.decode(encoding, errors="replace")
    except LookupError:
        encoding, text = "utf-8", shown.decode("utf-8", errors="replace")
    return {"text": text, "encoding": encoding, "size": len(data), "truncated": len(data) > MAX_DISPLAY_BYTES}


def pretty_hub(data: bytes | None) -> dict[str, Any] | None:
    """A Hub body as indented JSON when it parses (XML and anything else as received)."""
    body = decode_body(data, "utf-8")
    if body is None or body["truncated"]:
        return body
    if body["text"].lstrip()[:1] in ("{", "["):
        try:
            body["text"] = json.dumps(json.loads(body["text"]), indent=2, ensure_ascii=False)
            body["format"] = "json"
        except (ValueError, RecursionError):
            body["format"] = "text"
    else:
        body["format"] = "xml" if body["text"].lstrip()[:1] == "<" else "text"
    return body


def message_type(body: bytes | None) -> str | None:
    """RC-EDA, EMSI, RC-REF or RS-ERROR from the first bytes of a Hub body (as the store's listings say)."""
    head = bytes(body or b"")[:4096]
    for needle, name in ((b"createCase", "RC-EDA"), (b"emsi", "EMSI"), (b"reference", "RC-REF"), (b"error", "RS-ERROR")):
        if needle in head:
            return name
    return None


def message_view(message: Any, events: list[dict[str, Any]], notes: str | None,
                 encodings: Mapping[str, str]) -> dict[str, Any]:
    """The message page: the legacy side and the Hub side, the notes of the translation, the history."""
    legacy_bytes = message.original if message.direction.value == "out" else message.translated
    hub_bytes = message.translated if message.direction.value == "out" else message.original
    encoding = encodings.get(message.profile or "", "utf-8")
    parsed_notes: Any = None
    if notes:
        try:
            parsed_notes = json.loads(notes)
        except ValueError:
            parsed_notes = {"raw": notes[:2000]}
    summary = message.summary()
    summary["message_type"] = message_type(hub_bytes)
    return {"message": summary, "legacy": decode_body(legacy_bytes, encoding), "hub": pretty_hub(hub_bytes),
            "notes": parsed_notes, "events": events}


def stats_view(raw: Mapping[str, list[dict[str, Any]]], *, since: datetime, bucket_seconds: int,
               buckets: int) -> dict[str, Any]:
    """Dense series (one value per bucket, zeros included) for the page's SVG charts."""
    def series(rows: list[dict[str, Any]], value: str, where: dict[str, str] | None = None) -> list[float | None]:
        values: list[float | None] = [0 if value == "n" else None] * buckets
        for row in rows:
            if where and any(row.get(k) != v for k, v in where.items()):
                continue
            index = row["bucket"]
            if index is not None and 0 <= index < buckets and row.get(value) is not None:
                values[index] = round(float(row[value]), 3)
        return values

    from bridge.edges.store.console_queries import MAX_WINDOW_ROWS

    counted = sum(int(r["n"]) for r in raw["throughput"])
    return {
        "since": since.isoformat(), "bucket_seconds": bucket_seconds, "buckets": buckets,
        "truncated": counted >= MAX_WINDOW_ROWS, "max_rows": MAX_WINDOW_ROWS,
        "out": series(raw["throughput"], "n", {"direction": "out"}),
        "in": series(raw["throughput"], "n", {"direction": "in"}),
        "latency_mean": series(raw["latency"], "mean"), "latency_max": series(raw["latency"], "max"),
        "dead_letters": series(raw["dead_letters"], "n"),
    }

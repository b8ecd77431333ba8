"""What the store hands back: frozen, slotted records built from SQLite rows.

Plain dataclasses rather than pydantic models: these come from our own
database (already valid) and are built by the thousand on the hot path.
Times are stored as UTC ISO-8601 text (sortable, readable with the sqlite3
shell) and returned as aware :class:`datetime` objects.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from operator import itemgetter
from typing import Any, overload

from bridge.core.delivery import Direction, State
from bridge.core.errors import BridgeError

__all__ = [
    "MESSAGE_FIELDS",
    "Attempt",
    "DeadLetter",
    "Message",
    "MessageId",
    "StoreFull",
    "StoreUnavailable",
    "StoredEvent",
    "Translation",
    "UnknownMessage",
    "from_db_time",
    "message_from_values",
    "to_db_time",
]

MessageId = int


class StoreFull(BridgeError):
    """Back-pressure: the outbox holds ``max_pending`` unpublished messages; nack the sender."""


class StoreUnavailable(StoreFull):
    """The store cannot take a message right now (disk full, locked, I/O error); nack the sender too."""


class UnknownMessage(BridgeError):
    """No message or dead-letter entry with that id / distributionID."""


@overload
def to_db_time(value: datetime) -> str: ...


@overload
def to_db_time(value: None) -> None: ...


@overload
def to_db_time(value: datetime | None) -> str | None: ...


def to_db_time(value: datetime | None) -> str | None:
    """UTC ISO text; naive datetimes are refused (the store never guesses a zone)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass an aware datetime (UTC)")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class Translation:
    """The result of translating one message, as the store records it."""

    translated: bytes
    distribution_id: str
    case_id: str | None = None
    case_version: str | None = None
    content_type: str = "application/json"
    notes: str | None = None  # JSON: codes mapped, fallbacks, declared drops, warnings (see translation_notes)


@dataclass(frozen=True, slots=True)
class MessageHead:
    """The columns a state transition needs, read without the payload bytes (hot path)."""

    id: MessageId
    direction: Direction
    state: State
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class Message:
    """One row of the outbox (``direction='out'``) or inbox (``direction='in'``)."""

    id: MessageId
    direction: Direction
    state: State
    distribution_id: str | None
    case_id: str | None
    case_version: str | None
    adapter: str | None
    profile: str | None
    content_type: str | None
    original: bytes
    translated: bytes | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    error_path: str | None
    hub_error_code: int | None
    rcref_deadline: datetime | None
    rcref_overdue_at: datetime | None
    replay_of: int | None

    @classmethod
    def from_row(cls, row: sqlite3.Row | Mapping[str, Any]) -> Message:
        """The record of a stored row: a ``sqlite3.Row`` whose columns are the fields in order (``SELECT *``:
        the table's columns are) is converted by position (:func:`message_from_values`), any other row by name."""
        if type(row) is sqlite3.Row and row.keys() == MESSAGE_FIELDS_LIST:
            return message_from_values(list(row))
        values = dict(row)
        return message_from_values([values[name] for name in MESSAGE_FIELDS])

    def summary(self) -> dict[str, Any]:
        """JSON-friendly view without the payload bytes (for listings and logs)."""
        data = asdict(self)
        del data["original"], data["translated"]
        data["original_size"] = len(self.original)
        data["translated_size"] = None if self.translated is None else len(self.translated)
        return _jsonable(data)


#: The fields of a :class:`Message` in order: the columns of ``messages`` (``SELECT *``) are in this order.
MESSAGE_FIELDS = tuple(field.name for field in fields(Message))
MESSAGE_FIELDS_LIST = list(MESSAGE_FIELDS)  # what ``sqlite3.Row.keys()`` gives, compared as it is
_TIME_FIELDS = tuple(i for i, name in enumerate(MESSAGE_FIELDS) if name in (
    "created_at", "updated_at", "published_at", "next_attempt_at", "rcref_deadline", "rcref_overdue_at"))
_DIRECTIONS = {d.value: d for d in Direction}
_STATES = {s.value: s for s in State}
_fromisoformat = datetime.fromisoformat


def message_from_values(values: list[Any]) -> Message:
    """A :class:`Message` from its stored column values in field order (changed in place): the one place the
    stored text becomes enums and aware datetimes, for ``Message.from_row`` and the store's hot reads alike."""
    values[1] = _DIRECTIONS.get(values[1]) or Direction(values[1])
    values[2] = _STATES.get(values[2]) or State(values[2])
    for i in _TIME_FIELDS:
        if values[i] is not None:
            values[i] = _fromisoformat(values[i])
    return Message(*values)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One line of a message's history."""

    ts: datetime
    event: str
    from_state: str | None
    to_state: str
    detail: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StoredEvent:
        return cls(datetime.fromisoformat(row["ts"]), row["event"], row["from_state"], row["to_state"], row["detail"])

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True, slots=True)
class Attempt:
    """One failed attempt (publish, translation...) kept in a dead-letter entry."""

    ts: datetime
    error: str

    def as_dict(self) -> dict[str, str]:
        return {"ts": to_db_time(self.ts) or "", "error": self.error}


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead-letter entry: the original bytes, why they failed, and what was tried."""

    id: int
    message_id: MessageId | None
    direction: Direction
    source: str
    adapter: str | None
    profile: str | None
    content_type: str | None
    original: bytes
    error: str
    error_path: str | None
    hub_error_code: int | None
    attempts: tuple[Attempt, ...]
    created_at: datetime
    replayed_at: datetime | None
    replayed_as: MessageId | None
    last_replay_error: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> DeadLetter:
        values = dict(row)
        values["direction"] = Direction(values["direction"])
        values["attempts"] = tuple(
            Attempt(datetime.fromisoformat(a["ts"]), a["error"]) for a in json.loads(values["attempts"])
        )
        for name in ("created_at", "replayed_at"):
            values[name] = from_db_time(values[name])
        return cls(**values)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        del data["original"]
        data["original_size"] = len(self.original)
        data["attempts"] = [a.as_dict() for a in self.attempts]
        return _jsonable(data)


MAX_NOTES = 200  # entries per kind kept with a message; the rest is counted, not stored
MAX_NOTE_TEXT = 300


def translation_notes(mapped: Any = (), dropped: Any = (), warnings: Any = ()) -> str | None:
    """The JSON a translation leaves in the message's history for the console (bounded), or None if empty.

    ``mapped``: dicts of the code lookups (table, direction, code, to, source, warning);
    ``dropped`` / ``warnings``: :class:`bridge.core.errors.Issue` objects. Each value is cut
    to ``MAX_NOTE_TEXT`` characters, each list to ``MAX_NOTES`` entries; the text is
    ``json.dumps(notes, ensure_ascii=False, sort_keys=True)``. Entries repeat from sheet to
    sheet (the same code lookups, the same documented derivations), so the JSON of a short entry
    (every value ``None`` or text of at most ``MAX_NOTE_TEXT`` characters) is made once and kept in
    a small bounded cache; a long one is encoded each time, so no cache keeps a hostile value alive.
    """
    parts = ([_mapped_json(entry) for entry in islice(mapped, MAX_NOTES)],
             [_issue_json(issue) for issue in islice(dropped, MAX_NOTES)],
             [_issue_json(issue) for issue in islice(warnings, MAX_NOTES)])
    if not any(parts):
        return None
    mapped_part, dropped_part, warnings_part = ("[" + ", ".join(part) + "]" for part in parts)
    return f'{{"dropped": {dropped_part}, "mapped": {mapped_part}, "warnings": {warnings_part}}}'


def _cut(value: object) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_NOTE_TEXT else text[: MAX_NOTE_TEXT - 1] + "…"


def _note_json(entry: dict[Any, str]) -> str:
    return json.dumps(entry, ensure_ascii=False, sort_keys=True)


#: The keys of a lookup entry as the translator's recorder writes it (``RecordingMappings``), and its values in
#: that order: such an entry is cached by its values alone (its key set is known, and ``sort_keys`` fixes the order).
RECORDED_KEYS = ("table", "direction", "code", "to", "source", "warning")
_RECORDED_SET = frozenset(RECORDED_KEYS)
_recorded_values = itemgetter(*RECORDED_KEYS)


def _mapped_json(entry: Mapping[str, Any]) -> str:
    if entry.__class__ is dict and entry.keys() == _RECORDED_SET:  # the recorder's entry: one C call for its values
        values = _recorded_values(entry)
        for value in values:
            if value is not None and (value.__class__ is not str or len(value) > MAX_NOTE_TEXT):
                break
        else:
            return _cached_recorded_json(values)
    items = tuple(entry.items())
    for key, value in items:
        # cached only for short text and None: 1, 1.0 and True are equal keys but not the same note, and a
        # cache entry keeps its key: a 200 kB value must not stay in memory after its message is gone
        if key.__class__ is not str or (value is not None and (value.__class__ is not str
                                                              or len(value) > MAX_NOTE_TEXT)):
            return _note_json({key: _cut(value) for key, value in items})
    return _cached_mapped_json(items)


@lru_cache(maxsize=64)
def _cached_mapped_json(items: tuple[tuple[str, str | None], ...]) -> str:
    return _note_json({key: _cut(value) for key, value in items})


@lru_cache(maxsize=64)
def _cached_recorded_json(values: tuple[str | None, ...]) -> str:
    return _note_json({key: _cut(value) for key, value in zip(RECORDED_KEYS, values, strict=True)})


def _issue_json(issue: Any) -> str:
    path, message, code = issue.path, issue.message, issue.code
    # a documented derivation (the initialAlert note...) rides on nearly every sheet: its JSON is made once; a
    # note naming the case or the value misses the cache and is encoded as before (long text never cached)
    if (path.__class__ is str and message.__class__ is str and code.__class__ is str
            and len(path) <= MAX_NOTE_TEXT and len(message) <= MAX_NOTE_TEXT and len(code) <= MAX_NOTE_TEXT):
        return _cached_issue_json(path, message, code)
    return _note_json({"path": _cut(path), "message": _cut(message), "code": _cut(code)})


@lru_cache(maxsize=64)
def _cached_issue_json(path: str, message: str, code: str) -> str:
    return _note_json({"path": path, "message": message, "code": code})


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {key: (to_db_time(v) if isinstance(v, datetime) else v) for key, v in data.items()}

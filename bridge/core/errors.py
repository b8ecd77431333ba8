"""Error vocabulary shared by the whole bridge.

Two sides, as in h11: an :class:`InboundError` is the peer's fault (bad bytes
from the LRM or the Hub) and carries the Hub error code that best describes it;
an :class:`OutboundError` is our own misuse (a message we were about to send is
not valid). Both carry a list of :class:`Issue` so that one rejection can name
every field at fault, not only the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class HubErrorCode(IntEnum):
    """Error codes of the Hub dispatcher (1xx-6xx) and of clients (7xx)."""

    DELIVERY_MODE_INCONSISTENCY = 100
    NOT_ALLOWED_CONTENT_TYPE = 101
    UNRECOGNIZED_MESSAGE_FORMAT = 102
    SENDER_INCONSISTENCY = 200
    INVALID_MESSAGE = 300
    SCHEMA_NOT_FOUND = 301
    EXPIRED_MESSAGE_BEFORE_ROUTING = 400
    DEAD_LETTER_QUEUED = 500
    UNROUTABLE_MESSAGE = 501
    MESSAGE_CONVERSION_ERROR = 600
    INTERNAL_CLIENT_ERROR = 700
    CASE_ALREADY_EXISTS = 701
    WRONG_MESSAGE_SEQUENCE = 702
    UNKNOWN_SENDER = 703
    INSUFFICIENT_DATA = 704


@dataclass(frozen=True, slots=True, init=False)
class Issue:
    """One problem found in a message.

    ``path`` is a JSON pointer (``/createCase/qualification``), an XPath
    (``/createCase/location``) or ``file:line`` for tables; ``code`` is a short
    machine-readable kind (``schema``, ``xml-syntax``, ``unmapped-code``...).

    The constructor is the dataclass's (same parameters, keywords and default); it stores the three
    fields through their slots' own descriptors instead of the frozen dataclass's generated
    ``object.__setattr__(self, name, value)`` per field (a decoder reports ~45 leaves per message:
    0.42 -> 0.27 µs each). Equality, hash, repr, ``dataclasses.replace``/``fields`` and the frozen
    ``__setattr__`` are the dataclass's, unchanged (tests/unit/test_issue_compat.py).
    """

    path: str
    message: str
    code: str = "invalid"

    def __init__(self, path: str, message: str, code: str = "invalid") -> None:
        _set_path(self, path)
        _set_message(self, message)
        _set_code(self, code)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


# the slots' descriptors (``slots=True`` makes a new class: taken from the class as finally built)
_set_path = vars(Issue)["path"].__set__
_set_message = vars(Issue)["message"].__set__
_set_code = vars(Issue)["code"].__set__


@dataclass(eq=False)
class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""

    message: str
    issues: list[Issue] = field(default_factory=list)
    hub_code: HubErrorCode = HubErrorCode.INTERNAL_CLIENT_ERROR

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        if not self.issues:
            return self.message
        lines = [self.message] + [f"  {issue}" for issue in self.issues]
        return "\n".join(lines)


class InboundError(BridgeError):
    """The bytes we received are at fault (malformed, hostile, invalid, unmappable)."""


class OutboundError(BridgeError):
    """What we were about to send is at fault: a bug or a mapping gap on our side."""


class MessageTooLarge(InboundError):
    """A document or frame exceeds a configured size limit."""


class UnsafeXml(InboundError):
    """XML that uses a DTD, an entity or another construct the hardened parser refuses."""


class UnknownMessageType(InboundError):
    """The root element or top-level key names no message type we know."""

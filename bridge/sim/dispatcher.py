"""The Hub dispatcher's checks, as a pure function: route a message or reject it.

Both Hub emulators (the real-RabbitMQ one and the in-process one) call
:func:`check` on every message a client publishes and either forward it
(:class:`Route`) or answer the sender with an RS-ERROR (:class:`Reject`,
rendered by :func:`build_error_message`). The checks run in the Hub's order,
so the code a client sees for a message with several faults is the one the
real Hub would give:

=====  ==========================================================
100    ``delivery_mode`` is not 2 (persistent)
101    ``content_type`` is neither JSON nor XML
102    the body does not parse as the announced format / is no EDXL-DE
300    schema validation of envelope and content failed
200    ``senderID`` differs from the routing key, or ``distributionID``
       does not start with ``{senderID}_``
400    ``dateTimeExpires`` is in the past
501    the recipient is not a known client
=====  ==========================================================

Sans-IO: the clock (``now``), the set of known clients and the schema
validator are passed in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import simplejson

from bridge.core.edxl import make_error, wrap
from bridge.core.errors import BridgeError, HubErrorCode, Issue
from bridge.core.xmlsafe import parse_xml

JSON_TYPE = "application/json"
XML_TYPE = "application/xml"
ALLOWED_CONTENT_TYPES = (JSON_TYPE, XML_TYPE)
PERSISTENT = 2
ERROR_TTL = timedelta(days=1)

Validator = Callable[[bytes], list[Issue]]


@dataclass(frozen=True, slots=True)
class Envelope:
    """The few EDXL-DE fields the dispatcher routes on."""

    distribution_id: str | None
    sender_id: str | None
    recipient_id: str | None
    expires: str | None
    payload_kind: str | None  # first use-case key of the message ("createCase", "reference"...)
    source: dict[str, Any] | None  # the parsed JSON message, quoted back in an RS-ERROR


@dataclass(frozen=True, slots=True)
class Route:
    """Forward ``body`` unchanged to ``recipient``'s ``queue_suffix`` queue."""

    recipient: str
    body: bytes
    queue_suffix: str  # "message", "ack" (RC-REF) or "info" (RS-ERROR from a client)
    distribution_id: str
    sender: str


@dataclass(frozen=True, slots=True)
class Reject:
    """Answer ``sender`` with an RS-ERROR carrying ``code``."""

    code: HubErrorCode
    reason: str
    referenced_distribution_id: str | None
    sender: str  # who gets the RS-ERROR: the routing key of the incoming message
    source_message: dict[str, Any] | None = None


def base_content_type(content_type: str | None) -> str | None:
    """``application/json; charset=utf-8`` -> ``application/json``."""
    return content_type.split(";", 1)[0].strip().lower() if content_type else None


def check(
    body: bytes,
    *,
    content_type: str | None,
    routing_key: str,
    delivery_mode: int | None,
    now: datetime,
    known_clients: Iterable[str],
    validate: Validator,
) -> Route | Reject:
    """Apply the Hub's checks in the Hub's order; the first failing one decides."""
    ctype = base_content_type(content_type)
    if delivery_mode != PERSISTENT:
        return Reject(HubErrorCode.DELIVERY_MODE_INCONSISTENCY,
                      f"delivery_mode must be 2 (persistent), got {delivery_mode}", None, routing_key)
    if ctype not in ALLOWED_CONTENT_TYPES:
        return Reject(HubErrorCode.NOT_ALLOWED_CONTENT_TYPE,
                      f"content_type must be {JSON_TYPE} or {XML_TYPE}, got {content_type!r}", None, routing_key)
    try:
        envelope = read_envelope(body, ctype)
    except (BridgeError, ValueError) as exc:
        return Reject(HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT,
                      f"body is not a readable EDXL-DE {ctype} message: {exc}", None, routing_key)
    return _check_envelope(body, envelope, routing_key, now, set(known_clients), validate)


def _check_envelope(
    body: bytes, envelope: Envelope, routing_key: str, now: datetime, known: set[str], validate: Validator,
) -> Route | Reject:
    def reject(code: HubErrorCode, reason: str) -> Reject:
        return Reject(code, reason, envelope.distribution_id, routing_key, envelope.source)

    try:
        issues = validate(body)
    except BridgeError as exc:  # a validator may raise instead of listing
        issues = exc.issues or [Issue("", exc.message, "invalid")]
    if issues:
        return reject(HubErrorCode.INVALID_MESSAGE, describe_issues(issues))
    if envelope.sender_id != routing_key:
        return reject(HubErrorCode.SENDER_INCONSISTENCY,
                      f"senderID {envelope.sender_id!r} differs from routing key {routing_key!r}")
    if not (envelope.distribution_id or "").startswith(f"{routing_key}_"):
        return reject(HubErrorCode.SENDER_INCONSISTENCY,
                      f"distributionID {envelope.distribution_id!r} does not start with {routing_key + '_'!r}")
    expired = _expired(envelope.expires, now)
    if expired:
        return reject(HubErrorCode.EXPIRED_MESSAGE_BEFORE_ROUTING, expired)
    if envelope.recipient_id not in known:
        return reject(HubErrorCode.UNROUTABLE_MESSAGE, f"unknown recipient {envelope.recipient_id!r}")
    return Route(envelope.recipient_id, body, queue_suffix(envelope.payload_kind),
                 envelope.distribution_id or "", routing_key)


def dead_letter_reject(body: bytes, *, content_type: str | None, reason: str, hub_id: str) -> Reject | None:
    """The 500 DEAD_LETTER_QUEUED report for a message that expired or was rejected in a client queue.

    Addressed to the envelope's sender; None when the sender cannot be read or
    is the Hub itself (an undeliverable RS-ERROR must not start a loop).
    """
    try:
        envelope = read_envelope(body, content_type)
    except (BridgeError, ValueError):
        return None
    if not envelope.sender_id or envelope.sender_id == hub_id:
        return None
    return Reject(HubErrorCode.DEAD_LETTER_QUEUED, reason, envelope.distribution_id, envelope.sender_id,
                  envelope.source)


def describe_issues(issues: list[Issue], *, limit: int = 20, width: int = 300) -> str:
    """The RS-ERROR ``errorCause`` for schema issues: each named by its path, bounded in size."""
    parts = [str(issue) if len(str(issue)) <= width else str(issue)[: width - 1] + "…" for issue in issues[:limit]]
    more = f"; and {len(issues) - limit} more" if len(issues) > limit else ""
    return f"{len(issues)} schema error(s): " + "; ".join(parts) + more


def queue_suffix(payload_kind: str | None) -> str:
    """Which of the recipient's three queues a payload goes to."""
    return {"reference": "ack", "error": "info"}.get(payload_kind or "", "message")


def _expired(expires: str | None, now: datetime) -> str | None:
    if not expires:
        return None  # a missing date is the schema's business (300), not ours
    try:
        moment = datetime.fromisoformat(expires)
    except ValueError:
        return f"dateTimeExpires {expires!r} is not a date-time"
    if moment.tzinfo is None:
        return f"dateTimeExpires {expires!r} has no UTC offset"
    return f"dateTimeExpires {expires} is before {now.isoformat(timespec='seconds')}" if moment <= now else None


# --------------------------------------------------------------------------- reading

RC_DE_KEYS = frozenset({"messageId", "sender", "sentAt", "kind", "status", "recipient"})


def read_envelope(body: bytes, content_type: str | None) -> Envelope:
    """Extract the routing fields from a JSON or XML EDXL-DE message; ``ValueError`` if it is none."""
    if base_content_type(content_type) == XML_TYPE:
        return _read_xml(body)
    return _read_json(body)


def _read_json(body: bytes) -> Envelope:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"invalid JSON: {exc}") from exc
    if not isinstance(document, dict) or "distributionID" not in document and "senderID" not in document:
        raise ValueError("no EDXL-DE envelope (distributionID/senderID) at the top level")
    address = (document.get("descriptor") or {}).get("explicitAddress") or {}
    if isinstance(address, list):
        address = address[0] if address else {}
    message = _json_message(document.get("content"))
    return Envelope(
        distribution_id=_text(document.get("distributionID")),
        sender_id=_text(document.get("senderID")),
        recipient_id=_text(address.get("explicitAddressValue")) if isinstance(address, dict) else None,
        expires=_text(document.get("dateTimeExpires")),
        payload_kind=next((key for key in message if key not in RC_DE_KEYS), None) if message else None,
        source=document,
    )


def _json_message(content: Any) -> dict[str, Any] | None:
    if isinstance(content, list):
        content = content[0] if content else None
    if not isinstance(content, dict):
        return None
    holder = content.get("contentObject", content)
    message = ((holder.get("jsonContent") or {}).get("embeddedJsonContent") or {}).get("message")
    return message if isinstance(message, dict) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _read_xml(body: bytes) -> Envelope:
    root = parse_xml(body)
    if _local(root.tag) != "edxlDistribution":
        raise ValueError(f"root element is {_local(root.tag)!r}, not edxlDistribution")

    def first(xpath: str) -> str | None:
        found = root.xpath(xpath)
        return str(found[0]).strip() if found else None

    message = root.xpath("./*[local-name()='content']//*[local-name()='embeddedXMLContent']/*[local-name()='message']")
    kinds = [_local(child.tag) for child in message[0]] if message else []
    return Envelope(
        distribution_id=first("./*[local-name()='distributionID']/text()"),
        sender_id=first("./*[local-name()='senderID']/text()"),
        recipient_id=first("./*[local-name()='descriptor']/*[local-name()='explicitAddress']"
                           "/*[local-name()='explicitAddressValue']/text()"),
        expires=first("./*[local-name()='dateTimeExpires']/text()"),
        payload_kind=next((kind for kind in kinds if kind not in RC_DE_KEYS), None),
        source=None,
    )


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


# --------------------------------------------------------------------------- RS-ERROR

def build_error_message(
    reject: Reject, *, hub_id: str, message_uuid: str, now: datetime, status: str = "Actual",
) -> dict[str, Any]:
    """A complete EDXL-DE message carrying the RS-ERROR, addressed to ``reject.sender``.

    Built with the models' :func:`~bridge.core.edxl.wrap` and
    :func:`~bridge.core.edxl.make_error`, so it is exactly what the bridge
    itself accepts: an ``error`` payload without RC-DE header, as the Hub sends it.
    """
    payload = make_error(reject.code, reject.reason, reject.source_message, reject.referenced_distribution_id or "")
    return wrap("error", payload, sender_id=hub_id, recipient_id=reject.sender, now=now,
                message_uuid=message_uuid, kind="Error", status=status, ttl=ERROR_TTL)


def encode_json(message: dict[str, Any]) -> bytes:
    """UTF-8 JSON bytes of a message dict; ``Decimal`` numbers keep their exact text."""
    return simplejson.dumps(message, ensure_ascii=False, use_decimal=True).encode("utf-8")

"""Wrap a payload into a full EDXL-DE message and unwrap one (sans-IO: clock and IDs passed in).

A Hub message is an EDXL-DE envelope whose single content object carries a
``message`` dict: the RC-DE header fields and exactly one payload key
(``createCase``, ``emsi``, ``reference``, ``error``...). ``wrap`` builds that
dict from a payload; ``unwrap`` checks it and splits it back into parts, with
every problem reported as an :class:`Issue` at its JSON pointer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ValidationError

from bridge.core.errors import BridgeError, HubErrorCode, InboundError, Issue, OutboundError
from bridge.core.models import (
    HEADER_MODEL,
    PAYLOAD_MODELS,
    DistributionElement,
    EdxlDistribution,
    Error,
    HubModel,
    Reference,
    validate_model,
)
from bridge.core.models.types import format_hub_datetime
from bridge.core.verdict import accepts, compiled

ADDRESS_SCHEME = "hubex"
MESSAGE_POINTER = "/content/0/jsonContent/embeddedJsonContent/message"
HEADER_KEYS = frozenset(field.alias or name for name, field in HEADER_MODEL.model_fields.items())
HEADERLESS_PAYLOADS = frozenset({"error", "technicalNoreq", "customContent"})
"""Payloads that travel without RC-DE header: the XSDs allow them only in ``EDXL-DE-full-no-header.xsd``
(an XML ``error`` next to header fields is invalid against both envelope XSDs)."""
PAYLOAD_ROOTS = frozenset({
    "technical", "technicalNoreq", "distributionElement", "createCase", "createCaseHealth",
    "createCaseHealthUpdate", "reference", "emsi", "resourcesInfo", "resourcesInfoCisu", "resourcesEngagement",
    "resourcesStatus", "resourcesRequest", "resourcesResponse", "rpis", "interventionReport", "documentLink",
    "geoPositionsUpdate", "geoResourcesRequest", "geoResourcesDetails", "appointment", "customContent", "error",
})
"""Every payload key the Hub's envelope schema knows, modelled here or not."""


@dataclass(frozen=True, slots=True)
class Unwrapped:
    """The parts of a received message.

    ``payload`` is the payload dict exactly as received (validated against its model when
    there is one), so forwarding it changes nothing. ``header_fields`` are the RC-DE header's
    fields as received (None for a header-less payload sent without them), checked;
    ``header_sender`` and ``header_recipients`` the client IDs its sender and recipient URIs
    name (``hubex:`` removed). The models themselves (:attr:`header`, :attr:`payload_model`)
    are built on demand: the bridge reads what it needs from the checked dicts.
    """

    distribution_id: str
    sender_id: str
    recipient_id: str
    kind: str
    status: str
    sent_at: datetime
    expires_at: datetime
    header_fields: Mapping[str, Any] | None
    header_sender: str | None
    header_recipients: tuple[str, ...]
    payload_name: str
    payload: dict[str, Any]

    @property
    def header(self) -> DistributionElement | None:
        """The RC-DE header's model (built from the checked fields each time it is asked for)."""
        if self.header_fields is None:
            return None
        return validate_model(HEADER_MODEL, self.header_fields, MESSAGE_POINTER)

    @property
    def payload_model(self) -> HubModel | None:
        """The payload's model (built from the checked payload each time), None for a type the bridge has none for."""
        model = PAYLOAD_MODELS.get(self.payload_name)
        return None if model is None else validate_model(model, self.payload, f"{MESSAGE_POINTER}/{self.payload_name}")


def distribution_id_for(sender_id: str, message_uuid: UUID | str) -> str:
    """``{senderID}_{uuid}``: the form the Hub dispatcher checks (prefix = sender)."""
    if message_uuid.__class__ is str and _CANONICAL_UUID.fullmatch(message_uuid):
        return f"{sender_id}_{message_uuid}"  # already str(UUID(text)): lowercase, hyphenated (a regex, not a parse)
    try:
        text = str(message_uuid if isinstance(message_uuid, UUID) else UUID(str(message_uuid)))
    except ValueError:
        raise OutboundError(f"message UUID {message_uuid!r} is not a UUID",
                            [Issue("/distributionID", "not a UUID", "invalid-id")]) from None
    return f"{sender_id}_{text}"


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)


def _hub_text(value: datetime) -> str:
    """:func:`format_hub_datetime` of a whole-second aware datetime; ``isoformat`` is that text when the offset
    has no seconds (25 characters), else the models' function says why it is refused."""
    text = value.isoformat(timespec="seconds")
    return text if len(text) == 25 else format_hub_datetime(value)


def wrap(
    payload_name: str,
    payload: Mapping[str, Any] | BaseModel,
    *,
    sender_id: str,
    recipient_id: str,
    now: datetime,
    message_uuid: UUID | str,
    kind: str = "Report",
    status: str = "Actual",
    ttl: timedelta = timedelta(days=1),
    sender_name: str | None = None,
    recipient_name: str | None = None,
    language: str = "fr-FR",
    with_header: bool | None = None,
    as_built: bool = False,
) -> dict[str, Any]:
    """The full EDXL-DE dict carrying ``payload`` from ``sender_id`` to ``recipient_id``.

    ``now`` must be timezone-aware (it is truncated to the second); the message
    expires at ``now + ttl``. Payloads the bridge has a model for are validated
    and an invalid one raises :class:`OutboundError` naming each field.
    ``with_header`` defaults to the Hub's rule: an RC-DE header for every
    payload except the header-less ones (``error``...).

    ``as_built``: the payload dict is in the canonical form the bridge's encoders write
    (JSON keys, strict date text, exact numbers, no ``None``): it is checked by its model
    all the same, then carried as it is instead of as the model's dump of it (see
    :func:`checked_payload`).
    """
    if now.utcoffset() is None:
        raise OutboundError("wrap() needs a timezone-aware 'now'", [Issue("/dateTimeSent", "naive datetime", "datetime")])
    now = now.replace(microsecond=0)
    distribution_id = distribution_id_for(sender_id, message_uuid)
    content = checked_payload(payload_name, payload) if as_built else _payload_dict(payload_name, payload)
    if with_header is None:
        with_header = payload_name not in HEADERLESS_PAYLOADS
    try:
        sent, expires = _hub_text(now), _hub_text(now + ttl)
    except (ValueError, OverflowError):  # the models say why, at the field's pointer
        return _wrap_validated(payload_name, content, distribution_id, sender_id, recipient_id, now, kind, status,
                               ttl, sender_name, recipient_name, language, with_header)
    envelope, head = _addressing(sender_id, recipient_id, kind, status, language, sender_name, recipient_name)
    return _filled(envelope, head if with_header else None, distribution_id, sent, expires, payload_name, content)


def _filled(envelope: dict[str, Any], head: dict[str, Any] | None, distribution_id: str, sent: str, expires: str,
            payload_name: str, content: Any) -> dict[str, Any]:
    """The validated template with this message's id and dates (new dicts: a template is never shared); a UUID
    and a strict date never change the verdict of the models (tests/unit/test_envelope.py checks both paths
    give the same dict)."""
    message = {**envelope, "distributionID": distribution_id, "dateTimeSent": sent, "dateTimeExpires": expires,
               "descriptor": {**envelope["descriptor"],
                              "explicitAddress": dict(envelope["descriptor"]["explicitAddress"])}}
    header = {} if head is None else {**head, "messageId": distribution_id, "sentAt": sent,
                                      "sender": dict(head["sender"]), "recipient": [dict(r) for r in head["recipient"]]}
    message["content"] = [{"jsonContent": {"embeddedJsonContent": {"message": {**header, payload_name: content}}}}]
    return message


def wrap_json(
    payload_name: str,
    payload: Mapping[str, Any] | BaseModel,
    *,
    sender_id: str,
    recipient_id: str,
    now: datetime,
    message_uuid: UUID | str,
    dumps: Callable[[Any], bytes],
    kind: str = "Report",
    status: str = "Actual",
    ttl: timedelta = timedelta(days=1),
    sender_name: str | None = None,
    recipient_name: str | None = None,
    language: str = "fr-FR",
    with_header: bool | None = None,
) -> bytes:
    """``dumps(wrap(..., as_built=True))``, byte for byte, with the envelope written by ``dumps`` once per addressing.

    ``dumps`` is the JSON writer of the wire (``bridge.refdata.hub_bodies.dumps_hub``). The envelope and
    RC-DE header of a message differ from one message to the next only by the UUID of the distributionID
    and the two dates; their JSON is written once per sender, recipient, kind and payload type (with
    marks in those places), and each message fills in its UUID, its dates and ``dumps(payload)``. The
    same checks as :func:`wrap`, in the same order, with the same errors (its payload check is
    :func:`checked_payload`); whatever this path cannot fill in (a date the isoformat shortcut does not
    write, an addressing whose JSON the marks cannot be found in) takes ``dumps(wrap(...))``.
    tests/unit/test_wrap_json.py compares both on every payload of the golden and official corpora.
    """
    def whole() -> bytes:
        return dumps(wrap(payload_name, payload, sender_id=sender_id, recipient_id=recipient_id, now=now,
                          message_uuid=message_uuid, kind=kind, status=status, ttl=ttl, sender_name=sender_name,
                          recipient_name=recipient_name, language=language, with_header=with_header, as_built=True))

    if now.utcoffset() is None:
        return whole()  # raises as wrap() does
    now = now.replace(microsecond=0)
    distribution_id = distribution_id_for(sender_id, message_uuid)
    content = checked_payload(payload_name, payload)
    if with_header is None:
        with_header = payload_name not in HEADERLESS_PAYLOADS
    try:
        dates = _dates_text(now, now.tzinfo, ttl)
    except TypeError:  # a zone object that cannot be a cache key: made for this message alone
        dates = _dates_text.__wrapped__(now, now.tzinfo, ttl)
    if dates is None:  # wrap() names the date problems with the addressing's (the template would name only those)
        return whole()
    template = _json_template(dumps, sender_id, recipient_id, kind, status, language, sender_name, recipient_name,
                              payload_name, with_header)
    if template is None:
        return whole()
    sent, expires = dates
    uuid_text, body = distribution_id[len(sender_id) + 1:].encode(), dumps(content)
    if with_header:
        p0, p1, p2, p3, p4, p5, p6 = template
        return b"".join((p0, uuid_text, p1, sent, p2, expires, p3, uuid_text, p4, sent, p5, body, p6))
    p0, p1, p2, p3, p4 = template
    return b"".join((p0, uuid_text, p1, sent, p2, expires, p3, body, p4))


@lru_cache(maxsize=8)
def _dates_text(now: datetime, zone: Any, ttl: timedelta) -> tuple[bytes, bytes] | None:
    """The strict text of ``now`` and ``now + ttl`` (``now`` whole seconds), None where :func:`_hub_text` refuses.

    Messages sent in the same second share it. The key holds the zone object: two equal instants
    (``==`` compares instants) in one zone have the same wall time and offset, hence the same text,
    also after adding ``ttl`` (a zone with summer time may change offset on the way).
    """
    try:
        return _hub_text(now).encode(), _hub_text(now + ttl).encode()
    except (ValueError, OverflowError):
        return None


_MARKS = ("\x00hub-uuid\x00", "\x00hub-sent\x00", "\x00hub-expires\x00", "\x00hub-payload\x00")
"""Where :func:`wrap_json` fills in the UUID, the two dates and the payload (as ``dumps`` writes them)."""
_PLAIN_VALUE = "0123456789abcdef-T:+"  # every character of a canonical UUID and of a strict date


@lru_cache(maxsize=64)
def _json_template(dumps: Callable[[Any], bytes], sender_id: str, recipient_id: str, kind: str, status: str,
                   language: str, sender_name: str | None, recipient_name: str | None, payload_name: str,
                   with_header: bool) -> tuple[bytes, ...] | None:
    """The JSON of a message between these clients, cut at the marks: the pieces between them.

    ``None`` when ``dumps`` does not write a UUID or a date as it is, or when a mark is not found
    exactly where :func:`_filled` puts it (a name that holds one): the caller writes the whole message.
    An addressing the models refuse raises here (errors are not cached), as in :func:`wrap`.
    """
    envelope, head = _addressing(sender_id, recipient_id, kind, status, language, sender_name, recipient_name)
    if dumps(_PLAIN_VALUE) != f'"{_PLAIN_VALUE}"'.encode():
        return None
    uuid_mark, sent_mark, expires_mark, payload_mark = _MARKS
    text = dumps(_filled(envelope, head if with_header else None, f"{sender_id}_{uuid_mark}", sent_mark,
                         expires_mark, payload_name, payload_mark))
    written = [dumps(mark) for mark in _MARKS]
    # a date or UUID is inside a JSON string (its quotes are the template's); the payload replaces a whole value
    found = [written[3], *(mark[1:-1] for mark in written[:3])]
    pieces = re.split(b"(" + b"|".join(re.escape(mark) for mark in found) + b")", text)
    slots = tuple({found[0]: 3, found[1]: 0, found[2]: 1, found[3]: 2}[mark] for mark in pieces[1::2])
    # the order wrap_json fills in: envelope id, sent, expires, [header id, sent,] payload
    if slots != ((0, 1, 2, 0, 1, 3) if with_header else (0, 1, 2, 3)):
        return None
    return tuple(pieces[0::2])


_SAMPLE_UUID = "00000000-0000-4000-8000-000000000000"
_SAMPLE_TIME = datetime(2000, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=64)
def _addressing(sender_id: str, recipient_id: str, kind: str, status: str, language: str,
                sender_name: str | None, recipient_name: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The envelope and RC-DE header of a message between these two clients, validated by the models once.

    What varies per message (the distributionID, made of the sender and a UUID, and the
    dates) is filled in by :func:`wrap`; everything the models check about the rest is
    checked here, and an invalid sender or kind raises here on every call (errors are not cached).
    """
    message = _wrap_validated("customContent", {}, distribution_id_for(sender_id, _SAMPLE_UUID), sender_id,
                              recipient_id, _SAMPLE_TIME, kind, status, timedelta(days=1), sender_name,
                              recipient_name, language, with_header=True)
    head = dict(message["content"][0]["jsonContent"]["embeddedJsonContent"]["message"])
    del head["customContent"]
    return message, head


def _wrap_validated(payload_name: str, content: dict[str, Any], distribution_id: str, sender_id: str,
                    recipient_id: str, now: datetime, kind: str, status: str, ttl: timedelta,
                    sender_name: str | None, recipient_name: str | None, language: str,
                    with_header: bool) -> dict[str, Any]:
    """The envelope and header built through their models, every field checked (the reference path)."""
    header = validate_model(HEADER_MODEL, {
        "messageId": distribution_id,
        "sender": {"name": sender_name or sender_id, "URI": f"{ADDRESS_SCHEME}:{sender_id}"},
        "sentAt": now,
        "kind": kind,
        "status": status,
        "recipient": [{"name": recipient_name or recipient_id, "URI": f"{ADDRESS_SCHEME}:{recipient_id}"}],
    }, MESSAGE_POINTER, error=OutboundError)
    envelope = validate_model(EdxlDistribution, {
        "distributionID": distribution_id,
        "senderID": sender_id,
        "dateTimeSent": now,
        "dateTimeExpires": now + ttl,
        "distributionStatus": status,
        "distributionKind": kind,
        "descriptor": {
            "language": language,
            "explicitAddress": {"explicitAddressScheme": ADDRESS_SCHEME, "explicitAddressValue": recipient_id},
        },
        "content": [{"jsonContent": {"embeddedJsonContent": {"message": {}}}}],
    }, "", error=OutboundError)
    message = envelope.to_hub()
    head = header.to_hub() if with_header else {}
    message["content"][0]["jsonContent"]["embeddedJsonContent"]["message"] = {**head, payload_name: content}
    return message


def unwrap(message: Mapping[str, Any]) -> Unwrapped:
    """Check a received EDXL-DE dict and split it into envelope facts, header and payload.

    Raises :class:`InboundError` listing every problem found in the envelope,
    the RC-DE header and the payload together, as the Hub dispatcher does.

    The envelope, the header and the payload are checked by their models' compiled verdicts
    (:mod:`bridge.core.verdict`: the same checks, no model built); a message any of them
    refuses is checked again by the models themselves, which name every problem.
    """
    return _accepted(message) or _explained(message)


def _accepted(message: Mapping[str, Any]) -> Unwrapped | None:
    """The parts of a message every compiled verdict accepts, read from their checked values; None otherwise."""
    envelope_check, header_check = compiled(EdxlDistribution), compiled(HEADER_MODEL)
    if envelope_check is None or header_check is None:
        return None
    try:
        envelope = envelope_check.validate_python(message)
    except ValidationError:
        return None
    body = _raw_message(message)
    if body is None:
        return None
    names = [key for key in body if key in PAYLOAD_ROOTS]
    if len(names) != 1:
        return None
    payload_name = names[0]
    fields = {key: value for key, value in body.items() if key not in PAYLOAD_ROOTS}
    payload, model = body[payload_name], PAYLOAD_MODELS.get(payload_name)
    try:
        if model is None:
            if not isinstance(payload, Mapping):
                return None
        elif not accepts(model, payload):  # refused, or no compiled verdict for it: the models say
            return None
        header = None if not fields and payload_name in HEADERLESS_PAYLOADS else header_check.validate_python(fields)
    except ValidationError:
        return None
    return Unwrapped(
        distribution_id=envelope["distribution_id"],
        sender_id=envelope["sender_id"],
        recipient_id=envelope["descriptor"]["explicit_address"]["explicit_address_value"],
        kind=envelope["distribution_kind"],
        status=envelope["distribution_status"],
        sent_at=envelope["date_time_sent"],
        expires_at=envelope["date_time_expires"],
        header_fields=None if header is None else fields,
        header_sender=None if header is None else header["sender"]["uri"].removeprefix(f"{ADDRESS_SCHEME}:"),
        header_recipients=() if header is None else tuple(r["uri"].removeprefix(f"{ADDRESS_SCHEME}:")
                                                           for r in header["recipient"]),
        payload_name=payload_name,
        # As received (byte-exact strings, e.g. "-00:00" kept) and not copied: a deep copy cost
        # half a millisecond per message on the hot path; callers build new dicts, never mutate.
        payload=payload,
    )


def _explained(message: Mapping[str, Any]) -> Unwrapped:
    """:func:`unwrap` through the models: every problem of the envelope, the header and the payload named."""
    issues: list[Issue] = []
    try:
        envelope = validate_model(EdxlDistribution, message, "")
    except InboundError as exc:
        envelope, issues = None, list(exc.issues)
    body = _raw_message(message)
    if body is None:
        if envelope is not None:  # valid envelope but not exactly one content object
            issues.append(Issue("/content", f"{len(envelope.content)} content objects, the Hub carries one",
                                "content-count"))
        raise _invalid(issues)
    try:
        payload_name = _payload_name(body)
    except InboundError as exc:
        raise _invalid(issues + exc.issues) from None
    header, header_issues = _checked_header(body, payload_name)
    _, payload_issues = _checked_payload(body, payload_name)
    issues += header_issues + payload_issues
    if issues or envelope is None:
        raise _invalid(issues, payload_name)
    # a model without compiled verdict (tests/unit/test_verdict.py: none today), or the models accepting what a
    # verdict refused (the same test: never)
    return Unwrapped(
        distribution_id=envelope.distribution_id,
        sender_id=envelope.sender_id,
        recipient_id=envelope.descriptor.explicit_address.explicit_address_value,
        kind=envelope.distribution_kind,
        status=envelope.distribution_status,
        sent_at=envelope.date_time_sent,
        expires_at=envelope.date_time_expires,
        header_fields=None if header is None else {k: v for k, v in body.items() if k not in PAYLOAD_ROOTS},
        header_sender=None if header is None else header.sender.uri.removeprefix(f"{ADDRESS_SCHEME}:"),
        header_recipients=() if header is None else tuple(r.uri.removeprefix(f"{ADDRESS_SCHEME}:")
                                                           for r in header.recipient),
        payload_name=payload_name,
        payload=body[payload_name],
    )


def make_reference(distribution_id: str, *, refused: bool | None = None,
                   error_distribution_id: str | None = None, step: str | None = None) -> dict[str, Any]:
    """RC-REF payload acknowledging the message ``distribution_id`` (end-to-end "final reception")."""
    data = {"distributionID": distribution_id, "refused": refused,
            "errorDistributionID": error_distribution_id, "step": step}
    return validate_model(Reference, {k: v for k, v in data.items() if v is not None}, "/reference",
                          error=OutboundError).to_hub()


def make_error(code: HubErrorCode, reason: str, source_message: Mapping[str, Any] | None,
               referenced_distribution_id: str) -> dict[str, Any]:
    """RS-ERROR payload: ``code`` (number and name), the cause, the offending message if it parsed."""
    data: dict[str, Any] = {
        "errorCode": {"statusCode": int(code), "statusString": code.name},
        "errorCause": reason,
        "referencedDistributionID": referenced_distribution_id,
    }
    if source_message is not None:
        data["sourceMessage"] = dict(source_message) if isinstance(source_message, Mapping) else source_message
    return validate_model(Error, data, "/error", error=OutboundError).to_hub()


def checked_payload(payload_name: str, payload: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    """``payload`` checked by its model (an invalid one raises :class:`OutboundError` as :func:`wrap` does), as given.

    For the dicts the bridge's own encoders build: those are already in the form the
    model writes, so the model's dump of them (a third of the wrap step's CPU) would
    give the same dict back; tests/unit/test_wrap_as_built.py checks that on every payload
    the pipeline builds from the golden and official corpora. The check is the model's schema
    compiled without building the model (:func:`bridge.core.verdict.accepts`); a payload it
    refuses goes through the model itself, whose errors are raised. The dict is not copied:
    callers do not mutate it once wrapped. Anything else (a model, a payload type
    without a model) takes the :func:`wrap` path unchanged.
    """
    model = PAYLOAD_MODELS.get(payload_name)
    if model is None or not isinstance(payload, dict):
        return _payload_dict(payload_name, payload)
    if not accepts(model, payload):  # refused (or not compiled): the model decides and names each field
        validate_model(model, payload, f"/{payload_name}", error=OutboundError)
    return payload


def _payload_dict(payload_name: str, payload: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    if isinstance(payload, HubModel):
        return payload.to_hub()
    if isinstance(payload, BaseModel):
        return payload.model_dump(by_alias=True, exclude_none=True)
    if payload_name in PAYLOAD_MODELS:
        return validate_model(PAYLOAD_MODELS[payload_name], payload, f"/{payload_name}", error=OutboundError).to_hub()
    if not isinstance(payload, Mapping):
        raise OutboundError(f"payload {payload_name!r} must be a dict or a model",
                            [Issue(f"/{payload_name}", f"got {type(payload).__name__}", "wrong-type")])
    return dict(payload)


def _payload_name(body: Mapping[str, Any]) -> str:
    names = [key for key in body if key in PAYLOAD_ROOTS]
    if len(names) == 1:
        return names[0]
    message = "no known payload next to the RC-DE header" if not names else f"several payloads: {', '.join(names)}"
    raise InboundError(message, [Issue(MESSAGE_POINTER, message, "payload-count")], HubErrorCode.SCHEMA_NOT_FOUND)


def _raw_message(message: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``message`` dict of the single content object, if the structure leads to one."""
    content = message.get("content") if _is_mapping(message) else None
    if not isinstance(content, list) or len(content) != 1:
        return None
    node: Any = content[0]
    for key in ("jsonContent", "embeddedJsonContent", "message"):
        node = node.get(key) if _is_mapping(node) else None
    return node if _is_mapping(node) else None


def _is_mapping(value: object) -> bool:
    # a JSON document's objects are dicts: the exact class first (an ABC isinstance check costs ten times more)
    return value.__class__ is dict or isinstance(value, Mapping)


def _invalid(issues: list[Issue], payload_name: str | None = None) -> InboundError:
    only_payload_count = bool(issues) and all(issue.code == "payload-count" for issue in issues)
    code = HubErrorCode.SCHEMA_NOT_FOUND if only_payload_count else HubErrorCode.INVALID_MESSAGE
    what = f"{payload_name} message" if payload_name else "message"
    return InboundError(f"invalid {what}: {len(issues)} problem(s)", issues, code)


def _checked_payload(body: Mapping[str, Any], payload_name: str) -> tuple[HubModel | None, list[Issue]]:
    model = PAYLOAD_MODELS.get(payload_name)
    if model is None:
        if isinstance(body[payload_name], Mapping):
            return None, []
        return None, [Issue(f"{MESSAGE_POINTER}/{payload_name}", "payload must be an object", "wrong-type")]
    try:
        return validate_model(model, body[payload_name], f"{MESSAGE_POINTER}/{payload_name}"), []
    except BridgeError as exc:
        return None, list(exc.issues)


def _checked_header(body: Mapping[str, Any], payload_name: str) -> tuple[DistributionElement | None, list[Issue]]:
    fields = {key: value for key, value in body.items() if key not in PAYLOAD_ROOTS}
    if not fields and payload_name in HEADERLESS_PAYLOADS:
        return None, []
    try:
        return validate_model(HEADER_MODEL, fields, MESSAGE_POINTER), []
    except BridgeError as exc:
        return None, list(exc.issues)


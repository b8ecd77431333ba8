"""One generic adapter for every Hub payload (RC-EDA ``createCase``, EMSI, ...), JSON or XML.

A Hub payload kind is described once by a :class:`PayloadKind`: its payload key, a
readable name, the top-level fields its official schema requires, a decoder (payload dict
-> :class:`Decoded`) and an encoder (tracked case -> payload dict and warnings). The JSON
and XML adapters of that kind are then two one-line classes (:func:`adapter_class`), so
the next Hub payload is a few lines.

What the generic part does for every kind, so no decoder has to:

* **strict input**: the bytes must be this kind's message (``{"createCase": {...}}``, its
  XML root, or a full EDXL-DE message whose single payload is of this kind, which is then
  unwrapped); anything else is refused with code ``wrong-kind`` naming what was expected
  and what was found. The schema's required fields are checked, and the whole payload is
  validated against the official schema when a bundle is installed (through the codec).
* **dropped fields, both ways**: decoders read through a :class:`Reader` (leftover leaves
  are dropped); encoders read the case through a :class:`Tracked` view, or mark what they
  read themselves (``encode_marked``, the createCase encoder: its marks are tested to be the
  view's), and every held canonical field they did not read is reported (``consumed.unread``).
* **shape net**: a payload of an unexpected shape is an ``INVALID_MESSAGE`` refusal naming
  the payload, never a Python traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from bridge.core.adapters.base import (
    Adapter,
    AdapterContext,
    Decoded,
    Encoded,
    HubXmlCodec,
)
from bridge.core.adapters.consumed import Tracked, unread
from bridge.core.adapters.hubjson import dump_document, load_document
from bridge.core.canonical import Case
from bridge.core.edxl import PAYLOAD_ROOTS
from bridge.core.errors import BridgeError, HubErrorCode, InboundError, Issue

Syntax = Literal["json", "xml"]
WRONG_KIND = "wrong-kind"
EDXL_PATH = "/content/0/jsonContent/embeddedJsonContent/message"
ENVELOPE_KEYS = ("distributionID", "senderID", "content")


@dataclass(frozen=True)
class PayloadKind:
    """What the generic adapter needs to know about one Hub payload."""

    payload: str  # the payload key: createCase, emsi...
    title: str  # what a user calls it: "RC-EDA createCase"
    required: tuple[str, ...]  # top-level fields the official schema requires
    decode: Callable[[dict[str, Any], AdapterContext], Decoded]
    # (tracked case, ctx) -> payload, warnings
    encode: Callable[[Any, AdapterContext], tuple[dict[str, Any], list[Issue]]]
    drop_reason: str = "no field of the target payload carries it"
    model_side: str = "cisu"  # "health" for the 15-15 messages (RS-*): the pipeline writes those for a health partner
    # (plain case, ctx, used) -> payload, warnings: the same encoder marking its reads in ``used`` itself, so the
    # hot path needs no read-through view (``encode`` stays the same code run on a Tracked view; tests compare them)
    encode_marked: Callable[[Case, AdapterContext, set[str]], tuple[dict[str, Any], list[Issue]]] | None = None


@dataclass(frozen=True)
class Unpacked:
    """The payload dict of an input, and the envelope it came in (None for a bare payload message)."""

    payload: dict[str, Any]
    envelope: Mapping[str, Any] | None = None


def require_codec(ctx: AdapterContext, adapter: str) -> HubXmlCodec:
    """The Hub XML codec of the context, or a clear error saying it is missing."""
    if ctx.codec is None:
        raise BridgeError(f"adapter {adapter} needs the Hub XML codec in its context",
                          [Issue("codec", "no codec configured (official schemas not installed?)", "no-codec")])
    return ctx.codec


def wrong_kind(kind: PayloadKind, found: str, path: str = "/") -> InboundError:
    """The refusal of an input that is not ``kind``'s message."""
    return InboundError(f"expected {kind.title} (a {kind.payload!r} payload or a full EDXL-DE message "
                        f"carrying one), found {found}",
                        [Issue(path, f"expected {kind.payload!r}, found {found}", WRONG_KIND)],
                        HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT)


def _describe(document: object) -> str:
    if not isinstance(document, dict):
        return f"a JSON {type(document).__name__}"
    keys = list(document)
    if not keys:
        return "an empty object"
    shown = ", ".join(repr(k) for k in keys[:4]) + (", ..." if len(keys) > 4 else "")
    return f"an object with keys {shown}"


def unpack(document: object, kind: PayloadKind) -> Unpacked:
    """The ``kind`` payload of a parsed document: ``{payload: {...}}`` or a full EDXL-DE message."""
    if isinstance(document, dict) and all(key in document for key in ENVELOPE_KEYS):
        message = _message_of(document)
        if message is None:
            raise wrong_kind(kind, "an EDXL-DE message without exactly one embedded JSON message", "/content")
        payloads = [k for k in message if k in PAYLOAD_ROOTS]
        if kind.payload not in message:
            raise wrong_kind(kind, f"an EDXL-DE message carrying {', '.join(map(repr, payloads)) or 'no payload'}",
                             EDXL_PATH)
        return Unpacked(_object(message[kind.payload], kind, f"{EDXL_PATH}/{kind.payload}"), document)
    if isinstance(document, dict) and kind.payload in document:
        others = [k for k in document if k != kind.payload]
        if others:
            raise wrong_kind(kind, f"{kind.payload!r} next to {', '.join(map(repr, others))}", f"/{others[0]}")
        return Unpacked(_object(document[kind.payload], kind, f"/{kind.payload}"))
    raise wrong_kind(kind, _describe(document))


def _object(value: object, kind: PayloadKind, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InboundError(f"{kind.title}: the {kind.payload!r} payload is not an object",
                           [Issue(path, f"a JSON {type(value).__name__}, not an object", "invalid")],
                           HubErrorCode.INVALID_MESSAGE)
    return value


def _message_of(document: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        content = document["content"]
        if not isinstance(content, list) or len(content) != 1:
            return None
        message = content[0]["jsonContent"]["embeddedJsonContent"]["message"]
    except (KeyError, TypeError, IndexError):
        return None
    return message if isinstance(message, dict) else None


def check_required(payload: dict[str, Any], kind: PayloadKind) -> None:
    """Refuse a payload missing a field its official schema requires (named, with the kind)."""
    missing = [name for name in kind.required if payload.get(name) is None]  # present, as the schema asks
    if missing:
        raise InboundError(f"{kind.title} is missing required field(s) {', '.join(missing)}",
                           [Issue(f"/{kind.payload}/{name}", f"required by the {kind.title} schema", "missing-field")
                            for name in missing], HubErrorCode.INVALID_MESSAGE)


def check_schema(payload: dict[str, Any], kind: PayloadKind, ctx: AdapterContext) -> None:
    """Validate against the official schema when the context's codec can (a bundle is installed)."""
    check = getattr(ctx.codec, "payload_issues", None)
    if check is None:
        return
    issues = check(kind.payload, payload)
    if issues:
        raise InboundError(f"{kind.title} does not validate against the official schema ({len(issues)} error(s))",
                           issues, HubErrorCode.INVALID_MESSAGE)


def decode_payload(payload: object, kind: PayloadKind, ctx: AdapterContext) -> Decoded:
    """Run ``kind``'s decoder on a payload dict; a wrong shape is refused (INVALID_MESSAGE), never a crash."""
    payload = _object(payload, kind, f"/{kind.payload}")
    check_required(payload, kind)
    try:
        return kind.decode(payload, ctx)
    except BridgeError:
        raise
    except (TypeError, AttributeError, ValueError, KeyError, ArithmeticError) as exc:
        raise InboundError(f"{kind.title} payload has an unexpected shape (validate it against the official schema)",
                           [Issue(f"/{kind.payload}", str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                                  "invalid")], HubErrorCode.INVALID_MESSAGE) from None


def encode_payload(case: Case, kind: PayloadKind, ctx: AdapterContext
                   ) -> tuple[dict[str, Any], list[Issue], list[Issue]]:
    """``(payload dict, dropped, warnings)``: dropped = the case's held fields the encoder did not read."""
    if kind.encode_marked is not None:
        used: set[str] = set()
        payload, warnings = kind.encode_marked(case, ctx, used)
    else:
        tracked = Tracked(case)
        payload, warnings = kind.encode(tracked, ctx)
        used = tracked.used
    # an encoder that reads a part whole (unwrap_tracked) may report that part's own drops among its warnings
    own_drops = [w for w in warnings if w.code == "dropped"]
    if own_drops:
        warnings = [w for w in warnings if w.code != "dropped"]
    return payload, unread(case, used, kind.drop_reason) + own_drops, warnings


def _envelope_drops(envelope: Mapping[str, Any] | None) -> list[Issue]:
    """The envelope of an unwrapped EDXL-DE message is not translated: say so, once."""
    if envelope is None:
        return []
    sender = envelope.get("senderID")
    return [Issue("/", f"EDXL-DE envelope (from {sender!r}) unwrapped: its payload was translated, its "
                       "distribution fields (ids, dates, addresses) are the transport's, not the case's",
                  "envelope-unwrapped")]


class HubPayloadAdapter(Adapter):
    """A Hub payload kind in one syntax; subclasses only set ``name``, ``kind`` and ``syntax``."""

    kind: ClassVar[PayloadKind]
    syntax: ClassVar[Syntax] = "json"
    version = "1.0"
    direction = "both"

    def document(self, data: bytes, ctx: AdapterContext) -> object:
        """The parsed input (JSON dict form), before any kind check."""
        if self.syntax == "xml":
            return require_codec(ctx, self.name).to_dict(bytes(data))
        return load_document(data)

    def decode(self, data: bytes, ctx: AdapterContext) -> Decoded:
        unpacked = unpack(self.document(data, ctx), self.kind)
        check_required(unpacked.payload, self.kind)
        if self.syntax == "json":  # XML went through the codec, which validates when a bundle is installed
            check_schema(unpacked.payload, self.kind, ctx)
        decoded = decode_payload(unpacked.payload, self.kind, ctx)
        if unpacked.envelope is None:
            return decoded
        return Decoded(decoded.case, decoded.dropped, _envelope_drops(unpacked.envelope) + decoded.warnings)

    def encode(self, case: Case, ctx: AdapterContext) -> Encoded:
        payload, drops, warnings = encode_payload(case, self.kind, ctx)
        if self.syntax == "xml":
            return Encoded(require_codec(ctx, self.name).to_xml({self.kind.payload: payload}), drops, warnings)
        document = {self.kind.payload: payload}
        return Encoded(dump_document(document), drops, warnings, document)


def adapter_class(name: str, kind: PayloadKind, syntax: Syntax) -> type[HubPayloadAdapter]:
    """The adapter class ``name`` for ``kind`` in ``syntax`` (what an entry point names)."""
    media = "application/json" if syntax == "json" else "application/xml"
    doc = f"{kind.title} as {syntax.upper()} (generic Hub payload adapter)."
    class_name = "".join(part.capitalize() for part in name.split("-")) + "Adapter"  # rc-eda-json -> RcEdaJsonAdapter
    return type(class_name, (HubPayloadAdapter,),
                {"name": name, "kind": kind, "syntax": syntax, "media_type": media, "__doc__": doc,
                 "model_side": kind.model_side, "__module__": kind.decode.__module__})


__all__ = [
    "WRONG_KIND",
    "HubPayloadAdapter",
    "PayloadKind",
    "Unpacked",
    "adapter_class",
    "decode_payload",
    "encode_payload",
    "require_codec",
    "unpack",
    "wrong_kind",
]

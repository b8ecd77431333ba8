"""The translation pipeline: decode -> (check) -> encode, with every dropped field reported.

Small steps, each a plain function: pick the adapters, decode the source bytes
into a canonical case, encode it into the target, optionally validate the
result against the official schema (a validator is injected: the core never
reads schema files), and gather what each step could not carry. The service
calls :func:`legacy_to_hub` / :func:`hub_to_legacy`; the CLI calls
:func:`translate`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import simplejson

from bridge.core.adapters.base import Adapter, AdapterContext, Decoded, Encoded
from bridge.core.adapters.emsi import decode_emsi, encode_emsi
from bridge.core.adapters.profile import Profile
from bridge.core.adapters.rc_eda import decode_create_case, encode_create_case
from bridge.core.adapters.registry import AdapterInfo, get_adapter
from bridge.core.canonical import Case
from bridge.core.errors import BridgeError, HubErrorCode, Issue, OutboundError

# (payload name, payload dict) -> issues; empty when valid.
Validator = Callable[[str, dict[str, Any]], list[Issue]]
HUB_PAYLOAD_OF = {"rc-eda-json": "createCase", "rc-eda-xml": "createCase", "emsi-json": "emsi",
                  "emsi-xml": "emsi"}
# The one table of Hub payloads that carry a case to and from the legacy side: name -> decoder.
HUB_DECODERS: Mapping[str, Callable[[dict[str, Any], AdapterContext], Decoded]] = MappingProxyType(
    {"createCase": decode_create_case, "emsi": decode_emsi})
LEGACY_PAYLOADS = frozenset(HUB_DECODERS)


@dataclass(frozen=True)
class Result:
    """A translation: target bytes, the canonical case, what was dropped and the warnings."""

    data: bytes
    case: Case
    dropped: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)


@dataclass(frozen=True)
class HubPayload:
    """One Hub payload to send (``createCase``, ``emsi``, ...), as its JSON dict form.

    The translation fills ``dropped``/``warnings``; the message life adds the
    case it belongs to (``case_id``, ``case_version``) for per-case ordering.
    """

    name: str
    payload: dict[str, Any]
    dropped: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    case_id: str | None = None
    case_version: str | None = None


def translate(data: bytes, *, source: str, target: str, ctx: AdapterContext,
              installed: Mapping[str, AdapterInfo] | None = None, validator: Validator | None = None) -> Result:
    """Translate ``data`` from adapter ``source`` to adapter ``target``.

    The adapters are looked up in ``installed`` when given, else in ``ctx.adapters``
    (``bridge.refdata.adapters`` reads them from the entry points; the core never does).
    """
    adapters = installed if installed is not None else ctx.adapters
    decoder = get_adapter(source, adapters)
    encoder = get_adapter(target, adapters)
    _check_direction(decoder, "in", source)
    _check_direction(encoder, "out", target)
    decoded = decoder.decode(bytes(data), ctx)
    encoded = encoder.encode(decoded.case, ctx)
    if validator is not None and target in HUB_PAYLOAD_OF and target.endswith("-json"):
        _validate_json(encoded.data, HUB_PAYLOAD_OF[target], validator)
    return _result(encoded.data, decoded, encoded)


def legacy_to_hub(frame: bytes, profile: Profile, ctx: AdapterContext,
                  validator: Validator | None = None) -> list[HubPayload]:
    """One legacy frame -> createCase, plus an EMSI message when it requests or answers assistance."""
    ctx = ctx.with_profile(profile)
    decoded = get_adapter(profile.adapter, ctx.adapters).decode(bytes(frame), ctx)
    case = decoded.case
    if case.location.loc_id is None:
        # One location id shared by the createCase and the EMSI message of the same event.
        case = case.model_copy(update={"location": case.location.model_copy(update={"loc_id": ctx.new_id()})})
    payloads = []
    create_case, case_drops = encode_create_case(case, ctx)
    hub_drops = [d for d in case_drops if d.path not in ("request", "answer")]
    payloads.append(HubPayload("createCase", create_case, decoded.dropped + hub_drops, list(decoded.warnings)))
    if case.request is not None or case.answer is not None:
        emsi, emsi_drops, warnings = encode_emsi(case, ctx)
        payloads.append(HubPayload("emsi", emsi, emsi_drops, warnings))
    if validator is not None:
        for item in payloads:
            _raise_if_invalid(item.name, item.payload, validator)
    return payloads


def hub_to_legacy(payload_name: str, payload: dict[str, Any], profile: Profile, ctx: AdapterContext) -> bytes:
    """A Hub payload (``createCase`` or ``emsi`` dict) -> one unframed legacy message."""
    return hub_to_legacy_result(payload_name, payload, profile, ctx).data


def hub_to_legacy_result(payload_name: str, payload: dict[str, Any], profile: Profile, ctx: AdapterContext) -> Result:
    """Like :func:`hub_to_legacy`, with the canonical case and the dropped-field report."""
    if payload_name not in HUB_DECODERS:
        raise BridgeError(f"no legacy translation for {payload_name!r} payloads",
                          [Issue("/", f"expected one of {', '.join(HUB_DECODERS)}", "wrong-payload")],
                          HubErrorCode.UNRECOGNIZED_MESSAGE_FORMAT)
    ctx = ctx.with_profile(profile)
    decoded = HUB_DECODERS[payload_name](payload, ctx)
    encoded = get_adapter(profile.adapter, ctx.adapters).encode(decoded.case, ctx)
    return _result(encoded.data, decoded, encoded)


def answer_to_legacy(payload: dict[str, Any], original_frame: bytes, profile: Profile, ctx: AdapterContext) -> Result:
    """An EMSI answer to one of our requests -> the LRM's own case sheet, plus the answer.

    Read back from EMSI alone, the qualification goes through the lossy
    EMSI -> CISU -> legacy tables (a fall is a "fall" in EMSI, not the LRM's
    own code): the LRM would get different codes than it sent. The original
    frame is what the LRM knows, so the answer is put onto it.
    """
    ctx = ctx.with_profile(profile)
    adapter = get_adapter(profile.adapter, ctx.adapters)
    answer = decode_emsi(payload, ctx)
    base = adapter.decode(bytes(original_frame), ctx).case
    case = base.model_copy(update={"answer": answer.case.answer})
    encoded = adapter.encode(case, ctx)
    return Result(encoded.data, case, list(encoded.dropped), list(answer.warnings) + list(encoded.warnings))


def merge_hub_cases(cases: list[Case]) -> Case:
    """One case from the createCase and EMSI messages of the same event (request/answer from EMSI)."""
    merged = cases[0]
    for other in cases[1:]:
        updates = {name: getattr(other, name) for name in ("request", "answer")
                   if getattr(merged, name) is None and getattr(other, name) is not None}
        merged = merged.model_copy(update=updates)
    return merged


def hub_payloads_to_legacy(payloads: list[tuple[str, dict[str, Any]]], profile: Profile, ctx: AdapterContext) -> Result:
    """Several Hub payloads about one case (createCase first, then EMSI) -> one legacy message."""
    ctx = ctx.with_profile(profile)
    decoded = [HUB_DECODERS[name](payload, ctx) for name, payload in payloads]
    case = merge_hub_cases([d.case for d in decoded])
    encoded = get_adapter(profile.adapter, ctx.adapters).encode(case, ctx)
    return Result(encoded.data, case, [i for d in decoded for i in d.dropped] + encoded.dropped,
                  [i for d in decoded for i in d.warnings] + encoded.warnings)


def _check_direction(adapter: Adapter, wanted: str, name: str) -> None:
    if adapter.direction not in (wanted, "both"):
        verb = "read" if wanted == "in" else "written"
        raise BridgeError(f"adapter {name} cannot be {verb} (direction {adapter.direction})",
                          [Issue("adapter", f"{name} is {adapter.direction}-only", "wrong-direction")])


def _result(data: bytes, decoded: Decoded, encoded: Encoded) -> Result:
    return Result(data, decoded.case, decoded.dropped + encoded.dropped, decoded.warnings + encoded.warnings)


def _validate_json(data: bytes, name: str, validator: Validator) -> None:
    _raise_if_invalid(name, simplejson.loads(data, parse_float=Decimal)[name], validator)


def _raise_if_invalid(name: str, payload: dict[str, Any], validator: Validator) -> None:
    issues = validator(name, payload)
    if issues:
        raise OutboundError(f"the {name} produced does not validate against the official schema", issues,
                            HubErrorCode.INVALID_MESSAGE)

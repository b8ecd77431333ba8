"""The translation pipeline: decode -> (check) -> encode, with every dropped field reported.

Small steps, each a plain function: pick the adapters, decode the source bytes
into a canonical case, encode it into the target, optionally validate the
result against the official schema (a validator is injected: the core never
reads schema files), and gather what each step could not carry. The service
calls :func:`legacy_to_hub` / :func:`hub_to_legacy`; the CLI calls
:func:`translate`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import simplejson

from bridge.core import confidentiality
from bridge.core.adapters.base import Adapter, AdapterContext, Decoded, Encoded, dropped
from bridge.core.adapters.emsi import decode_emsi, encode_emsi
from bridge.core.adapters.profile import Profile
from bridge.core.adapters.rc_eda import decode_create_case, encode_create_case
from bridge.core.adapters.rc_ri import decode_rc_ri, encode_rc_ri
from bridge.core.adapters.registry import AdapterInfo, get_adapter
from bridge.core.canonical import Case
from bridge.core.case_merge import merge_case
from bridge.core.errors import BridgeError, HubErrorCode, InboundError, Issue, OutboundError
from bridge.core.operations import Operations, merge_operations, merge_status

# (payload name, payload dict) -> issues; empty when valid.
Validator = Callable[[str, dict[str, Any]], list[Issue]]
HUB_PAYLOAD_OF = {"rc-eda-json": "createCase", "rc-eda-xml": "createCase", "emsi-json": "emsi",
                  "emsi-xml": "emsi", "rc-ri-json": "resourcesInfoCisu", "rc-ri-xml": "resourcesInfoCisu",
                  "rs-eda-json": "createCaseHealth", "rs-eda-xml": "createCaseHealth",
                  "rs-eda-maj-json": "createCaseHealthUpdate", "rs-eda-maj-xml": "createCaseHealthUpdate"}
# The one table of Hub payloads that carry a case to and from the legacy side: name -> decoder
# (RC-RI: the resource statuses of a case, merged onto the LRM's sheet).
HUB_DECODERS: Mapping[str, Callable[[dict[str, Any], AdapterContext], Decoded]] = MappingProxyType(
    {"createCase": decode_create_case, "emsi": decode_emsi, "resourcesInfoCisu": decode_rc_ri})
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
    mapped: list[dict[str, Any]] = field(default_factory=list)  # the code lookups of the frame (translator fills it)


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
    case, withheld = decoded.case, list[Issue]()
    if to_fire_side(encoder, ctx):
        case, withheld = confidentiality.apply(case, ctx.confidentiality, ctx.recipient_id)
    encoded = encoder.encode(case, ctx)
    if validator is not None and target in HUB_PAYLOAD_OF and target.endswith("-json"):
        name = HUB_PAYLOAD_OF[target]
        if encoded.document is not None and name in encoded.document:
            # the dict the bytes were written from (hubjson.dump_document writes exactly its content)
            _raise_if_invalid(name, encoded.document[name], validator)
        else:
            _validate_json(encoded.data, name, validator)
    result = _result(encoded.data, decoded, encoded)
    return Result(result.data, result.case, withheld + result.dropped, result.warnings) if withheld else result


def to_fire_side(encoder: Adapter, ctx: AdapterContext) -> bool:
    """Whether ``encoder``'s output goes to a ``fr.fire.`` recipient, so the confidentiality table applies.

    Legacy adapters (they need a profile) write for the LRM, health-model adapters
    (``model_side == "health"``) for a health partner; every other Hub adapter writes for
    ``ctx.recipient_id``.
    """
    if getattr(encoder, "needs_profile", False) or getattr(encoder, "model_side", "cisu") == "health":
        return False
    return confidentiality.is_fire_side(ctx.recipient_id)


def legacy_to_hub(frame: bytes, profile: Profile, ctx: AdapterContext,
                  validator: Validator | None = None,
                  linked_case: Callable[[str], str | None] | None = None) -> list[HubPayload]:
    """One legacy frame -> createCase, plus an EMSI message when it requests or answers assistance.

    ``linked_case`` gives the Hub case id a dossier number of the LRM stands for, when the
    bridge handed the LRM a case the partner created under that number (the store's case
    links, docs/fidelity.md): the frame's messages then go out under the partner's case id.
    """
    if ctx.profile is not profile:  # the translator's context already carries its profile
        ctx = ctx.with_profile(profile)
    decoded = get_adapter(profile.adapter, ctx.adapters).decode(bytes(frame), ctx)
    return _case_to_hub(decoded, ctx, validator, linked_case)


def _case_to_hub(decoded: Decoded, ctx: AdapterContext, validator: Validator | None = None,
                 linked_case: Callable[[str], str | None] | None = None) -> list[HubPayload]:
    """A decoded LRM case -> createCase (+ EMSI, + RC-RI of its own resources), fire-side rules applied."""
    case, withheld = confidentiality.apply(decoded.case, ctx.confidentiality, ctx.recipient_id)
    link_notes: list[Issue] = []
    if linked_case is not None and case.case_id is None and case.sender_case_id:
        partner_case = linked_case(case.sender_case_id)
        if partner_case:
            case = case.model_copy(update={"case_id": partner_case})
            link_notes.append(Issue("case.case_id", f"the LRM's dossier {case.sender_case_id!r} is the partner's "
                                    f"case {partner_case} (linked when the bridge handed it to the LRM)",
                                    "value-derived"))
    if case.location.loc_id is None:
        # One location id shared by the createCase and the EMSI message of the same event.
        case = copy_with(case, "location", copy_with(case.location, "loc_id", ctx.new_id()))
    payloads = []
    own, echoed = split_operations(case.operations, ctx.sender_id)
    create_case, case_drops, case_warnings = encode_create_case(case, ctx)
    # the request/answer and the operations are not lost: they travel in the EMSI / RC-RI messages below
    hub_drops = [d for d in case_drops
                 if d.path.split(".")[0].split("/")[0] not in ("request", "answer", "operations")] + echoed
    payloads.append(HubPayload("createCase", create_case, withheld + decoded.dropped + hub_drops,
                               list(decoded.warnings) + link_notes + case_warnings))
    if case.request is not None or case.answer is not None:
        emsi, emsi_drops, warnings = encode_emsi(case.model_copy(update={"operations": None}), ctx)
        payloads.append(HubPayload("emsi", emsi, emsi_drops, warnings))
    if own is not None:
        try:
            rc_ri, ri_drops, ri_warnings = encode_rc_ri(case.model_copy(update={"operations": own}), ctx)
        except OutboundError as exc:  # no own resource RC-RI can carry: the createCase still goes, the gap is listed
            payloads[0] = HubPayload("createCase", create_case, payloads[0].dropped + [
                dropped(issue.path, f"not sent as RC-RI: {issue.message}") for issue in exc.issues],
                payloads[0].warnings)
        else:
            payloads.append(HubPayload("resourcesInfoCisu", rc_ri, [d for d in ri_drops
                                                                    if d.path.startswith("operations")], ri_warnings))
    if validator is not None:
        for item in payloads:
            _raise_if_invalid(item.name, item.payload, validator)
    return payloads


_set_attribute = object.__setattr__


def with_frame_facts(items: list[HubPayload], mapped: list[dict[str, Any]]) -> list[HubPayload]:
    """The payloads of one frame as the message life takes them: each names the frame's case (the first
    payload's ``caseId``, for per-case ordering) and carries the frame's code lookups (``mapped``).

    For the payloads :func:`legacy_to_hub` / :func:`health_to_hub` have just returned, which nothing else
    holds yet: the two fields are filled in on them (the same values a new ``HubPayload`` would have), not
    built a second time (tests/unit/test_translate_fifth.py counts one ``HubPayload`` per payload).
    """
    case_id = items[0].payload.get("caseId") if items else None
    for item in items:
        _set_attribute(item, "case_id", case_id)
        _set_attribute(item, "mapped", mapped)
    return items


def copy_with(model: Any, name: str, value: Any) -> Any:
    """``model.model_copy(update={name: value})``: the same new model (fields, fields set), made directly.

    For a model with no extra fields and no private attributes (the canonical models: frozen,
    ``extra="forbid"``), pydantic's copy is a generic ``__copy__`` (four ``copy()`` calls) then
    the update; here the field dict is copied once. Any other model takes ``model_copy`` itself.
    """
    if model.__pydantic_extra__ is not None or model.__pydantic_private__ is not None:
        return model.model_copy(update={name: value})
    cls = model.__class__
    copied = cls.__new__(cls)
    fields = dict(model.__dict__)
    fields[name] = value
    _set_attribute(copied, "__dict__", fields)
    _set_attribute(copied, "__pydantic_extra__", None)
    _set_attribute(copied, "__pydantic_fields_set__", model.__pydantic_fields_set__ | {name})
    _set_attribute(copied, "__pydantic_private__", None)
    return copied


# A health-model LRM link (profile adapter ``rs-eda-*``) carries the resource messages too: the frame's payload
# key picks the adapter (RS-EDA and RS-EDA-MAJ stay with the profile's own).
HEALTH_RESOURCE_ADAPTERS = {("json", "resourcesInfo"): "rs-ri-json", ("json", "resourcesStatus"): "rs-sr-json",
                            ("xml", "resourcesInfo"): "rs-ri-xml", ("xml", "resourcesStatus"): "rs-sr-xml"}
_JSON_ROOT = re.compile(rb'\A\s*\{\s*"(resourcesInfo|resourcesStatus)"\s*:')
# An XML frame's root element, after at most a bounded prologue (declaration, comments) and an optional prefix.
_XML_ROOT_START = rb'\A(?:\s|<\?[^>]{0,300}\?>|<!--.{0,300}?-->)*<(?:[A-Za-z_][\w.-]{0,40}:)?'
_XML_ROOT = re.compile(_XML_ROOT_START + rb'(resourcesInfo|resourcesStatus)[\s/>]', re.DOTALL)
# Known resources of a case, by Hub case id (the service reads them from its store); None: none known.
KnownResources = Callable[[str], "Operations | None"]
# The case as the bridge last sent it to the fire side (its last RC-EDA, decoded), by Hub case id; None: never sent.
KnownCase = Callable[[str], "Case | None"]
_JSON_UPDATE = re.compile(rb'\A\s*\{\s*"createCaseHealthUpdate"\s*:')
_XML_UPDATE = re.compile(_XML_ROOT_START + rb'createCaseHealthUpdate[\s/>]', re.DOTALL)


def is_case_update(frame: bytes, profile: Profile) -> bool:
    """Whether a health LRM's frame is an RS-EDA-MAJ (``createCaseHealthUpdate``), by its root (a bounded prefix)."""
    return bool((_XML_UPDATE if profile.adapter.endswith("-xml") else _JSON_UPDATE).match(bytes(frame[:1024])))


def health_frame_adapter(frame: bytes, profile: Profile) -> str:
    """The adapter that reads a frame of a health-model LRM link: RS-RI / RS-SR by their root, else the profile's.

    Only the first bytes are looked at (a bounded prefix); anything that is not an RS-RI
    or RS-SR root goes to the profile's RS-EDA adapter, which refuses it clearly if it is
    not RS-EDA either.
    """
    syntax = "xml" if profile.adapter.endswith("-xml") else "json"
    match = (_XML_ROOT if syntax == "xml" else _JSON_ROOT).match(bytes(frame[:1024]))
    return HEALTH_RESOURCE_ADAPTERS[(syntax, match[1].decode())] if match else profile.adapter


def health_to_hub(frame: bytes, profile: Profile, ctx: AdapterContext, validator: Validator | None = None,
                  known: KnownResources | None = None, known_case: KnownCase | None = None) -> list[HubPayload]:
    """One frame of a health-model LRM -> the CISU message(s) for NexSIS.

    RS-EDA: as any LRM frame (:func:`legacy_to_hub`). RS-EDA-MAJ, when ``known_case`` is given (the
    service): merged onto the case as last sent (:func:`update_to_hub`). RS-RI: its resources as an
    RC-RI (health-only content withheld). RS-SR: the status merged onto the resources the case
    already has (``known``, from the bridge's store), sent as an RC-RI with every resource's
    latest status (:func:`status_to_rc_ri`). An RS-SR that changes nothing gives no message.
    """
    adapter_name = health_frame_adapter(frame, profile)
    if adapter_name == profile.adapter and known_case is not None and is_case_update(frame, profile):
        ctx = ctx.with_profile(profile)
        decoded = get_adapter(profile.adapter, ctx.adapters).decode(bytes(frame), ctx)
        return update_to_hub(decoded, ctx, known_case, validator)
    if adapter_name == profile.adapter:
        return legacy_to_hub(frame, profile, ctx, validator)
    ctx = ctx.with_profile(profile)
    decoded = get_adapter(adapter_name, ctx.adapters).decode(bytes(frame), ctx)
    if adapter_name.startswith("rs-sr"):
        payloads = status_to_rc_ri(decoded, ctx, known)
    else:
        case, withheld = confidentiality.apply(decoded.case, ctx.confidentiality, ctx.recipient_id)
        rc_ri, drops, warnings = encode_rc_ri(case, ctx)
        payloads = [HubPayload("resourcesInfoCisu", rc_ri, withheld + decoded.dropped + drops,
                               list(decoded.warnings) + warnings)]
    if validator is not None:
        for item in payloads:
            _raise_if_invalid(item.name, item.payload, validator)
    return payloads


def update_to_hub(decoded: Decoded, ctx: AdapterContext, known_case: KnownCase,
                  validator: Validator | None = None) -> list[HubPayload]:
    """A decoded RS-EDA-MAJ merged onto the case as the bridge last sent it (:func:`merge_case`) -> a complete RC-EDA.

    The earlier state is ``known_case(caseId)`` (the service: the last RC-EDA it stored for NexSIS).
    With none, an update RC-EDA can carry on its own goes as it is; one that lacks what RC-EDA
    requires is refused (``WRONG_MESSAGE_SEQUENCE``, naming each missing field): nothing is made up,
    and it can be replayed from the dead letters once the case's RS-EDA went. The merge is reported
    as a ``case-merged`` warning (the message's history and the log show it); the confidentiality
    table applies to the merged case as to any case bound for the fire side.
    """
    update = decoded.case
    case_id = update.case_id or ""
    earlier = known_case(case_id) if case_id else None
    shown = case_id[:200]  # named in the NACK and the dead letter: bounded, whatever the LRM sent
    if earlier is None:
        try:
            return _case_to_hub(decoded, ctx, validator)
        except OutboundError as exc:
            missing = [issue for issue in exc.issues if issue.code == "missing-field"]
            if not missing:
                raise
            names = ", ".join(issue.path for issue in missing)[:300]
            raise InboundError(
                f"RS-EDA-MAJ for case {shown!r}: the bridge never sent this case to the fire side, and the update "
                f"alone lacks what an RC-EDA requires ({names}); send the case's RS-EDA first (this update can be "
                "replayed from the dead letters once the case is known)",
                [Issue(issue.path, f"missing from the update and no earlier state of case {shown!r}: "
                       f"{issue.message}", "unknown-case") for issue in missing],
                HubErrorCode.WRONG_MESSAGE_SEQUENCE) from None
    merge = merge_case(earlier, update)
    note = Issue("case", f"update merged onto case {shown}'s earlier state (the last RC-EDA sent): changed "
                 f"{', '.join(merge.changed)[:400] or 'nothing'}; kept {', '.join(merge.kept)[:400] or 'nothing'}",
                 "case-merged")
    merged = Decoded(case=merge.case, dropped=list(decoded.dropped), warnings=[*decoded.warnings, note])
    return _case_to_hub(merged, ctx, validator)


def status_to_rc_ri(decoded: Decoded, ctx: AdapterContext, known: KnownResources | None) -> list[HubPayload]:
    """A decoded RS-SR merged onto its case's known resources (:func:`merge_status`) -> one RC-RI, or none.

    Refused (``WRONG_MESSAGE_SEQUENCE``, nothing sent) when the case has no known resource of
    that id: RC-RI needs an engagement time and a vehicle type that a status alone does not
    carry, and none is made up. The merge is reported as a ``resources-merged`` warning
    (the message's history shows it); an RS-SR whose status is not newer than the known one
    gives no RC-RI (nothing changed for the fire side).
    """
    case = decoded.case
    update = case.operations or Operations()
    case_id = case.case_id or ""
    earlier = known(case_id) if known is not None and case_id else None
    merge = merge_status(earlier, update)
    if merge.unknown:
        why = ("no resource of the case is known to the bridge" if not earlier
               else f"the case's known resources are {', '.join(r.resource_id for r in earlier.resources)[:300]}")
        raise InboundError(
            f"RS-SR for case {case_id!r}: resource(s) {', '.join(merge.unknown)} unknown ({why}); an RC-RI needs "
            "the resource's engagement time and vehicle type, which a status alone does not carry: send the "
            "case's RS-RI first (this status can be replayed from the dead letters once it is known)",
            [Issue("/resourcesStatus/resourceId", f"resource {rid!r} of case {case_id!r} is not known", "unknown-resource")
             for rid in merge.unknown], HubErrorCode.WRONG_MESSAGE_SEQUENCE)
    if not merge.changed:
        return []
    merged = case.model_copy(update={"operations": Operations(resources=merge.resources)})
    # the fire side's rules on every path to it, as for an RS-RI (a status carries nothing withheld today)
    merged, withheld = confidentiality.apply(merged, ctx.confidentiality, ctx.recipient_id)
    rc_ri, drops, warnings = encode_rc_ri(merged, ctx)
    kept = [r.resource_id for r in merge.resources if r.resource_id not in merge.changed]
    changes = "; ".join(_status_change(earlier, res) for res in merge.resources if res.resource_id in merge.changed)
    unchanged = ", ".join(kept)
    note = Issue("operations.resources", f"status merged with the case's known resources: {changes[:500]}"
                 + (f"; unchanged: {unchanged[:300]}" if kept else ""), "resources-merged")
    return [HubPayload("resourcesInfoCisu", rc_ri, withheld + decoded.dropped + drops,
                       list(decoded.warnings) + warnings + [note])]


def _status_change(earlier: Operations | None, res: Any) -> str:
    before = next((r.latest for r in (earlier.resources if earlier else ()) if r.resource_id == res.resource_id), None)
    was = f"{before.status} ({before.time.isoformat()})" if before else "no status"
    return f"{res.resource_id}: {was} -> {res.state.status} ({res.state.time.isoformat()})"


def split_operations(operations: Operations | None, own_org: str) -> tuple[Operations | None, list[Issue]]:
    """The LRM's own resources (``ORG`` = the bridge's organisation), and a note for each partner's one.

    A sheet echoes what the partner sent (its missions and vehicles): sending them back
    would make the bridge speak for the fire service. Only resources of our own
    organisation go out, as RC-RI; the others are listed as not sent (the Hub has them
    from their owner), so nothing disappears unseen.
    """
    if not operations:
        return None, []
    mine = tuple(r for r in operations.resources if r.org_id and (r.org_id == own_org
                                                                   or r.org_id.startswith(own_org + ".")))
    notes = [dropped(f"operations.resources/{i}", f"resource {r.resource_id} of {r.org_id or 'no organisation'}: "
                     "the partner's, echoed by the LRM; not sent back (its owner sent it)")
             for i, r in enumerate(operations.resources) if r not in mine]
    notes += [dropped(f"operations.missions/{i}", f"mission {m.mission_id}: the partner's, echoed by the LRM; "
                      "not sent back") for i, m in enumerate(operations.missions)]
    return (Operations(resources=mine) if mine else None), notes


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


def merge_onto_sheet(payloads: list[tuple[str, dict[str, Any]]], sheet: bytes, profile: Profile, ctx: AdapterContext) -> Result:
    """Hub messages about a case the LRM already has -> its case sheet with them applied, in order.

    The LRM's own sheet (the last frame it sent or received for the dossier) is the
    base, so its codes stay its own; each message then adds what it carries: an EMSI
    answer, the partner's missions and resources, RC-RI status changes (merged by id,
    last received wins). This is what an inbound update means for the LRM.
    """
    ctx = ctx.with_profile(profile)
    return apply_onto_sheet([HUB_DECODERS[name](payload, ctx) for name, payload in payloads], sheet, profile, ctx)


def translate_onto(data: bytes, *, source: str, sheet: bytes, profile: Profile, ctx: AdapterContext,
                   installed: Mapping[str, AdapterInfo] | None = None) -> Result:
    """``bridge translate --onto SHEET``: one Hub message (any Hub adapter) applied onto an LRM sheet."""
    decoder = get_adapter(source, installed if installed is not None else ctx.adapters)
    _check_direction(decoder, "in", source)
    ctx = ctx.with_profile(profile)
    return apply_onto_sheet([decoder.decode(bytes(data), ctx)], sheet, profile, ctx)


def apply_onto_sheet(decoded: list[Decoded], sheet: bytes, profile: Profile, ctx: AdapterContext) -> Result:
    """Decoded Hub messages applied in order onto the LRM sheet ``sheet`` (answer, operations)."""
    adapter = get_adapter(profile.adapter, ctx.adapters)
    case = adapter.decode(bytes(sheet), ctx).case
    for item in decoded:
        updates: dict[str, Any] = {"operations": merge_operations(case.operations, item.case.operations)}
        if case.case_id is None and item.case.case_id is not None:
            # the Hub case id the update names: a profile with no field for it declares it dropped
            updates["case_id"] = item.case.case_id
        if item.case.answer is not None:
            updates["answer"] = item.case.answer
        case = case.model_copy(update=updates)
    encoded = adapter.encode(case, ctx)
    return Result(encoded.data, case, [i for d in decoded for i in d.dropped] + encoded.dropped,
                  [i for d in decoded for i in d.warnings] + encoded.warnings)


def merge_hub_cases(cases: list[Case]) -> Case:
    """One case from the Hub messages of the same event, in the order received.

    Request/answer come from the first EMSI that has them; operations (EMSI missions
    and resources, RC-RI statuses) are folded in order, by id, so the last status
    received for a resource is the one the LRM sees (see docs/operations.md).
    """
    merged = cases[0]
    for other in cases[1:]:
        updates: dict[str, Any] = {name: getattr(other, name) for name in ("request", "answer")
                         if getattr(merged, name) is None and getattr(other, name) is not None}
        operations = merge_operations(merged.operations, other.operations)
        if operations is not merged.operations:
            updates["operations"] = operations
        merged = merged.model_copy(update=updates)
    return merged


def hub_payloads_to_legacy(payloads: list[tuple[str, dict[str, Any]]], profile: Profile, ctx: AdapterContext) -> Result:
    """Several Hub payloads about one case (createCase first, then EMSI, RC-RI...) -> one legacy message."""
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

"""The service's view of the translation pipeline, bound to one legacy profile.

``bridge.core.pipeline`` is pure and takes everything as arguments; this
small class holds what stays fixed for a running link (the profile, the
mapping tables behind the hot reloader, the schema bundle when one is
installed) and supplies what changes per message (the clock).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast
from xml.sax.saxutils import escape

import structlog

from bridge.app.ports import HubPayload
from bridge.core.adapters.base import AdapterContext, Decoded, MappedLike
from bridge.core.adapters.profile import Profile
from bridge.core.adapters.rc_eda import decode_create_case
from bridge.core.adapters.rc_ri import decode_rc_ri
from bridge.core.adapters.registry import get_adapter
from bridge.core.canonical import Case
from bridge.core.edxl import Unwrapped, unwrap
from bridge.core.errors import BridgeError, Issue
from bridge.core.operations import Operations, merge_operations
from bridge.core.pipeline import (
    LEGACY_PAYLOADS,
    KnownCase,
    KnownResources,
    Result,
    health_to_hub,
    hub_to_legacy_result,
    legacy_to_hub,
    merge_onto_sheet,
    with_frame_facts,
)
from bridge.refdata.hub_bodies import decode_hub_body, encode_hub_body

log = structlog.get_logger("bridge.app.translator")


MAX_DERIVED_NOTES = 256  # distinct value-derived notes logged once each (memory stays bounded)


def _log_warning(warning: Issue, derived_logged: set[tuple[str, str]] | None = None, **context: Any) -> None:
    """A fallback / degrade fired: a warning the operator must see. A value written by a documented rule
    (``value-derived``: e.g. the position time taken from the case creation) is logged at info level,
    once per distinct note when ``derived_logged`` is given (the translator's: most sheets carry the same
    note, and every message keeps its own notes in its history); a note naming the case is new each time."""
    if warning.code == "value-derived":
        if derived_logged is not None:
            note = (warning.path, warning.message)
            if note in derived_logged:
                return
            if len(derived_logged) < MAX_DERIVED_NOTES:
                derived_logged.add(note)
        log.info("value_derived", error=warning.message, error_path=warning.path, **context)
        return
    if warning.code == "resources-merged":  # a health LRM's RS-SR merged onto the case's resources: not a fault
        log.info("resources_merged", detail=warning.message, **context)
        return
    if warning.code == "case-merged":  # a health LRM's RS-EDA-MAJ merged onto the case as last sent: not a fault
        log.info("case_update_merged", detail=warning.message, **context)
        return
    log.warning("mapping_warning", error=warning.message, error_path=warning.path, code=warning.code, **context)


class LiveMappings:
    """A mapping lookup that always asks the reloader for the tables in force now."""

    def __init__(self, current: Callable[[], Any]) -> None:
        self._current = current

    def forward(self, table: str, code: str) -> MappedLike:
        return cast(MappedLike, self._current().forward(table, code))

    def reverse(self, table: str, code: str) -> MappedLike:
        return cast(MappedLike, self._current().reverse(table, code))


MAX_CODES_PER_TABLE = 2_000  # distinct codes remembered per table and direction (memory stays bounded)


class MappingUsage:
    """Lookups per table since the bridge started: counts, fallbacks and codes seen (for the console)."""

    def __init__(self) -> None:
        self.lookups: dict[tuple[str, str], int] = {}
        self.fallbacks: dict[tuple[str, str], int] = {}
        self.codes: dict[tuple[str, str], dict[str, int]] = {}

    def add(self, entry: dict[str, Any]) -> None:
        self.count(entry["table"], entry["direction"], entry["code"], entry["warning"])

    def count(self, table: str, direction: str, code: str, warning: Any) -> None:
        """One lookup of ``code`` (as recorded: at most 200 characters) in ``table``; a fallback when ``warning``."""
        key = (table, direction)
        codes = self.codes.get(key)
        if codes is None:
            codes = self.codes[key] = {}
            self.lookups[key] = 1
        else:
            self.lookups[key] += 1
        if warning:
            self.fallbacks[key] = self.fallbacks.get(key, 0) + 1
        seen = codes.get(code)
        if seen is not None:
            codes[code] = seen + 1
        elif len(codes) < MAX_CODES_PER_TABLE:
            codes[code] = 1

    def snapshot(self) -> list[dict[str, Any]]:
        """One entry per (table, direction) used, most used first."""
        return sorted(({"table": t, "direction": d, "lookups": n, "fallbacks": self.fallbacks.get((t, d), 0),
                        "codes": dict(sorted(self.codes.get((t, d), {}).items(), key=lambda kv: -kv[1])[:50])}
                       for (t, d), n in self.lookups.items()), key=lambda e: (-e["lookups"], e["table"]))


class RecordingMappings:
    """Wraps a mapping lookup and writes down every lookup (code in, code out, row or policy used)."""

    __slots__ = ("entries", "inner", "usage")

    def __init__(self, inner: Any, usage: MappingUsage | None = None) -> None:
        self.inner = inner
        self.usage = usage
        self.entries: list[dict[str, Any]] = []

    def forward(self, table: str, code: str) -> Any:
        mapped = self.inner.forward(table, code)  # a lookup that raises is not written down
        code = code[:200] if type(code) is str else str(code)[:200]
        warning = mapped.warning
        self.entries.append({"table": table, "direction": "forward", "code": code, "to": mapped.code,
                             "source": mapped.source, "warning": warning})
        if self.usage is not None:
            self.usage.count(table, "forward", code, warning)
        return mapped

    def reverse(self, table: str, code: str) -> Any:
        mapped = self.inner.reverse(table, code)
        self._record(table, "reverse", code, mapped)
        return mapped

    def _record(self, table: str, direction: str, code: str, mapped: Any) -> None:
        """Writes down one lookup (``forward`` does the same, written out: it is the one on every frame)."""
        code = code[:200] if type(code) is str else str(code)[:200]
        warning = mapped.warning
        self.entries.append({"table": table, "direction": direction, "code": code, "to": mapped.code,
                             "source": mapped.source, "warning": warning})
        if self.usage is not None:
            self.usage.count(table, direction, code, warning)


class PipelineTranslator:
    """Legacy frames <-> Hub payloads for one profile, per :class:`bridge.app.service.Translator`."""

    def __init__(self, profile: Profile, ctx: AdapterContext, *, clock: Callable[[], datetime],
                 validator: Callable[[str, dict[str, Any]], list[Issue]] | None = None) -> None:
        self.profile_model = profile
        self.adapter = profile.adapter
        self.profile = profile.name
        self.ctx = ctx.with_profile(profile)
        self.clock = clock
        self.validator = validator
        self.usage = MappingUsage()
        self.derived_logged: set[tuple[str, str]] = set()  # value-derived notes already logged (see _log_warning)

    def _ctx(self, recorder: RecordingMappings | None = None) -> AdapterContext:
        """The link's context with this frame's clock reading (and ``recorder`` for its lookups).

        Copied field for field from the link's (a frozen dataclass has no __init__ logic of its own:
        ``AdapterContext(**fields)`` would set the same fields one ``object.__setattr__`` at a time)."""
        ctx = object.__new__(AdapterContext)
        fields = ctx.__dict__
        fields.update(self.ctx.__dict__)
        fields["now"] = self.clock().astimezone()
        if recorder is not None and self.ctx.mappings is not None:
            fields["mappings"] = recorder
        return ctx

    def _recorder(self, *, count: bool = True) -> RecordingMappings | None:
        return None if self.ctx.mappings is None else RecordingMappings(self.ctx.mappings, self.usage if count else None)

    @property
    def reads_case_resources(self) -> bool:
        """A health-model LRM link: its RS-SR frames are merged onto the case's known resources (``known``)."""
        return self.profile_model.adapter.startswith("rs-eda")

    def _legacy_to_hub(self, frame: bytes, ctx: AdapterContext, known: KnownResources | None,
                       linked_case: Callable[[str], str | None] | None = None,
                       known_case: KnownCase | None = None) -> list[Any]:
        if self.reads_case_resources:
            return health_to_hub(frame, self.profile_model, ctx, self.validator, known, known_case)
        return legacy_to_hub(frame, self.profile_model, ctx, self.validator, linked_case)

    def known_resources(self, bodies: Sequence[tuple[bytes, str | None]]) -> Operations | None:
        """The resources of a case as the bridge told the fire side: its RC-RI bodies folded in order (by id).

        ``bodies`` come from the store (``case_resource_messages``); one that cannot be read
        again (schemas changed) is skipped with a warning, never guessed.
        """
        known: Operations | None = None
        ctx = self._ctx()
        for body, content_type in bodies:
            case = self._sent_case(body, content_type, "resourcesInfoCisu", decode_rc_ri, ctx,
                                   lambda error: log.warning("case_resources_unreadable", error=error))
            if case is not None:
                known = merge_operations(known, case.operations)
        return known

    def known_case(self, bodies: Sequence[tuple[bytes, str | None]]) -> Case | None:
        """The case as the bridge last told the fire side: the newest of its RC-EDA bodies that reads back.

        ``bodies`` come from the store (``case_sent_messages``), oldest first; one that cannot be
        read again (schemas changed) is skipped with a warning, never guessed.
        """
        ctx = self._ctx()
        for body, content_type in reversed(bodies):
            case = self._sent_case(body, content_type, "createCase", decode_create_case, ctx,
                                   lambda error: log.warning("case_state_unreadable", error=error))
            if case is not None:
                return case
        return None

    def _sent_case(self, body: bytes, content_type: str | None, payload_name: str,
                   decode: Callable[[dict[str, Any], AdapterContext], Decoded], ctx: AdapterContext,
                   unreadable: Callable[[str], None]) -> Case | None:
        """The case one of our stored outbound bodies carries if it is a ``payload_name``; None otherwise, or
        with a warning when it no longer reads back (schemas changed): never guessed."""
        try:
            message = unwrap(self.decode_hub(body, content_type))
            if message.payload_name != payload_name:
                return None
            return decode(message.payload, ctx).case
        except BridgeError as exc:
            unreadable(exc.message)
            return None

    def to_hub(self, frame: bytes, known: KnownResources | None = None,
               linked_case: Callable[[str], str | None] | None = None,
               known_case: KnownCase | None = None) -> list[HubPayload]:
        """The Hub payloads of one LRM frame; ``known``: a health LRM's case resources; ``linked_case``: the
        partner's case a legacy dossier number stands for (docs/operations.md "Cases the partner created");
        ``known_case``: a health LRM's case as last sent, onto which its RS-EDA-MAJ is merged."""
        recorder = self._recorder()
        items = self._legacy_to_hub(frame, self._ctx(recorder), known, linked_case, known_case)
        # the recorder is this frame's alone: its entries are the frame's lookups, shared by its payloads
        items = with_frame_facts(items, recorder.entries if recorder is not None else [])
        for item in items:
            for warning in item.warnings:
                _log_warning(warning, self.derived_logged, case_id=item.case_id, profile=self.profile)
        return items

    def preview(self, frame: bytes) -> dict[str, Any]:
        """What :meth:`to_hub` would make of ``frame`` with the tables in force, sending and storing nothing.

        For the console's "try a frame" form: the Hub payloads, the codes looked up, drops and warnings,
        or the error that would dead-letter the frame. Usage counters are left alone.
        """
        from bridge.core.errors import BridgeError

        recorder = self._recorder(count=False)
        try:
            items = self._legacy_to_hub(frame, self._ctx(recorder), None)
        except BridgeError as exc:
            return {"ok": False, "error": exc.message, "issues": [
                {"path": i.path, "message": i.message, "code": i.code} for i in exc.issues[:50]],
                "mapped": recorder.entries if recorder is not None else []}
        return {"ok": True, "profile": self.profile, "encoding": self.profile_model.encoding,
                "payloads": [{"name": i.name, "payload": i.payload,
                              "dropped": [{"path": d.path, "message": d.message, "code": d.code} for d in i.dropped],
                              "warnings": [{"path": w.path, "message": w.message, "code": w.code}
                                           for w in i.warnings]} for i in items],
                "mapped": recorder.entries if recorder is not None else []}

    def to_legacy(self, message: Unwrapped, original_frame: bytes | None = None,
                  earlier: Sequence[Unwrapped] = ()) -> bytes | None:
        """The LRM's frame for a Hub message, as an update of the case sheet the LRM holds.

        ``original_frame`` is the LRM's own last sheet for the case (or the request an
        EMSI answers); ``earlier`` the Hub messages of the case received since, in order.
        An EMSI answer or operation and an RC-RI are merged onto that sheet (docs/operations.md);
        with no sheet of its own, the LRM's sheet is the first createCase received. An RC-RI
        for a case the LRM has no sheet for at all cannot make a sheet: refused, dead-lettered
        with that reason (replayable once the case exists).
        """
        result = self.to_legacy_result(message, original_frame, earlier)
        return None if result is None else result.data

    def to_legacy_result(self, message: Unwrapped, original_frame: bytes | None = None,
                         earlier: Sequence[Unwrapped] = ()) -> Result | None:
        """Like :meth:`to_legacy`, with the warnings (``value-altered``...) the service records."""
        if message.payload_name not in LEGACY_PAYLOADS:
            return None  # nothing the LRM understands; acknowledged, not forwarded
        ctx = self._ctx(self._recorder())  # counted in the console's usage figures
        if self.reads_case_resources:
            result = self._to_health(message, ctx)
            for warning in result.warnings:
                _log_warning(warning, distribution_id=message.distribution_id, profile=self.profile)
            return result
        history = [(m.payload_name, m.payload) for m in earlier if m.payload_name in LEGACY_PAYLOADS]
        if message.payload_name == "createCase" or (original_frame is None and not history
                                                    and message.payload_name == "emsi"):
            result = hub_to_legacy_result(message.payload_name, message.payload, self.profile_model, ctx)
        else:
            sheet = original_frame
            if sheet is None:
                first = next((i for i, (name, _) in enumerate(history) if name == "createCase"), None)
                if first is None:
                    raise BridgeError(f"{message.payload_name} for a case the LRM has no sheet for",
                                      [Issue("/", "no createCase or LRM frame for this case yet", "no-case")])
                sheet = hub_to_legacy_result(*history[first], self.profile_model, ctx).data
                history = history[first + 1:]
            updates = [h for h in history if h[0] != "createCase"] + [(message.payload_name, message.payload)]
            result = merge_onto_sheet(updates, sheet, self.profile_model, ctx)
        for warning in result.warnings:
            _log_warning(warning, distribution_id=message.distribution_id, profile=self.profile)
        return result

    def _to_health(self, message: Unwrapped, ctx: AdapterContext) -> Result:
        """A Hub message for a health-model LRM, in the health model: RC-RI -> RS-RI, a case -> RS-EDA.

        RS-EDA has no operations, so nothing is merged onto a sheet: a createCase (or an EMSI)
        is sent whole as ``createCaseHealth``, the partner's resources as ``resourcesInfo``.
        """
        if message.payload_name != "resourcesInfoCisu":
            return hub_to_legacy_result(message.payload_name, message.payload, self.profile_model, ctx)
        syntax = "xml" if self.profile_model.adapter.endswith("-xml") else "json"
        decoded = decode_rc_ri(message.payload, ctx)
        encoded = get_adapter(f"rs-ri-{syntax}", ctx.adapters).encode(decoded.case, ctx)
        return Result(encoded.data, decoded.case, decoded.dropped + encoded.dropped,
                      decoded.warnings + encoded.warnings)

    def case_reference(self, legacy: bytes) -> tuple[str | None, str | None]:
        """What a frame the bridge wrote for the LRM carries of its case: (Hub case id, the LRM's dossier number).

        Read back with the profile, as the LRM's later frames about the case will be: a dialect
        with a ``case.case_id`` field carries the Hub case id itself; the others carry only the
        dossier number (``case.sender_case_id``), which the service links to the Hub case id.
        (None, None) when the frame cannot be read back.
        """
        try:
            decoded = get_adapter(self.profile_model.adapter, self.ctx.adapters).decode(bytes(legacy), self._ctx())
        except BridgeError:
            return None, None
        return decoded.case.case_id or None, decoded.case.sender_case_id or None

    def ack_for(self, frame: bytes, reference: str | None = None, warnings: list[Issue] | None = None) -> bytes | None:
        """The link ack; with warnings, the profile's ``ack_warning`` form when it has one."""
        spec = self.profile_model.ack
        if warnings and spec.ack_warning:
            reason = " | ".join(f"{w.path}: {w.message}" for w in warnings)
            return self._link_frame(spec.ack_warning, reference or "?", "", " ".join(reason.split())[:300])
        return self._link_frame(spec.ack, reference or "?", "", "")

    def reference_of(self, frame: bytes) -> str | None:
        """The LRM's case number in a frame the bridge could not translate (best effort, for the NACK)."""
        from bridge.core.adapters.legacy_text import reference_in_frame

        if self.reads_case_resources:
            return _health_reference(frame)
        try:
            return reference_in_frame(bytes(frame), self.profile_model)
        except Exception:  # noqa: BLE001 - a frame we could not translate may be anything
            return None

    def nack_for(self, frame: bytes, code: str, reason: str, reference: str | None = None) -> bytes | None:
        return self._link_frame(self.profile_model.ack.nack, reference or "?", code, reason)

    def _link_frame(self, template: str, reference: str, code: str, reason: str) -> bytes | None:
        if not template:
            return None
        # one line, no separator of the link's own syntax, and escaped for an XML dialect
        reference = re.sub(r"[^A-Za-z0-9_.:/-]", "", reference)[:64] or "?"
        reason = " ".join(reason.split()).replace(";", ",")[:300]
        if self.profile_model.adapter == "legacy-xml":
            reference, code, reason = (escape(v, {'"': "&quot;"}) for v in (reference, code, reason))
        text = template.format(id=reference, code=code, reason=reason)
        return text.encode(self.profile_model.encoding, errors="replace")

    def encode_hub(self, message: dict[str, Any], content_type: str) -> bytes:
        return encode_hub_body(message, content_type)

    def decode_hub(self, body: bytes, content_type: str | None) -> dict[str, Any]:
        return decode_hub_body(body, content_type)


_HEALTH_REFERENCE = re.compile(rb'"(senderCaseId|caseId)"\s*:\s*"([^"\\]{1,200})"')


def _health_reference(frame: bytes) -> str | None:
    """The case a health-model frame names (its ``senderCaseId``, else its ``caseId``), from its first 64 kB."""
    found = {m[1]: m[2] for m in _HEALTH_REFERENCE.finditer(bytes(frame[:65536]))}
    value = found.get(b"senderCaseId") or found.get(b"caseId")
    return value.decode("utf-8", "replace") if value else None

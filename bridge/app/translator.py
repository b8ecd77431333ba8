"""The service's view of the translation pipeline, bound to one legacy profile.

``bridge.core.pipeline`` is pure and takes everything as arguments; this
small class holds what stays fixed for a running link (the profile, the
mapping tables behind the hot reloader, the schema bundle when one is
installed) and supplies what changes per message (the clock).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import structlog

from bridge.app.ports import HubPayload
from bridge.core.adapters.base import AdapterContext, MappedLike
from bridge.core.adapters.profile import Profile
from bridge.core.edxl import Unwrapped
from bridge.core.errors import Issue
from bridge.core.pipeline import LEGACY_PAYLOADS, answer_to_legacy, hub_to_legacy_result, legacy_to_hub
from bridge.refdata.hub_bodies import decode_hub_body, encode_hub_body

log = structlog.get_logger("bridge.app.translator")


class LiveMappings:
    """A mapping lookup that always asks the reloader for the tables in force now."""

    def __init__(self, current: Callable[[], Any]) -> None:
        self._current = current

    def forward(self, table: str, code: str) -> MappedLike:
        return cast(MappedLike, self._current().forward(table, code))

    def reverse(self, table: str, code: str) -> MappedLike:
        return cast(MappedLike, self._current().reverse(table, code))


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

    def _ctx(self) -> AdapterContext:
        return dataclasses.replace(self.ctx, now=self.clock().astimezone())

    def to_hub(self, frame: bytes) -> list[HubPayload]:
        items = legacy_to_hub(frame, self.profile_model, self._ctx(), self.validator)
        case_id = items[0].payload.get("caseId") if items else None
        for warning in (w for item in items for w in item.warnings):
            # A fallback / pass-through policy fired: the message goes on, the operator must still see it.
            log.warning("mapping_warning", case_id=case_id, profile=self.profile, error=warning.message,
                        error_path=warning.path, code=warning.code)
        return [HubPayload(item.name, item.payload, case_id=case_id) for item in items]

    def to_legacy(self, message: Unwrapped, original_frame: bytes | None = None) -> bytes | None:
        """The LRM's frame for a Hub message; an answer to one of our frames is put onto that frame."""
        if message.payload_name not in LEGACY_PAYLOADS:
            return None  # nothing the LRM understands (e.g. an RC-RI); acknowledged, not forwarded
        if original_frame is not None and message.payload_name == "emsi":
            result = answer_to_legacy(message.payload, original_frame, self.profile_model, self._ctx())
        else:
            result = hub_to_legacy_result(message.payload_name, message.payload, self.profile_model, self._ctx())
        for warning in result.warnings:
            log.warning("mapping_warning", distribution_id=message.distribution_id, profile=self.profile,
                        error=warning.message, error_path=warning.path, code=warning.code)
        return result.data

    def ack_for(self, frame: bytes, reference: str | None = None) -> bytes | None:
        template = self.profile_model.ack.ack
        return self._link_frame(template, reference or "?", "", "")

    def nack_for(self, frame: bytes, code: str, reason: str, reference: str | None = None) -> bytes | None:
        return self._link_frame(self.profile_model.ack.nack, reference or "?", code, reason)

    def _link_frame(self, template: str, reference: str, code: str, reason: str) -> bytes | None:
        if not template:
            return None
        text = template.format(id=reference, code=code, reason=reason.replace(";", ","))
        return text.encode(self.profile_model.encoding, errors="replace")

    def encode_hub(self, message: dict[str, Any], content_type: str) -> bytes:
        return encode_hub_body(message, content_type)

    def decode_hub(self, body: bytes, content_type: str | None) -> dict[str, Any]:
        return decode_hub_body(body, content_type)

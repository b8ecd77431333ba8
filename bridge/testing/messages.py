"""Build small, schema-valid EDXL-DE messages for tests and benchmarks."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any


def _stamp(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def _party(client_id: str) -> dict[str, str]:
    return {"name": client_id.rsplit(".", 1)[-1], "URI": f"hubex:{client_id}"}


def make_message(
    sender: str,
    recipient: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    distribution_id: str | None = None,
    kind: str = "Report",
    expires: datetime | None = None,
    sender_id: str | None = None,
) -> dict[str, Any]:
    """A full EDXL-DE message from ``sender`` to ``recipient`` carrying ``payload``.

    ``payload`` is the use-case dict, e.g. ``{"reference": {"distributionID": ...}}``.
    ``sender_id`` overrides the envelope's senderID (to test sender inconsistency).
    """
    distribution_id = distribution_id or f"{sender}_{uuid.uuid4()}"
    return {
        "distributionID": distribution_id,
        "senderID": sender_id or sender,
        "dateTimeSent": _stamp(now),
        "dateTimeExpires": _stamp(expires or now + timedelta(days=1)),
        "distributionStatus": "Actual",
        "distributionKind": kind,
        "descriptor": {
            "language": "fr-FR",
            "explicitAddress": {"explicitAddressScheme": "hubex", "explicitAddressValue": recipient},
        },
        "content": [{"jsonContent": {"embeddedJsonContent": {"message": {
            "messageId": distribution_id,
            "sender": _party(sender),
            "sentAt": _stamp(now),
            "kind": kind,
            "status": "Actual",
            "recipient": [_party(recipient)],
            **payload,
        }}}}],
    }


def make_reference(sender: str, recipient: str, acknowledged_id: str, *, now: datetime) -> dict[str, Any]:
    """An RC-REF end-to-end acknowledgement of ``acknowledged_id``."""
    return make_message(sender, recipient, {"reference": {"distributionID": acknowledged_id}}, now=now, kind="Ack")


def message_payload(message: dict[str, Any]) -> dict[str, Any]:
    """The inner ``message`` dict (RC-DE header + use-case payload) of a JSON EDXL-DE message."""
    content = message["content"]
    content = content[0] if isinstance(content, list) else content
    return content["jsonContent"]["embeddedJsonContent"]["message"]


def json_containers(value: Any) -> list[int]:
    """The ids of every dict and list of a JSON tree (to check that a copy or a built payload shares none)."""
    if isinstance(value, dict):
        return [id(value)] + [i for item in value.values() for i in json_containers(item)]
    if isinstance(value, list):
        return [id(value)] + [i for item in value for i in json_containers(item)]
    return []

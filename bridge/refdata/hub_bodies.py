"""Hub message bodies on the wire: JSON or XML bytes <-> the JSON-shaped dict.

JSON is read with exact decimals and written with a stable key order; XML goes
through the schema-driven codec. Everything else in the bridge works on the
dict form.
"""

from __future__ import annotations

import simplejson

from bridge.core.errors import InboundError, Issue
from bridge.core.jsonstrict import loads_strict

XML = "application/xml"
JSON = "application/json"


def encode_hub_body(message: dict, content_type: str = JSON) -> bytes:
    """Serialise a full EDXL-DE message dict for publishing."""
    body = simplejson.dumps(message, use_decimal=True, ensure_ascii=False, separators=(",", ":")).encode()
    if content_type == XML:
        from bridge.refdata.hub_codec import translate

        return translate(body, "xml")
    return body


def decode_hub_body(body: bytes, content_type: str | None = None) -> dict:
    """Parse a received body (JSON, or XML when the type says so or the bytes start with '<')."""
    if content_type == XML or body.lstrip()[:1] == b"<":
        from bridge.refdata.hub_codec import translate

        body = translate(body, "json")
    document = loads_strict(body, "body")
    if not isinstance(document, dict):
        raise InboundError("body is not a JSON object", [Issue("/", "expected an object", "json-type")])
    return document

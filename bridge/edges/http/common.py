"""Small helpers shared by the HTTP resources: headers every response carries."""

from __future__ import annotations

import json
from typing import Any

CONTENT_SECURITY_POLICY = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    b"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def no_store(request) -> None:
    """Responses describe live state: never cache them."""
    request.setHeader(b"cache-control", b"no-store")
    request.setHeader(b"x-content-type-options", b"nosniff")


def set_json(request) -> None:
    no_store(request)
    request.setHeader(b"content-type", b"application/json; charset=utf-8")


def json_response(request, data: Any, code: int = 200) -> bytes:
    """``data`` as a JSON body with ``code``; datetimes and other objects as strings."""
    request.setResponseCode(code)
    set_json(request)
    return json.dumps(data, default=str, sort_keys=True).encode()


def error_response(request, code: int, message: str) -> bytes:
    return json_response(request, {"error": message}, code)

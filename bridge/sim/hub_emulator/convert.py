"""The Hub's optional format conversion: deliver JSON to a client that wants XML, and back.

A recipient configured for the other format gets the message translated by
``bridge.translate`` (full EDXL-DE message, exact decimals, XSD order); a
message that cannot be translated is refused with 600 MESSAGE_CONVERSION_ERROR.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bridge.core.errors import BridgeError, HubErrorCode
from bridge.sim.dispatcher import JSON_TYPE, XML_TYPE, Reject, Route, base_content_type

Translate = Callable[[bytes, str], bytes]


def default_translate(body: bytes, to: str) -> bytes:
    from bridge.refdata.hub_codec import translate

    return translate(body, to, validate=False)


def convert_route(route: Route, content_type: str | None, formats: Mapping[str, str],
                  translate: Translate = default_translate) -> tuple[Route, str | None] | Reject:
    """``route`` with its body in the recipient's preferred format, or a 600 ``Reject``."""
    wanted = formats.get(route.recipient)
    current = base_content_type(content_type)
    if wanted is None or wanted == current:
        return route, content_type
    to = "xml" if wanted == XML_TYPE else "json"
    try:
        body = translate(route.body, to)
    except (BridgeError, ValueError, KeyError) as exc:
        return Reject(HubErrorCode.MESSAGE_CONVERSION_ERROR, f"cannot convert to {to} for {route.recipient}: {exc}",
                      route.distribution_id, route.sender)
    return Route(route.recipient, body, route.queue_suffix, route.distribution_id, route.sender), wanted


__all__ = ["JSON_TYPE", "XML_TYPE", "convert_route", "default_translate"]

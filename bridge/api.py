"""The public Python API of hub-bridge: convert, validate and recognise Hub messages.

    translate(data: bytes, to: str, *, schemas=None) -> bytes   # to: "json" | "xml"
    validate(data: bytes, *, schemas=None) -> list[Issue]       # empty when valid
    detect(data: bytes) -> tuple[str, str]                      # ("json"|"xml", root)

The implementation lives in :mod:`bridge.refdata.hub_codec` (it reads the
installed schema bundle); this module is the stable face.
"""

from __future__ import annotations

from bridge.refdata.hub_codec import detect, translate, validate

__all__ = ["detect", "translate", "validate"]

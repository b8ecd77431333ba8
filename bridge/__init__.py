"""hub-bridge: legacy 15-18 links, NexSIS EMSI and the Hub Santé, translated and delivered.

Public Python API (see :mod:`bridge.api`; imported lazily so ``import bridge`` stays cheap)::

    bridge.translate(data: bytes, to: str, *, schemas=None) -> bytes   # to: "json" | "xml"
    bridge.validate(data: bytes, *, schemas=None) -> list[Issue]       # empty when valid
    bridge.detect(data: bytes) -> tuple[str, str]                      # ("json"|"xml", root)
"""

from __future__ import annotations

from typing import Any

__all__ = ["detect", "translate", "validate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from bridge import api

        value = globals()[name] = getattr(api, name)  # kept: later lookups do not come back here (2-3 us each)
        return value
    raise AttributeError(f"module 'bridge' has no attribute {name!r}")

"""Adapters by name: the pure lookup the pipeline uses.

Which adapters exist is read from installed package metadata (the
``hub_bridge.adapters`` entry points) by :mod:`bridge.refdata.adapters`; the
core only receives the result (``AdapterContext.adapters`` or an explicit
``installed`` mapping) and checks what it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bridge.core.adapters.base import Adapter
from bridge.core.errors import BridgeError, Issue

GROUP = "hub_bridge.adapters"


@dataclass(frozen=True)
class AdapterInfo:
    """One installed adapter and the package that provides it."""

    name: str
    direction: str
    version: str
    provider: str
    adapter: Adapter


def check_adapter(obj: object, name: str) -> Adapter:
    """``obj`` (an Adapter subclass or instance) as an instance, or a BridgeError naming the entry point."""
    adapter = obj() if isinstance(obj, type) else obj
    if not isinstance(adapter, Adapter):
        raise BridgeError(f"entry point {name!r} of {GROUP} is not a bridge Adapter",
                          [Issue(name, f"{type(adapter).__name__} does not subclass Adapter", "bad-plugin")])
    if adapter.name != name:
        raise BridgeError(f"entry point {name!r} loads an adapter named {adapter.name!r}",
                          [Issue(name, "entry point name and adapter name must match", "bad-plugin")])
    return adapter


def get_adapter(name: str, installed: Mapping[str, AdapterInfo] | Mapping[str, Adapter]) -> Adapter:
    """The adapter called ``name`` among ``installed``, or a BridgeError listing them."""
    found = installed.get(name)
    if found is None:
        raise BridgeError(f"no adapter {name!r}",
                          [Issue("adapter", f"installed: {', '.join(installed) or 'none'}", "no-adapter")])
    return found.adapter if isinstance(found, AdapterInfo) else found

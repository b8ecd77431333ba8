"""Which adapters are installed: the ``hub_bridge.adapters`` entry-point group.

Each entry point names an :class:`Adapter` subclass (or instance); its name is
the format name users type (``--from legacy-text``). A third-party package adds
a format by declaring one entry point in its own ``pyproject.toml``; nothing in
``bridge/`` changes. Built-ins are declared the same way in the project's
``pyproject.toml`` and are also known here, so a source checkout that was not
reinstalled still finds them. Reading installed package metadata is not I/O in
the sense of the core rules (no socket, no clock, no user file).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import MappingProxyType

from bridge.core.adapters.base import Adapter
from bridge.core.errors import BridgeError, Issue

GROUP = "hub_bridge.adapters"
BUILTINS: dict[str, str] = {
    "emsi-json": "bridge.core.adapters.emsi:EmsiJsonAdapter",
    "emsi-xml": "bridge.core.adapters.emsi:EmsiXmlAdapter",
    "legacy-text": "bridge.core.adapters.legacy_text:LegacyTextAdapter",
    "legacy-xml": "bridge.core.adapters.legacy_xml:LegacyXmlAdapter",
    "rc-eda-json": "bridge.core.adapters.rc_eda:RcEdaJsonAdapter",
    "rc-eda-xml": "bridge.core.adapters.rc_eda:RcEdaXmlAdapter",
}


@dataclass(frozen=True)
class AdapterInfo:
    """One installed adapter and the package that provides it."""

    name: str
    direction: str
    version: str
    provider: str
    adapter: Adapter


def _instance(obj: object, name: str) -> Adapter:
    adapter = obj() if isinstance(obj, type) else obj
    if not isinstance(adapter, Adapter):
        raise BridgeError(f"entry point {name!r} of {GROUP} is not a bridge Adapter",
                          [Issue(name, f"{type(adapter).__name__} does not subclass Adapter", "bad-plugin")])
    if adapter.name != name:
        raise BridgeError(f"entry point {name!r} loads an adapter named {adapter.name!r}",
                          [Issue(name, "entry point name and adapter name must match", "bad-plugin")])
    return adapter


def _load_builtin(name: str) -> AdapterInfo:
    module, attribute = BUILTINS[name].split(":")
    adapter = _instance(getattr(importlib.import_module(module), attribute), name)
    return AdapterInfo(name, adapter.direction, adapter.version, "hub-bridge", adapter)


def discover() -> dict[str, AdapterInfo]:
    """Every installed adapter by name; a broken or shadowing plugin raises naming its entry point."""
    found = {name: _load_builtin(name) for name in BUILTINS}
    for point in entry_points(group=GROUP):
        provider = point.dist.name if point.dist is not None else "?"
        if point.value == BUILTINS.get(point.name):
            continue  # our own declaration of a built-in
        if point.name in BUILTINS:
            raise BridgeError(f"package {provider} declares an adapter named {point.name!r}, which is built in",
                              [Issue(point.name, f"{point.value} would replace {BUILTINS[point.name]}; "
                                                 "rename the plugin's entry point", "bad-plugin")])
        adapter = _instance(point.load(), point.name)
        found[point.name] = AdapterInfo(point.name, adapter.direction, adapter.version, provider, adapter)
    return dict(sorted(found.items()))


def _builtin_instances() -> Mapping[str, Adapter]:
    from bridge.core.adapters.emsi import EmsiJsonAdapter, EmsiXmlAdapter
    from bridge.core.adapters.legacy_text import LegacyTextAdapter
    from bridge.core.adapters.legacy_xml import LegacyXmlAdapter
    from bridge.core.adapters.rc_eda import RcEdaJsonAdapter, RcEdaXmlAdapter
    from bridge.core.adapters.rc_ri import RcRiJsonAdapter, RcRiXmlAdapter

    classes = (EmsiJsonAdapter, EmsiXmlAdapter, LegacyTextAdapter, LegacyXmlAdapter, RcEdaJsonAdapter, RcEdaXmlAdapter,
               RcRiJsonAdapter, RcRiXmlAdapter)
    return MappingProxyType({cls.name: cls() for cls in classes})


# Adapters are stateless, so one read-only instance of each built-in serves every call.
BUILTIN_ADAPTERS: Mapping[str, Adapter] = _builtin_instances()


def get_adapter(name: str, installed: dict[str, AdapterInfo] | None = None) -> Adapter:
    """The adapter called ``name``, or a BridgeError listing the installed ones."""
    if installed is None and name in BUILTIN_ADAPTERS:
        return BUILTIN_ADAPTERS[name]
    installed = installed if installed is not None else discover()
    if name not in installed:
        raise BridgeError(f"no adapter {name!r}",
                          [Issue("adapter", f"installed: {', '.join(installed)}", "no-adapter")])
    return installed[name].adapter

"""Which adapters are installed: the ``hub_bridge.adapters`` entry-point group.

Each entry point names an :class:`~bridge.core.adapters.base.Adapter` subclass
(or instance); its name is the format name users type (``--from legacy-text``).
The entry points are the one list: the built-ins are declared in the project's
``pyproject.toml`` like any plugin, and a third-party package adds a format by
declaring one entry point in its own ``pyproject.toml``; nothing in
``bridge/`` changes.

A source tree that was never installed has no package metadata; then the
project's own entry points are read from that tree's ``pyproject.toml`` (the
same declaration, not a copy of it).
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

from bridge.core.adapters.base import Adapter
from bridge.core.adapters.registry import GROUP, AdapterInfo, check_adapter
from bridge.core.errors import BridgeError, Issue
from bridge.refdata.resources import PROJECT_ROOT

DISTRIBUTION = "hub-bridge"

__all__ = ["GROUP", "AdapterInfo", "discover", "installed_adapters"]


def _provider(point: EntryPoint) -> str:
    return point.dist.name if point.dist is not None else "?"


def _source_tree_points() -> list[EntryPoint]:
    """The project's entry points as declared in the source tree's ``pyproject.toml`` (uninstalled checkout)."""
    try:
        with (PROJECT_ROOT / "pyproject.toml").open("rb") as stream:
            declared = tomllib.load(stream)["project"]["entry-points"][GROUP]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return []
    return [EntryPoint(name=name, value=value, group=GROUP) for name, value in declared.items()]


def _load(point: EntryPoint) -> Adapter:
    if point.dist is None and ":" in point.value:  # a bare EntryPoint from pyproject.toml
        module, attribute = point.value.split(":", 1)
        return check_adapter(getattr(importlib.import_module(module), attribute), point.name)
    return check_adapter(point.load(), point.name)


def discover(points: Iterable[EntryPoint] | None = None) -> dict[str, AdapterInfo]:
    """Every installed adapter by name; a broken or shadowing plugin raises naming its entry point."""
    points = list(entry_points(group=GROUP) if points is None else points)
    own = {p.name: p for p in points if _provider(p) == DISTRIBUTION}
    if not own:
        own = {p.name: p for p in _source_tree_points()}
    found: dict[str, AdapterInfo] = {}
    for name, point in own.items():
        adapter = _load(point)
        found[name] = AdapterInfo(name, adapter.direction, adapter.version, DISTRIBUTION, adapter)
    for point in points:
        provider = _provider(point)
        if provider == DISTRIBUTION:
            continue
        if point.name in own:
            raise BridgeError(f"package {provider} declares an adapter named {point.name!r}, which is built in",
                              [Issue(point.name, f"{point.value} would replace {own[point.name].value}; "
                                                 "rename the plugin's entry point", "bad-plugin")])
        adapter = check_adapter(point.load(), point.name)
        found[point.name] = AdapterInfo(point.name, adapter.direction, adapter.version, provider, adapter)
    return dict(sorted(found.items()))


def installed_adapters() -> dict[str, Adapter]:
    """Name -> adapter instance of every installed adapter (what ``AdapterContext.adapters`` holds)."""
    return {name: info.adapter for name, info in discover().items()}

"""Derive an encoder's dropped-field report: what the case held minus what the encoder read.

An encoder reads the canonical :class:`Case` through a :class:`Tracked` view, which
remembers every attribute path it touched (``qualification.whats_happen.code``,
``notes/0.created``...). :func:`unread` then lists, as ``dropped`` Issues, every leaf
the case *held* (set, not a model default) that the encoder never read, collapsed to the
highest node whose whole subtree went unread (``request`` rather than its five leaves).
Nothing is hand-listed, so a field added to the canonical model and not written by an
encoder is reported the day it is added.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from bridge.core.adapters.base import dropped
from bridge.core.errors import Issue

_SEPARATOR = re.compile(r"[./]")
_LEAF_TYPES = frozenset({str, int, bool, float, Decimal, datetime})
"""Values a case holds that are never wrapped (exact types: a subclass goes the general way)."""


def _child(path: str, step: str | int) -> str:
    if isinstance(step, int):
        return f"{path}/{step}"
    return f"{path}.{step}" if path else step


class Tracked:
    """Read-through view of a pydantic model (or a dict) that records what was read.

    Sub-models, tuples of sub-models and dicts come back wrapped, so a path is only
    marked when a *value* is taken; methods (``model_dump``...) mark their whole subtree.
    """

    __slots__ = ("_obj", "_path", "_used")

    def __init__(self, obj: Any, path: str = "", used: set[str] | None = None) -> None:
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_used", used if used is not None else set())

    @property
    def used(self) -> set[str]:
        """Every path read so far."""
        used: set[str] = _get_used(self)
        return used

    def __getattribute__(self, name: str) -> Any:
        # A field read is looked up here directly: through __getattr__ alone, the default lookup would
        # first fail with an AttributeError on every read. Names of this class (``get``, ``used``,
        # ``_obj``...) and dunders keep the default lookup.
        if name[0] == "_" or name in _OWN_NAMES:
            return object.__getattribute__(self, name)
        return _read(self, name)  # an AttributeError falls through to __getattr__, which re-raises it

    def __getattr__(self, name: str) -> Any:
        # reached for a name the default lookup above did not find (an underscore name of the wrapped object)
        return _read(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a tracked case is read-only")

    # dict-like access (``case.extras``)
    def get(self, key: str, default: Any = None) -> Any:
        if isinstance(_get_obj(self), dict):
            if key not in _get_obj(self):
                return default
            return _wrap(_get_used(self), _get_obj(self)[key], _child(_get_path(self), key))
        return getattr(self, key, default)

    def __getitem__(self, key: str) -> Any:
        return _wrap(_get_used(self), _get_obj(self)[key], _child(_get_path(self), key))

    def __contains__(self, key: object) -> bool:
        return key in _get_obj(self)

    def __iter__(self) -> Iterator[Any]:
        if isinstance(_get_obj(self), dict):
            return iter(_get_obj(self))  # keys only: values are marked when read
        _get_used(self).add(_get_path(self))
        return iter(_get_obj(self))

    def __len__(self) -> int:
        return len(_get_obj(self))

    def __bool__(self) -> bool:
        return bool(_get_obj(self)) if isinstance(_get_obj(self), dict) else True

    def __eq__(self, other: object) -> bool:
        target = _get_obj(other) if isinstance(other, Tracked) else other
        return bool(_get_obj(self) == target)

    def __hash__(self) -> int:
        return hash(id(_get_obj(self)))

    def __repr__(self) -> str:
        return f"Tracked({_get_path(self) or '<root>'}: {_get_obj(self)!r})"


def _wrap(used: set[str], value: Any, path: str) -> Any:
    """``value`` read at ``path``: a plain value is marked read, a model, a dict or a tuple of models is wrapped."""
    if value is None or type(value) in _LEAF_TYPES:  # the common case first: a plain value is read
        used.add(path)
        return value
    if isinstance(value, (BaseModel, dict)):
        return Tracked(value, path, used)
    if isinstance(value, tuple) and any(isinstance(v, BaseModel) for v in value):
        return tuple(Tracked(v, f"{path}/{i}", used) for i, v in enumerate(value))
    used.add(path)
    return value


_OWN_NAMES = frozenset(name for name in vars(Tracked) if not name.startswith("_"))
_get_obj = Tracked._obj.__get__  # type: ignore[attr-defined]  # the slots' own descriptors: no lookup
_get_path = Tracked._path.__get__  # type: ignore[attr-defined]
_get_used = Tracked._used.__get__  # type: ignore[attr-defined]


def _read(tracked: Tracked, name: str) -> Any:
    """Read ``name`` through ``tracked``: a leaf is marked and returned, a method marks its whole subtree,
    a sub-model, tuple or dict comes back wrapped (marked when a value is taken from it)."""
    value = getattr(_get_obj(tracked), name)
    path = _get_path(tracked)
    used = _get_used(tracked)
    if value is None or type(value) in _LEAF_TYPES:
        used.add(f"{path}.{name}" if path else name)
        return value
    if callable(value) and not isinstance(value, (BaseModel, dict)):
        used.add(path)  # model_dump(), keys()...: the whole subtree is taken
        return value
    return _wrap(used, value, f"{path}.{name}" if path else name)


def unwrap_tracked(value: Any) -> Any:
    """The plain object behind a :class:`Tracked` view (marking it wholly read)."""
    if isinstance(value, Tracked):
        _get_used(value).add(_get_path(value))
        return _get_obj(value)
    return value


def held(value: Any, path: str = "") -> dict[str, Any]:
    """Every leaf the value holds, ``path -> value``: set fields only (model defaults are not held).

    A model is dumped once (``exclude_defaults`` applies at every level, as a field-by-field walk
    would) and the plain result walked; only the case's own ``dropped`` report is left out.
    """
    leaves: dict[str, Any] = {}
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_defaults=True, exclude={"dropped"} if "dropped" in type(value).model_fields
                                 else None)
    _leaves(value, path, leaves)
    return leaves


def _leaves(value: Any, path: str, leaves: dict[str, Any]) -> None:
    # a plain leaf is taken in the loops, not by a call each: most of a case is leaves
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if type(item) in _LEAF_TYPES:
                if item != "":
                    leaves[child] = item
            elif item is not None:
                _leaves(item, child, leaves)
    elif isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            child = f"{path}/{index}"
            if type(item) in _LEAF_TYPES:
                if item != "":
                    leaves[child] = item
            elif item is not None:
                _leaves(item, child, leaves)
    elif isinstance(value, BaseModel):  # a model inside a plain container (an extras value never is)
        _leaves(value.model_dump(exclude_defaults=True), path, leaves)
    elif value is not None and value != "":
        leaves[path] = value


def _covered(leaf: str, used: set[str]) -> bool:
    """Whether ``leaf`` or a node above it (a prefix ending at a ``.`` or ``/``) was read."""
    if "" in used or leaf in used:
        return True
    return any(leaf[:match.start()] in used for match in _SEPARATOR.finditer(leaf))


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("/"))
    return path[:cut] if cut > 0 else ""


def _collapsible(node: str, whole: tuple[str, ...]) -> bool:
    """Whether an unread subtree is reported as one node: a list item, or a section named in ``whole``."""
    return node in whole or node.rsplit("/", 1)[-1].isdigit()


def unread(case: BaseModel, used: set[str], why: str, whole: tuple[str, ...] = ("request", "answer")) -> list[Issue]:
    """One ``dropped`` Issue per held leaf the encoder never read.

    A wholly unread list item (``patients/0``) or section named in ``whole`` (the request and answer,
    which travel as a message of their own) is reported once; other fields leaf by leaf, so the
    operator reads ``caller.phone``, not ``caller``.
    """
    leaves = held(case)
    missing = [leaf for leaf in leaves if not _covered(leaf, used)]
    lost = set(missing)
    read_somewhere = {leaf for leaf in leaves if leaf not in lost}
    reported: dict[str, None] = {}
    for leaf in missing:
        node = leaf
        while (parent := _parent(node)) and _collapsible(parent, whole) and not any(
                r == parent or r.startswith((parent + ".", parent + "/")) for r in read_somewhere):
            node = parent
        reported.setdefault(node, None)
    return [dropped(path, why) for path in reported]


__all__ = ["Tracked", "held", "unread", "unwrap_tracked"]

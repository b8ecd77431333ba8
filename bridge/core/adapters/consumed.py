"""Derive an encoder's dropped-field report: what the case held minus what the encoder read.

An encoder reads the canonical :class:`Case` through a :class:`Tracked` view, which
remembers every attribute path it touched (``qualification.whats_happen.code``,
``notes/0.created``...). :func:`unread` then lists, as ``dropped`` Issues, every leaf
the case *held* (set, not a model default) that the encoder never read, collapsed to the
highest node whose whole subtree went unread (``request`` rather than its five leaves).
Nothing is hand-listed, so a field added to the canonical model and not written by an
encoder is reported the day it is added. An encoder on the hot path may instead mark its reads
itself (``PayloadKind.encode_marked``): :func:`unread` is the same, and a test runs that code on a
``Tracked`` view to check that its marks are exactly the view's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, get_args

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

    def __new__(cls, obj: Any, path: str = "", used: set[str] | None = None) -> Tracked:  # noqa: PYI034
        # a model gets the view class of its type, whose fields are properties (see _view_class)
        view = _view_class(type(obj)) if cls is Tracked and _is_model(obj) else cls
        return object.__new__(view)

    def __init__(self, obj: Any, path: str = "", used: set[str] | None = None) -> None:
        _set_obj(self, obj)
        _set_path(self, path)
        _set_used(self, used if used is not None else set())

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


_MODEL_TYPES: dict[type, bool] = {}


def _is_model(value: Any) -> bool:
    """``isinstance(value, BaseModel)``, remembered per type (pydantic's metaclass makes that check an ABC one)."""
    kind = type(value)
    known = _MODEL_TYPES.get(kind)
    if known is None:
        known = _MODEL_TYPES[kind] = isinstance(value, BaseModel)
    return known


def _wrap(used: set[str], value: Any, path: str) -> Any:
    """``value`` read at ``path``: a plain value is marked read, a model, a dict or a tuple of models is wrapped."""
    if value is None or type(value) in _LEAF_TYPES:  # the common case first: a plain value is read
        used.add(path)
        return value
    view = _VIEWS.get(type(value)) or (_view_class(type(value)) if _is_model(value) else None)
    if view is not None:
        tracked = object.__new__(view)
        _set_obj(tracked, value)
        _set_path(tracked, path)
        _set_used(tracked, used)
        return tracked
    if isinstance(value, dict):
        return Tracked(value, path, used)
    if isinstance(value, tuple) and any(_is_model(v) for v in value):
        return tuple(_wrap(used, v, f"{path}/{i}") if _is_model(v) else Tracked(v, f"{path}/{i}", used)
                     for i, v in enumerate(value))
    used.add(path)
    return value


_OWN_NAMES = frozenset(name for name in vars(Tracked) if not name.startswith("_"))
_get_obj = Tracked._obj.__get__  # type: ignore[attr-defined]  # the slots' own descriptors: no lookup
_get_path = Tracked._path.__get__  # type: ignore[attr-defined]
_get_used = Tracked._used.__get__  # type: ignore[attr-defined]
_set_obj = Tracked._obj.__set__  # type: ignore[attr-defined]
_set_path = Tracked._path.__set__  # type: ignore[attr-defined]
_set_used = Tracked._used.__set__  # type: ignore[attr-defined]


def _field_reader(name: str) -> property:
    """The property reading field ``name`` of a view's model: what :func:`_read` does for a field, in one call."""

    def read(tracked: Tracked) -> Any:
        value = getattr(_get_obj(tracked), name)
        path = _get_path(tracked)
        if value is None or type(value) in _LEAF_TYPES:
            _get_used(tracked).add(f"{path}.{name}" if path else name)
            return value
        if callable(value) and not (_is_model(value) or isinstance(value, dict)):
            _get_used(tracked).add(path)  # as _read does for a method (a field never holds one)
            return value
        return _wrap(_get_used(tracked), value, f"{path}.{name}" if path else name)

    return property(read, doc=f"the {name} field, marked read when a value is taken")


_VIEWS: dict[type, type[Tracked]] = {}


def _view_class(model: type) -> type[Tracked]:
    """The :class:`Tracked` subclass for one model type, made once per type.

    Each field is a property (one call per read, instead of ``__getattribute__`` then ``_read``);
    the default lookup is restored, so anything else (a method, an unknown name) is not found
    and goes to ``__getattr__``, which reads it as the base class does. What is marked is the same.
    """
    view = _VIEWS.get(model)
    if view is None:
        fields = {name: _field_reader(name) for name in model.model_fields  # type: ignore[attr-defined]
                  if not name.startswith("_") and name not in _OWN_NAMES}
        view = _VIEWS[model] = type(f"Tracked[{model.__name__}]", (Tracked,),
                                    {"__slots__": (), "__getattribute__": object.__getattribute__, **fields})
    return view


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


_NO_DEFAULT = object()
_DEFAULTS: dict[type, dict[str, Any]] = {}


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    """A model class's plain field defaults (``model_fields`` is a property: read once per class)."""
    known = _DEFAULTS.get(model)
    if known is None:
        known = _DEFAULTS[model] = {name: info.default for name, info in model.model_fields.items()
                                    if info.default_factory is None and type(info.default) in _LEAF_TYPES}
    return known


def _any_unread(value: Any, path: str, used: set[str], top: bool = False) -> bool:
    """Whether ``value`` at ``path`` may hold a leaf that no read path covers: a quick walk that stops at read nodes.

    Conservative: True whenever in doubt (a value :func:`held` would leave out, a key with a dot in it),
    and then :func:`unread` works the drops out the exact way; False only when every leaf
    :func:`held` can list lies at or under a path in ``used``, so that way would list none.
    A model is walked by its type's checker for that path (:func:`_checker`, made once); below a list
    item or a dict key (paths that come from the data) the walk is :func:`_walked`, which makes none.
    """
    if path in used:
        return False
    if _is_model(value):
        key = (type(value), path, top)
        check = _CHECKERS.get(key) or _checker(*key)
        return check(value.__dict__, used)
    return _walked(value, path, used)


def _walked(value: Any, path: str, used: set[str], top: bool = False) -> bool:
    """:func:`_any_unread` field by field, without generated code (list items, dict values, their subtrees)."""
    if path in used:
        return False
    if _is_model(value):
        defaults = _defaults(type(value))
        for name, item in value.__dict__.items():
            if item is None or (top and name == "dropped"):
                continue
            if type(item) in _LEAF_TYPES:
                if item == "" or item == defaults.get(name, _NO_DEFAULT):  # left out by model_dump(exclude_defaults)
                    continue
                if (f"{path}.{name}" if path else name) not in used:
                    return True
            elif _walked(item, f"{path}.{name}" if path else name, used):
                return True
        return False
    if isinstance(value, dict):
        return any(item is not None and item != "" and _walked(item, f"{path}.{key}" if path else str(key), used)
                   for key, item in value.items())
    if isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            # a model is never == "" (and its __eq__ is pydantic's, in Python): not asked
            if item is not None and (_is_model(item) or item != "") and _walked(item, f"{path}/{index}", used):
                return True
        return False
    return value is not None and value != ""  # a leaf not read (a model's own leaves are taken above)


_CHECKERS: dict[tuple[type, str, bool], Callable[[dict[str, Any], set[str]], bool]] = {}
_CHECKER_LIMIT = 2048  # (model type, path) pairs: a few dozen per encoder, list items by index; bounded all the same


def _checker(model: type[BaseModel], path: str, top: bool,
             making: frozenset[type] = frozenset()) -> Callable[[dict[str, Any], set[str]], bool]:
    """The quick walk of one model type at one path, as straight-line code: the field names, their paths and
    their plain defaults are constants of the function (they were formatted and looked up per case).

    For each field, in order, what the generic walk did: None is nothing; a plain leaf is unread when it is
    not "" nor the field's default (``model_dump(exclude_defaults)`` leaves those out) and its path was not
    read; a sub-model of the one model type the field is declared with is walked by that type's checker at
    its path, called directly (unless its path was read); anything else (a list, a dict) goes to
    :func:`_walked`, so checkers exist only for paths the model classes name (never one per list index or
    dict key of a message: a hostile list of 10,000 items makes no code). At the top the case's own
    ``dropped`` report is left out.
    """
    constants: dict[str, Any] = {"_LEAF_TYPES": _LEAF_TYPES, "_walked": _walked}
    lines = ["def check(fields, used):"]
    for index, (name, info) in enumerate(model.model_fields.items()):
        if top and name == "dropped":
            continue
        child = f"{path}.{name}" if path else name
        default = _defaults(model).get(name, _NO_DEFAULT)
        constants[f"N{index}"], constants[f"P{index}"], constants[f"D{index}"] = name, child, default
        not_default = "" if default is _NO_DEFAULT else f" and item != D{index}"
        lines += [f"    item = fields.get(N{index})",
                  "    if item is not None:"]
        sub = _model_of(info.annotation)
        if sub is not None and sub not in making:  # a model type inside itself stays with the generic walk
            constants[f"T{index}"], constants[f"C{index}"] = sub, _checker(sub, child, False, making | {model})
            lines += [f"        if type(item) is T{index}:",
                      f"            if P{index} not in used and C{index}(item.__dict__, used):",
                      "                return True",
                      "        elif type(item) in _LEAF_TYPES:"]
        else:
            lines.append("        if type(item) in _LEAF_TYPES:")
        lines += [f"            if item != ''{not_default} and P{index} not in used:",
                  "                return True",
                  f"        elif _walked(item, P{index}, used):",
                  "            return True"]
    lines.append("    return False")
    exec("\n".join(lines), constants)  # noqa: S102 - our own text: field names of a model class, as constants
    check: Callable[[dict[str, Any], set[str]], bool] = constants["check"]
    if len(_CHECKERS) >= _CHECKER_LIMIT:
        _CHECKERS.clear()
    _CHECKERS[(model, path, top)] = check
    return check


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model type a field is declared with (``Coded`` or ``Coded | None``), else None."""
    kinds = [kind for kind in (get_args(annotation) or (annotation,)) if kind is not type(None)]
    if len(kinds) == 1 and isinstance(kinds[0], type) and issubclass(kinds[0], BaseModel):
        return kinds[0]
    return None


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
    if not _any_unread(case, "", used, top=True):
        return []  # every held leaf lies under a path the encoder read: nothing dropped (the usual case)
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

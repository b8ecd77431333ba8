"""Code translation through the mapping tables, with every warning kept.

Adapters never look codes up themselves: they call :func:`map_code`, which asks
the injected ``MappingSet`` and turns its warning (a fallback or pass-through
policy that fired) into an :class:`Issue` naming the field and the table line.
A rejecting policy raises the table's own ``UnmappedCode`` (an ``InboundError``
naming the table and line), which the pipeline lets through unchanged.
"""

from __future__ import annotations

from typing import Literal

from bridge.core.adapters.base import AdapterContext, MappedLike
from bridge.core.errors import BridgeError, Issue

Way = Literal["forward", "reverse"]


def map_code(ctx: AdapterContext, table: str | None, code: str | None, path: str,
             way: Way = "forward") -> tuple[str | None, list[Issue]]:
    """Translate ``code`` through ``table`` in direction ``way``; no table means no translation."""
    if code is None or code == "" or not table:
        return (code or None), []
    if ctx.mappings is None:
        return code, [Issue(path, f"no mapping tables loaded: code {code!r} passed through "
                                  f"untranslated (table {table})", "unmapped-code")]
    try:
        mapped = getattr(ctx.mappings, way)(table, code)
    except KeyError as exc:  # UnknownTable: the profile names a table the manifest lacks
        raise BridgeError(f"no mapping table {table!r} (needed for {path})",
                          [Issue(path, str(exc).strip("'\""), "no-table")]) from None
    return mapped.code, lookup_warnings(mapped, path)


VALUE_ALTERED = "value-altered"


def map_code_detail(ctx: AdapterContext, table: str, code: str, path: str,
                    way: Way = "forward") -> tuple[MappedLike | None, list[Issue]]:
    """Like :func:`map_code`, with the lookup itself (``how`` it was mapped, the ``original`` code)."""
    if ctx.mappings is None:
        return None, [Issue(path, f"no mapping tables loaded: code {code!r} passed through "
                                  f"untranslated (table {table})", "unmapped-code")]
    try:
        mapped = getattr(ctx.mappings, way)(table, code)
    except KeyError as exc:
        raise BridgeError(f"no mapping table {table!r} (needed for {path})",
                          [Issue(path, str(exc).strip("'\""), "no-table")]) from None
    return mapped, lookup_warnings(mapped, path)


def lookup_warnings(mapped: object, path: str) -> list[Issue]:
    """The warning of one lookup (a fallback or pass-through policy that fired) as Issues naming ``path``."""
    warning = getattr(mapped, "warning", None)
    if not warning:
        return []
    if isinstance(warning, Issue):
        return [Issue(path, f"{warning.message} ({warning.path})", warning.code)]
    source = getattr(mapped, "source", "")
    # the value that travels is not the one received: an alteration, always visible (value-altered)
    return [Issue(path, f"{warning} ({source})" if source else str(warning), VALUE_ALTERED)]


def label_of(ctx: AdapterContext, code: str | None) -> str | None:
    """The nomenclature label of a code, when the context knows it."""
    return ctx.labels.get(code) if code else None

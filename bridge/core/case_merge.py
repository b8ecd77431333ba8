"""A case update (RS-EDA-MAJ) merged onto the case's earlier state: pure, never inventing content.

An RS-EDA-MAJ (``createCaseHealthUpdate``) carries only what changed; an RC-EDA ``createCase``
(also as an Update) must be complete (``whatsHappen``, location...). As the national converter
does with its database, the bridge merges the update onto the case's earlier state it stored
(the last RC-EDA it sent to NexSIS for that case) and sends the complete result.

Rules (field by field, recursively through the case's parts):

- a field the update carries wins (its value replaces the earlier one);
- a field the update does not carry keeps its earlier value;
- a field absent from both stays absent (nothing is made up);
- lists: ``notes`` are added to the earlier notes (an update adds notes; one already known is
  not repeated); any other list (risk threats, patients) carried by the update replaces the earlier one
  (as RFC 7386 JSON merge patch treats arrays), else the earlier list is kept;
- ``extras``: merged key by key, the update's winning.

:func:`merge_case` also says which canonical fields the update changed and which were carried
over unchanged from the earlier state, for the message's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from bridge.core.canonical import Case

_IDENTITY = frozenset({"dropped", "version"})  # bookkeeping, not content: taken from the update as decoded


@dataclass(frozen=True)
class CaseMerge:
    """What :func:`merge_case` made: the merged case, the fields the update changed, those kept from before."""

    case: Case
    changed: tuple[str, ...]
    kept: tuple[str, ...]


def merge_case(earlier: Case, update: Case) -> CaseMerge:
    """``update`` (what an RS-EDA-MAJ carries) merged onto ``earlier`` (the case as last sent). Pure."""
    changed: list[str] = []
    kept: list[str] = []
    values: dict[str, Any] = {}
    for name in type(update).model_fields:
        if name in _IDENTITY:
            values[name] = getattr(update, name)
            continue
        values[name] = _merge_value(name, getattr(earlier, name), getattr(update, name), changed, kept)
    return CaseMerge(update.model_copy(update=values), tuple(changed), tuple(kept))


def _empty(value: Any) -> bool:
    return value is None or value == () or value == {} or value == ""


def _merge_value(path: str, before: Any, after: Any, changed: list[str], kept: list[str]) -> Any:
    if _empty(after):
        if not _empty(before):
            kept.append(path)
        return before
    if _empty(before):
        changed.append(path)
        return after
    if isinstance(after, BaseModel) and type(before) is type(after):
        values = {}
        for name in type(after).model_fields:
            old, new = getattr(before, name), getattr(after, name)
            if new == type(after).model_fields[name].default and not _empty(old):
                new = None  # the update left it at its default (e.g. country "FR"): not carried
            values[name] = _merge_value(f"{path}.{name}", old, new, changed, kept)
        return after.model_copy(update=values)
    if path == "notes":
        added = tuple(note for note in after if note not in before)
        if added:
            changed.append(path)
        else:
            kept.append(path)
        return tuple(before) + added
    if isinstance(after, dict) and isinstance(before, dict):
        merged = {**before, **after}
        (changed if any(before.get(k) != v for k, v in after.items()) else kept).append(path)
        return merged
    (changed if after != before else kept).append(path)
    return after

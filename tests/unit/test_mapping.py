"""Mapping tables: parsing, lookups both ways, and the three unmapped policies."""

from __future__ import annotations

import pytest

from bridge.core.mapping import MappingSet, UnknownTable, UnmappedCode, lint_tables
from bridge.core.nomenclature import Nomenclatures

MANIFEST = """\
[tables.demo]
file = "demo.csv"
[tables.demo.forward]
unmapped = "fallback"
fallback = "OTHER"
[tables.demo.reverse]
unmapped = "pass-through"

[tables.strict]
file = "strict.csv"
[tables.strict.forward]
unmapped = "reject"
"""

DEMO = """\
source,target,direction,default,comment
INC,FIRE,both,,fire
INCH,FIRE,both,yes,house fire: reverse default
AVP,ROAD,forward,,
ACC,ROAD,both,,
OK,ACCEPTED,reverse,,
"""


def _set() -> MappingSet:
    result = lint_tables(MANIFEST, {"demo.csv": DEMO, "strict.csv": DEMO}, Nomenclatures())
    assert result.errors == []
    return MappingSet(result.tables, version="v1")


def test_forward_lookup_names_the_row_used():
    """A mapped code returns its target and the file:line of the row."""
    mapped = _set().forward("demo", "INC")
    assert (mapped.code, mapped.warning, mapped.source) == ("FIRE", None, "demo.csv:2")


def test_reverse_of_many_to_one_uses_the_default_row():
    """Two sources share FIRE; the row marked default=yes answers the reverse lookup."""
    assert _set().reverse("demo", "FIRE").code == "INCH"


def test_direction_column_limits_a_row_to_one_way():
    """A forward-only row is skipped in reverse, a reverse-only row in forward."""
    mappings = _set()
    assert mappings.reverse("demo", "ROAD").code == "ACC"
    assert mappings.forward("demo", "OK").code == "OTHER"
    assert mappings.reverse("demo", "ACCEPTED").code == "OK"


def test_lookup_ignores_surrounding_spaces():
    """Codes from the field often carry trailing spaces."""
    assert _set().forward("demo", " INC ").code == "FIRE"


def test_fallback_policy_returns_the_fallback_with_a_warning():
    """An unmapped code under 'fallback' gives the fallback code, a warning and the manifest line."""
    mapped = _set().forward("demo", "XYZ")
    assert mapped.code == "OTHER" and "XYZ" in mapped.warning and mapped.source == "tables.toml:4"


def test_pass_through_policy_keeps_the_code_with_a_warning():
    """An unmapped code under 'pass-through' is returned unchanged, with a warning."""
    mapped = _set().reverse("demo", "NOPE")
    assert mapped.code == "NOPE" and "passed through" in mapped.warning and mapped.source == "tables.toml:7"


def test_reject_policy_raises_naming_table_code_and_manifest_line():
    """An unmapped code under 'reject' raises an inbound error a control room can read."""
    with pytest.raises(UnmappedCode) as caught:
        _set().forward("strict", "XYZ")
    assert caught.value.issues[0].path == "tables.toml:12"
    assert "'strict'" in str(caught.value) and "'XYZ'" in str(caught.value)


def test_default_policy_is_reject():
    """A direction without a sub-table rejects unmapped codes."""
    with pytest.raises(UnmappedCode):
        _set().reverse("strict", "NOPE")


def test_unknown_table_is_a_wiring_error():
    """Naming a table the manifest lacks raises UnknownTable listing the known ones."""
    with pytest.raises(UnknownTable, match="demo"):
        _set().forward("missing", "INC")

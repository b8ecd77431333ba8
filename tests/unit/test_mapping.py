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


INHERIT_MANIFEST = """\
[tables.nature]
file = "nature.csv"
source = "legacy"
target = "whatsHappen"
[tables.nature.reverse]
inherit = true
unmapped = "fallback"
fallback = "DIV"
"""

FAIT = """\
,code,label_n1,label_n2,label_n3
0,C04.00.00,Incendie,,
1,C04.02.00,,Bâtiment,
2,C04.02.03,,,Industriel
3,C08.00.00,Aléas,,
"""


def _inheriting_set():
    from bridge.core.mapping import coverage
    from bridge.core.nomenclature import parse_code_list

    lists = {"HubSante.fait": parse_code_list("HubSante.fait", FAIT, "fait.csv")[0],
             "legacy": parse_code_list("legacy", "code,label_n1\nINC,Feu\nDIV,Divers\n", "legacy.csv")[0]}
    registry = Nomenclatures(lists=lists)
    rows = "source,target,direction,default\nINC,C04.00.00,both,\nDIV,C08.00.00,forward,\n"
    result = lint_tables(INHERIT_MANIFEST, {"nature.csv": rows}, registry)
    assert result.errors == []
    return MappingSet(result.tables, nomenclatures=registry), coverage(result.tables, registry, leaf_only=True)


def test_inherit_uses_the_nearest_ancestor_row():
    """A code without a row takes its ancestor's row, with a warning (the value changed), naming the ancestor."""
    mapped = _inheriting_set()[0].reverse("nature", "C04.02.03")
    assert mapped.code == "INC" and mapped.how == "inherited" and mapped.original == "C04.02.03"
    assert "C04.00.00" in mapped.warning and "C04.02.03" in mapped.warning
    assert mapped.source == "nature.csv:2 (inherited from C04.00.00)"


def test_inherit_falls_back_when_no_ancestor_has_a_row():
    """Without any mapped ancestor the unmapped policy still applies."""
    mapped = _inheriting_set()[0].reverse("nature", "C08.00.00")
    assert mapped.code == "DIV" and mapped.warning


def test_coverage_counts_inherited_codes_apart():
    """Coverage reports codes reached through a parent row separately."""
    reverse = next(c for c in _inheriting_set()[1] if c.direction == "reverse")
    assert (reverse.mapped, reverse.total, reverse.inherited, reverse.unmapped) == (1, 2, 1, ("C08.00.00",))

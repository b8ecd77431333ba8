"""Coverage: which codes of the official lists a table maps, in each direction.

Forward coverage counts codes of the table's *source* list that have a forward row; reverse
coverage counts codes of its *target* list that have a reverse row. A direction declared
``inherit = true`` also counts codes whose ancestor has a row (reported apart). With
``leaf_only`` only the most specific codes count, the ones an operator actually picks.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from bridge.core.mapping.mapping_set import inherited_row, resolve
from bridge.core.mapping.table import DirectionRules, MappingTable, Policy
from bridge.core.nomenclature import Nomenclatures


class DirectionCoverage(BaseModel):
    """Mapped share of one code list by one direction of one table."""

    model_config = ConfigDict(frozen=True)

    table: str
    direction: str
    code_list: str
    mapped: int
    total: int
    unmapped: tuple[str, ...]
    inherited: int = 0
    policy: str = "reject"  # what a code with no row (own or parent) gets: reject, fallback 'X', omit, pass-through

    @property
    def degraded(self) -> int:
        """Codes that travel only through the unmapped policy (fallback, omit, pass-through), never refused."""
        return 0 if self.policy == "reject" else len(self.unmapped)

    @property
    def ratio(self) -> float:
        return self.mapped / self.total if self.total else 1.0

    def summary(self) -> str:
        via = f", {self.inherited} via a parent row" if self.inherited else ""
        rest = f"; {len(self.unmapped)} other(s): {self.policy}" if self.unmapped else ""
        return (f"{self.table} {self.direction:<7} {self.code_list}: {self.mapped}/{self.total} "
                f"({100 * self.ratio:.1f}%{via}){rest}")


def table_coverage(table: MappingTable, nomenclatures: Nomenclatures, leaf_only: bool = False) -> list[DirectionCoverage]:
    """Coverage of a table's source list (forward) and target list (reverse), when they are loaded."""
    found = []
    for direction, side in (("forward", "source"), ("reverse", "target")):
        name = getattr(table.spec, side)
        code_list = nomenclatures.get(name) if name else None
        if code_list is None:
            continue
        keys = resolve(table, direction)[0]
        codes = code_list.leaf_codes() if leaf_only else list(code_list.codes)
        missing = [code for code in codes if code not in keys]
        rules = getattr(table.spec, direction)
        unmapped = tuple(c for c in missing if not (rules.inherit and inherited_row(keys, code_list, c)))
        found.append(DirectionCoverage(table=table.spec.name, direction=direction, code_list=code_list.name,
                                       mapped=len(codes) - len(unmapped), total=len(codes), unmapped=unmapped,
                                       inherited=len(missing) - len(unmapped), policy=policy_text(rules)))
    return found


def policy_text(rules: DirectionRules) -> str:
    """``fallback 'DIV'``, ``omit``, ``reject``, ``pass-through``: what an unmapped code gets."""
    if rules.unmapped is Policy.FALLBACK:
        return f"fallback {rules.fallback!r} ({rules.where})"
    return f"{rules.unmapped.value} ({rules.where})"


def inline_coverage(owner: str, field: str, codes: dict[str, str], code_list_name: str | None,
                    nomenclatures: Nomenclatures) -> DirectionCoverage:
    """Coverage of an inline ``code = value`` map of a profile (legacy -> official), reverse side."""
    code_list = nomenclatures.get(code_list_name) if code_list_name else None
    known = set(codes.values())
    if code_list is None:
        return DirectionCoverage(table=f"{owner} [inline {field}]", direction="reverse",
                                 code_list=f"{code_list_name or '?'} (not loaded)", mapped=len(known),
                                 total=len(known), unmapped=(), policy="inline")
    all_codes = list(code_list.codes)
    unmapped = tuple(c for c in all_codes if c not in known)
    return DirectionCoverage(table=f"{owner} [inline {field}]", direction="reverse", code_list=code_list.name,
                             mapped=len(all_codes) - len(unmapped), total=len(all_codes), unmapped=unmapped,
                             policy="inline map: passed through unchanged")


def coverage(tables: dict[str, MappingTable], nomenclatures: Nomenclatures,
             leaf_only: bool = False) -> list[DirectionCoverage]:
    """Coverage of every table, in table-name order."""
    return [c for name in sorted(tables) for c in table_coverage(tables[name], nomenclatures, leaf_only)]

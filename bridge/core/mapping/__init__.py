"""CSV mapping tables between code lists: parse, look up, lint, measure coverage (sans-IO)."""

from bridge.core.mapping.coverage import DirectionCoverage, coverage, table_coverage
from bridge.core.mapping.lint import LintResult, is_error, lint_tables, severity
from bridge.core.mapping.mapping_set import Mapped, MappingSet, UnknownTable, UnmappedCode
from bridge.core.mapping.table import MappingTable, Policy, Row, TableSpec, parse_manifest, parse_table

__all__ = [
    "DirectionCoverage", "LintResult", "Mapped", "MappingSet", "MappingTable", "Policy", "Row", "TableSpec",
    "UnknownTable", "UnmappedCode", "coverage", "is_error", "lint_tables", "parse_manifest", "parse_table",
    "severity", "table_coverage",
]

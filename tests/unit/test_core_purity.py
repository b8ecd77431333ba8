"""The core stays sans-IO: no edge module, no I/O library, no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "bridge" / "core"
FORBIDDEN = {
    "twisted", "pika", "socket", "asyncio", "sqlite3", "threading", "time",
    "subprocess", "urllib", "http", "ssl", "select", "selectors", "signal",
    "bridge.edges", "bridge.cli", "bridge.refdata.resources", "bridge.refdata.bundle", "bridge.runtime.config",
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_no_io(path: Path) -> None:
    """A core module imports nothing that does I/O or reads the clock."""
    bad = {name for name in _imports(path) if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)}
    assert bad == set(), f"{path} imports {sorted(bad)}"

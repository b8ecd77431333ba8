"""The core stays sans-IO: no edge module, no I/O library, no clock, no randomness, no environment.

Two checks per core module: what it imports, and what its code calls (an AST
walk, so ``open(...)`` or ``datetime.now()`` is refused even though ``open``
and ``datetime`` need no forbidden import).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "bridge" / "core"
FORBIDDEN = {
    "twisted", "pika", "socket", "asyncio", "sqlite3", "threading", "time",
    "subprocess", "urllib", "http", "ssl", "select", "selectors", "signal",
    "random", "secrets", "importlib.metadata", "importlib.resources",
    "bridge.edges", "bridge.cli", "bridge.refdata", "bridge.runtime", "bridge.app", "bridge.sim",
}
# Attribute names that read a file, the clock, a random source or the environment wherever they appear.
FORBIDDEN_ATTRIBUTES = {"read_text", "read_bytes", "write_text", "write_bytes", "utcnow", "uuid1", "uuid4",
                        "environ", "getenv", "entry_points"}
FORBIDDEN_NAMES = {"open", "uuid1", "uuid4", "environ", "getenv", "entry_points"}
CLOCK_OWNERS = {"datetime", "date"}  # datetime.now(), date.today()


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _owner(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def impure_uses(source: str, filename: str = "<core>") -> list[str]:
    """``line: what`` for every file, clock, randomness or environment use in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            found.append(f"{node.lineno}: {node.id}")
        elif isinstance(node, ast.Attribute):
            if node.attr in FORBIDDEN_ATTRIBUTES:
                found.append(f"{node.lineno}: .{node.attr}")
            elif node.attr in ("now", "today") and _owner(node.value) in CLOCK_OWNERS:
                found.append(f"{node.lineno}: {_owner(node.value)}.{node.attr}")
        elif isinstance(node, ast.alias) and node.name in FORBIDDEN_NAMES:
            found.append(f"{getattr(node, 'lineno', '?')}: import {node.name}")
    return found


CORE_MODULES = sorted(CORE.rglob("*.py"))


@pytest.mark.parametrize("path", CORE_MODULES, ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_no_io(path: Path) -> None:
    """A core module imports nothing that does I/O, reads the clock or draws random numbers."""
    imported = _imports(ast.parse(path.read_text(), str(path)))
    bad = {name for name in imported if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)}
    assert bad == set(), f"{path} imports {sorted(bad)}"


@pytest.mark.parametrize("path", CORE_MODULES, ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_calls_no_io(path: Path) -> None:
    """A core module opens no file, reads no clock, draws no uuid4 and reads no environment variable."""
    assert impure_uses(path.read_text(), str(path)) == [], f"{path}: pass these in instead"


@pytest.mark.parametrize("snippet", [
    "data = open('x').read()",
    "text = path.read_text()",
    "blob = Path('x').read_bytes()",
    "from datetime import datetime\nnow = datetime.now()",
    "import datetime\nnow = datetime.datetime.utcnow()",
    "from datetime import date\nday = date.today()",
    "import uuid\nident = uuid.uuid4()",
    "from uuid import uuid4",
    "import os\nhome = os.environ['HOME']",
    "import os\nhome = os.getenv('HOME')",
    "from importlib.metadata import entry_points",
])
def test_the_check_catches_each_impure_use(snippet: str) -> None:
    """Each refused construct is actually caught (by the AST walk or the import list)."""
    tree = ast.parse(snippet)
    imported = {n for n in _imports(tree) if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)}
    assert impure_uses(snippet) or imported, snippet


def test_the_check_leaves_injected_values_alone() -> None:
    """Reading an injected clock or id source (``ctx.now``, ``ctx.new_id()``) is what the core should do."""
    assert impure_uses("stamp = ctx.now.isoformat()\nident = ctx.new_id()\nwhen = self.now") == []

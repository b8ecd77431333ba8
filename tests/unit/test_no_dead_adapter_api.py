"""Every name the core adapters export is used by someone else: no dead helper left to rot (``shape_guard``).

Uses are read from the code (names, attributes, imports: not comments) of the bridge, the tests,
the benchmarks and the tools, and from the entry points in ``pyproject.toml``; a name used only
inside its own module is not a reason to export it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = ROOT / "bridge" / "core" / "adapters"

# Exported for plugin authors or by work in progress elsewhere, not used in this repository yet.
KNOWN_UNUSED = {
    "base.py": {"MappingLookup"},  # the protocol a plugin's mapping lookup implements
    "hub_payload.py": {"WRONG_KIND", "Unpacked", "unpack", "wrong_kind"},
    "rs_eda.py": {"decode_health", "encode_health"},
    "rs_ri.py": {"PATIENT_EXTRA", "RS_RI", "RS_SR"},
}


def _exported(tree: ast.Module) -> list[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return []


def _used_names(tree: ast.AST) -> set[str]:
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.ImportFrom):
            used.update(alias.name for alias in node.names)
    return used


def test_every_exported_adapter_name_is_used_outside_its_module():
    trees = {path: ast.parse(path.read_text(encoding="utf-8"))
             for folder in ("bridge", "tests", "benchmarks", "tools") for path in (ROOT / folder).rglob("*.py")}
    uses = {path: _used_names(tree) for path, tree in trees.items()}
    entry_points = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    unused = []
    for module in sorted(ADAPTERS.glob("*.py")):
        elsewhere = set().union(*(names for path, names in uses.items() if path != module))
        for name in _exported(trees[module]):
            if name not in elsewhere and f":{name}" not in entry_points and name not in KNOWN_UNUSED.get(module.name, ()):
                unused.append(f"{module.name}: {name}")
    assert unused == [], "exported but used nowhere else: remove it, or wire it where it was meant to be"

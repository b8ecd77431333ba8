"""The committed generated models are what tools/gen_models.py makes from the official bundle.

The generator runs in a child process, as it does for a maintainer: xmlschema
cannot build a schema in a process where zope.interface has declared
interfaces on ``collections.abc`` classes (``twisted.internet.testing`` does,
when other test modules import it), so an in-process run would depend on
which tests were collected.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT

MODELS_DIR = PROJECT_ROOT / "bridge" / "core" / "models"
GENERATOR = PROJECT_ROOT / "tools" / "gen_models.py"


def run_generator(bundle: Path, out_dir: Path) -> subprocess.CompletedProcess:
    """Run ``tools/gen_models.py bundle out_dir`` in a child Python (bounded by a timeout)."""
    return subprocess.run([sys.executable, str(GENERATOR), str(bundle), str(out_dir)],
                          capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT, check=False)


def test_generated_models_are_up_to_date(hub_reference: Path, tmp_path: Path) -> None:
    """Regenerating from the corpus gives byte-identical modules (else: rerun the generator)."""
    result = run_generator(hub_reference, tmp_path)
    assert result.returncode == 0, result.stderr
    written = sorted(tmp_path.glob("_gen_*.py"))
    assert [path.name for path in written] == sorted(path.name for path in MODELS_DIR.glob("_gen_*.py"))
    stale = [path.name for path in written if path.read_text() != (MODELS_DIR / path.name).read_text()]
    assert stale == [], f"stale generated models {stale}: run python tools/gen_models.py {hub_reference}"


def test_generated_models_copy_no_upstream_prose(hub_reference: Path) -> None:
    """No title or description text of the official schemas ends up in the generated code."""
    prose: set[str] = set()
    for stem in ("RC-EDA", "EMSI", "RC-DE", "RC-REF", "RS-ERROR"):
        schema = json.loads((hub_reference / "json-schema" / f"{stem}.schema.json").read_text(encoding="utf-8"))
        _collect_prose(schema, prose)
    generated = "\n".join(path.read_text() for path in MODELS_DIR.glob("_gen_*.py"))
    assert prose, "found no upstream prose to look for"
    assert sorted(text for text in prose if text in generated) == []


def _collect_prose(node, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("title", "description") and isinstance(value, str) and " " in value.strip() and len(value) > 15:
                found.add(value)
            else:
                _collect_prose(value, found)
    elif isinstance(node, list):
        for item in node:
            _collect_prose(item, found)


def test_generator_refuses_a_key_missing_from_the_xsd(hub_reference: Path, tmp_path: Path) -> None:
    """A JSON Schema key with no XSD element stops generation with a message naming it."""
    bundle = tmp_path / "bundle"
    (bundle / "json-schema").mkdir(parents=True)
    (bundle / "xsd").mkdir()
    for stem in ("RC-EDA", "EMSI", "RC-DE", "RC-REF", "RS-ERROR"):
        for folder, suffix in (("json-schema", ".schema.json"), ("xsd", ".xsd")):
            (bundle / folder / f"{stem}{suffix}").write_bytes((hub_reference / folder / f"{stem}{suffix}").read_bytes())
    schema_path = bundle / "json-schema" / "RC-REF.schema.json"
    schema_path.write_text(schema_path.read_text(encoding="utf-8").replace(
        '"distributionID": {', '"extraKey": {"type": "string"}, "distributionID": {', 1), encoding="utf-8")
    result = run_generator(bundle, tmp_path / "out")
    assert result.returncode == 1
    assert "extraKey" in result.stderr and "Traceback" not in result.stderr

"""The committed generated models are what tools/gen_models.py makes from the official bundle."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

MODELS_DIR = PROJECT_ROOT / "bridge" / "core" / "models"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_models", PROJECT_ROOT / "tools" / "gen_models.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_models"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_generated_models_are_up_to_date(hub_reference: Path, tmp_path: Path) -> None:
    """Regenerating from the corpus gives byte-identical modules (else: rerun the generator)."""
    written = _generator().write_all(hub_reference, tmp_path)
    assert written, "generator wrote nothing"
    stale = [path.name for path in written if path.read_text() != (MODELS_DIR / path.name).read_text()]
    assert stale == [], f"stale generated models {stale}: run python tools/gen_models.py {hub_reference}"


def test_generated_models_copy_no_upstream_prose(hub_reference: Path) -> None:
    """No title or description text of the official schemas ends up in the generated code."""
    import json

    prose = set()
    for stem in ("RC-EDA", "EMSI", "RC-DE", "RC-REF", "RS-ERROR"):
        schema = json.loads((hub_reference / "json-schema" / f"{stem}.schema.json").read_text(encoding="utf-8"))
        _collect_prose(schema, prose)
    generated = "\n".join(path.read_text() for path in MODELS_DIR.glob("_gen_*.py"))
    copied = sorted(text for text in prose if text in generated)
    assert copied == []


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
    schema = (hub_reference / "json-schema" / "RC-REF.schema.json").read_text(encoding="utf-8")
    (bundle / "json-schema" / "RC-REF.schema.json").write_text(
        schema.replace('"distributionID": {', '"extraKey": {"type": "string"}, "distributionID": {', 1),
        encoding="utf-8")
    (bundle / "xsd" / "RC-REF.xsd").write_bytes((hub_reference / "xsd" / "RC-REF.xsd").read_bytes())
    generator = _generator()
    with pytest.raises(generator.GenerationError, match="extraKey"):
        generator.generate(bundle, "RC-REF", "reference")

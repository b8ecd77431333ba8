"""docs/configuration.md must match what tools/gen_config_docs.py generates from the config model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bridge.runtime.config import SECTIONS, env_var_name

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_config_docs", PROJECT_ROOT / "tools" / "gen_config_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_configuration_doc_is_up_to_date():
    """The committed reference equals a fresh generation; regenerate it when this fails."""
    committed = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == load_generator().render(), (
        "docs/configuration.md is out of date: run `.venv/bin/python tools/gen_config_docs.py` and commit it"
    )


def test_every_key_is_documented_with_its_variable():
    """Each key of each section appears with its environment variable name."""
    text = load_generator().render()
    missing = [env_var_name(s, k) for s, model in SECTIONS.items() for k in model.model_fields if env_var_name(s, k) not in text]
    assert [] == missing

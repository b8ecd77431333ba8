"""Fixtures of the golden translation tests: a deterministic adapter context and the official schemas."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import fastjsonschema
import pytest

from bridge.core.errors import Issue
from bridge.refdata.profiles import build_context

GOLDEN = Path(__file__).resolve().parent
NOW = datetime(2024, 5, 18, 18, 30, tzinfo=timezone(timedelta(hours=2)))


@pytest.fixture(scope="session")
def hub_ctx(hub_reference):
    """Context with the project's mapping tables, official labels and a fixed clock and id sequence."""
    counter = itertools.count(1)
    return build_context(nomenclature_dir=hub_reference / "nomenclatures", schemas=hub_reference, now=NOW,
                         new_id=lambda: f"id-{next(counter):04d}", sender_id="fr.health.samu440")


@pytest.fixture
def fresh_ctx(hub_ctx):
    """The session context with its id sequence restarted, so outputs are byte-stable per test."""
    counter = itertools.count(1)
    return hub_ctx.__class__(**{**hub_ctx.__dict__, "new_id": lambda: f"id-{next(counter):04d}"})


@pytest.fixture(scope="session")
def schema_validator(hub_reference):
    """Validate a Hub payload dict against its official JSON Schema; returns Issues."""
    schemas = {"createCase": "RC-EDA", "emsi": "EMSI", "resourcesInfoCisu": "RC-RI"}
    compiled = {name: fastjsonschema.compile(json.loads((hub_reference / "json-schema" /
                                                         f"{file}.schema.json").read_text()))
                for name, file in schemas.items()}

    def validate(name: str, payload: dict) -> list[Issue]:
        try:
            compiled[name](json.loads(json.dumps(payload, default=float)))
        except fastjsonschema.JsonSchemaValueException as exc:
            return [Issue(exc.path if isinstance(exc.path, str) else "/".join(map(str, exc.path or [])),
                          exc.message, "schema")]
        return []

    return validate

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


@pytest.fixture(autouse=True)
def _dates_window_around_the_fixed_clock(monkeypatch):
    """Golden files and official examples are dated 2023-11 to 2024-12, around one fixed clock (NOW):
    open the profiles' date window to a year each way here; the window itself is tested in
    tests/hostile/test_dates.py."""
    from bridge.core.adapters.profile import DatesSpec
    from bridge.refdata import profiles

    parse = profiles.parse_profile
    wide = DatesSpec(max_past_days=3650, max_future_minutes=366 * 24 * 60)
    monkeypatch.setattr(profiles, "parse_profile", lambda *args, **kwargs: parse(*args, **kwargs).model_copy(
        update={"dates": wide}))


# The goldens record a deployment that opted in to carrying victims' identity to NexSIS (the
# legacy customMap carriage, off by default: tests/unit/test_confidentiality.py covers the default).
OPT_IN = ("patients.last_name", "patients.first_name", "patients.sex", "patients.age")


@pytest.fixture(scope="session")
def hub_ctx(hub_reference):
    """Context with the project's mapping tables, official labels and a fixed clock and id sequence."""
    counter = itertools.count(1)
    return build_context(nomenclature_dir=hub_reference / "nomenclatures", schemas=hub_reference, now=NOW,
                         new_id=lambda: f"id-{next(counter):04d}", sender_id="fr.health.samu440",
                         allow_to_fire=OPT_IN, basis="golden tests: a deployment with a documented agreement")


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

"""The compiled verdict of a model (bridge.core.verdict) says what the model says, and builds no model (issue 18).

The wrap step checks each payload the bridge built with ``verdict.accepts`` instead of
``Model.model_validate`` (a refused payload still goes through the model, which names the fields):
that is only right if the verdict is the model's on every input. Checked here on the official
examples and failing samples, the demo and golden payloads, and on thousands of mutations of them
(a key removed, renamed to its Python name, added; a value replaced by any JSON-shaped or Python
value, NaN and out-of-bounds numbers included).
"""

from __future__ import annotations

import itertools
import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError, model_validator

from bridge.core import verdict
from bridge.core.edxl import checked_payload, make_reference, wrap
from bridge.core.errors import OutboundError
from bridge.core.models import HEADER_MODEL, PAYLOAD_MODELS, EdxlDistribution, HubModel, validate_model
from bridge.core.pipeline import legacy_to_hub
from bridge.refdata.profiles import build_context, load_profile
from bridge.runtime.demo import demo_frame
from bridge.testing.rig import SAMU, SDIS
from tests.conftest import reference_dir

ROOT = reference_dir()
GOLDEN = Path(__file__).resolve().parent.parent / "golden"
MODELS: dict[str, type[HubModel]] = {**PAYLOAD_MODELS, "header": HEADER_MODEL, "envelope": EdxlDistribution}
NOW = datetime(2024, 5, 18, 16, 30, tzinfo=UTC)
UUID = "2608323d-507d-4cbf-bf74-52007f8124ea"


def _model_says(model: type[BaseModel], data: Any) -> bool:
    try:
        model.model_validate(data)
    except ValidationError:
        return False
    return True


def _seeds() -> list[tuple[str, Any]]:
    """Valid (model name, dict) pairs: demo and golden payloads, and with the corpus its examples, split."""
    counter = itertools.count(1)
    ctx = build_context(now=NOW, new_id=lambda: f"id-{next(counter):04d}", sender_id=SAMU, recipient_id=SDIS,
                        allow_to_fire=("patients.last_name", "patients.first_name", "patients.sex", "patients.age"),
                        basis="test: every field the pipeline can write")
    profile = load_profile("lrm-alpha-text")
    wide = profile.model_copy(update={"dates": profile.dates.model_copy(update={"max_past_days": 36500,
                                                                                "max_future_minutes": 10 ** 7})})
    seeds = [(item.name, item.payload) for n in (1, 2) for item in legacy_to_hub(demo_frame(n, assistance=n == 2),
                                                                                  wide, ctx)]
    for path in sorted((GOLDEN / "lrm-beta-xml").glob("*.xml"))[:3]:
        beta = load_profile("lrm-beta-xml")
        beta = beta.model_copy(update={"dates": beta.dates.model_copy(update={"max_past_days": 36500,
                                                                              "max_future_minutes": 10 ** 7})})
        seeds += [(item.name, item.payload) for item in legacy_to_hub(path.read_bytes(), beta, ctx)]
    for message in _corpus_messages("examples"):
        seeds += _parts(message)
    for name, payload in [("reference", make_reference(f"{SAMU}_{UUID}")), seeds[0]]:
        seeds += _parts(wrap(name, payload, sender_id=SDIS, recipient_id=SAMU, now=NOW, message_uuid=UUID))[:2]
    return seeds


def _corpus_messages(kind: str) -> list[dict[str, Any]]:
    if ROOT is None:
        return []
    if kind == "examples":
        paths = sorted(p for k in ("RC-EDA", "EMSI", "RC-REF", "RS-ERROR", "RC-RI") for p in
                       (ROOT / "examples" / k).glob("*.json"))
    else:
        paths = sorted((ROOT / "failing").glob("*/*.json"))
    return [json.loads(p.read_text(encoding="utf-8"), parse_float=Decimal) for p in paths]


def _parts(message: Any) -> list[tuple[str, Any]]:
    """A whole message as (envelope, header, payload) seeds, for whatever of it has that shape; an example
    file holding a payload alone (``{"emsi": {...}}``) as that payload."""
    if isinstance(message, dict) and "content" not in message:
        return [(name, value) for name, value in message.items() if name in PAYLOAD_MODELS]
    out: list[tuple[str, Any]] = [("envelope", message)]
    try:
        body = message["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]
    except (KeyError, IndexError, TypeError):
        return out
    if not isinstance(body, dict):
        return out
    out.append(("header", {k: v for k, v in body.items() if k not in PAYLOAD_MODELS}))
    out += [(name, value) for name, value in body.items() if name in PAYLOAD_MODELS]
    return out


SEEDS = _seeds()


def test_every_model_the_bridge_checks_has_a_compiled_verdict() -> None:
    """Else the wrap step and the RC-REF read quietly fall back on the model for every message."""
    assert {name: verdict.compiled(model) is not None for name, model in MODELS.items()} == dict.fromkeys(MODELS, True)


def test_the_verdict_builds_no_model() -> None:
    """What the compiled validator returns is plain dicts and lists all the way down: no model instance made."""
    def models_in(value: Any) -> int:
        if isinstance(value, BaseModel):
            return 1
        if isinstance(value, dict):
            return sum(models_in(v) for v in value.values())
        if isinstance(value, (list, tuple)):
            return sum(models_in(v) for v in value)
        return 0

    for name, data in SEEDS:
        validator = verdict.compiled(MODELS[name])
        assert validator is not None
        assert models_in(validator.validate_python(data)) == 0, name
        assert models_in(MODELS[name].model_validate(data)) == 1, name  # the reference builds a tree of them


def test_valid_seeds_are_accepted_both_ways() -> None:
    assert {name for name, _ in SEEDS} >= {"createCase", "emsi", "envelope", "header", "reference"}
    for name, data in SEEDS:
        assert verdict.accepts(MODELS[name], data) is True and _model_says(MODELS[name], data), name


@pytest.mark.skipif(ROOT is None, reason="official Hub Santé corpus not found (set $HUB_REFERENCE)")
def test_the_official_failing_samples_get_the_models_verdict() -> None:
    parts = [part for message in _corpus_messages("failing") for part in _parts(message)]
    assert any(not _model_says(MODELS[name], data) for name, data in parts)  # the corpus does hold refusals
    for name, data in parts:
        assert verdict.accepts(MODELS[name], data) is _model_says(MODELS[name], data), name


_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-(10 ** 50), 10 ** 50), st.text(max_size=12),
    st.sampled_from(["", "2024-05-18T18:15:00+02:00", "2024-05-18T18:15:00Z", "2024-13-18T18:15:00+02:00",
                     "fr.health.samu440", "hubex:fr.health.samu440", "Actual", "Report", "R01", "C02.11.00", "FR",
                     "+33611223344", "44109", "ADULTE", "EXACTE", "1", "fr.health.samu440.DEMO-1"]),
    st.decimals(allow_nan=True, allow_infinity=True), st.sampled_from([Decimal("1E-999999999"), Decimal("1E+50")]),
    st.floats(allow_nan=True, allow_infinity=True), st.just(NOW), st.just(datetime(2024, 5, 18)),
)
_VALUES = st.recursive(_LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner, inner),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                       max_leaves=6)


def _locations(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _locations(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _locations(item, (*path, index))
    return found


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


@given(st.data())
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_mutation_gets_the_models_verdict(data: st.DataObject) -> None:
    name, seed = data.draw(st.sampled_from(SEEDS))
    mutated = _copy(seed)
    for _ in range(data.draw(st.integers(1, 3))):
        locations = _locations(mutated)
        where = data.draw(st.sampled_from(locations))
        if not where:
            mutated = data.draw(_VALUES) if data.draw(st.integers(0, 9)) == 0 else mutated
            continue
        parent = mutated
        for step in where[:-1]:
            parent = parent[step]
        key = where[-1]
        action = data.draw(st.sampled_from(["replace", "delete", "rename", "add", "tuple"]))
        if action == "replace":
            parent[key] = data.draw(_VALUES)
        elif action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(key, str):
            parent[data.draw(st.sampled_from([_snake(key), key.upper(), key + "x"]))] = parent.pop(key)
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.one_of(st.text(max_size=8), st.sampled_from([_snake(k) for k in parent])))] = \
                data.draw(_VALUES)
        elif action == "tuple" and isinstance(parent[key], list):
            parent[key] = tuple(parent[key])
    model = MODELS[name]
    expected = _model_says(model, mutated)
    event(f"{name}: {'accepted' if expected else 'refused'}")
    assert verdict.accepts(model, mutated) is expected


def test_a_refused_payload_is_explained_by_the_model_word_for_word() -> None:
    """checked_payload raises the model's own issues (paths, messages, codes) for what the verdict refuses."""
    name, payload = next((n, p) for n, p in SEEDS if n == "createCase")
    bad = {**payload, "creation": "yesterday", "unknownKey": 1, "qualification": {"whatsHappen": {"code": "X"}}}
    assert verdict.accepts(MODELS[name], bad) is False
    with pytest.raises(OutboundError) as ours:
        checked_payload(name, bad)
    with pytest.raises(OutboundError) as models:
        validate_model(MODELS[name], bad, f"/{name}", error=OutboundError)
    assert ours.value.issues == models.value.issues and ours.value.message == models.value.message
    assert len(ours.value.issues) >= 3


class _Checked(HubModel):
    low: int
    high: int

    @model_validator(mode="after")
    def _ordered(self) -> _Checked:
        if self.low > self.high:
            raise ValueError("low above high")
        return self


class _Outer(HubModel):
    inner: _Checked


@pytest.mark.parametrize("model", [_Checked, _Outer])
def test_a_model_whose_verdict_needs_the_instance_is_not_compiled(model: type[BaseModel]) -> None:
    """A model validator sees the built instance: no compiled verdict, the caller asks the model."""
    assert verdict.compiled(model) is None
    assert verdict.accepts(model, {"low": 2, "high": 1}) is None


def test_nan_and_bounds_are_refused_as_the_model_refuses_them() -> None:
    """The project's number functions run in the verdict too (no float NaN, no 1E-999999999)."""
    name, payload = next((n, p) for n, p in SEEDS if n == "createCase" and "geometry" in p["location"])
    for value in (Decimal("NaN"), math.nan, math.inf, Decimal("1E-999999999"), True, "47.2"):
        location = {**payload["location"], "geometry": {**payload["location"]["geometry"]}}
        location["geometry"]["point"] = {"coord": {"lat": value, "lon": Decimal("1.5"), "precision": "EXACTE"}}
        bad = {**payload, "location": location}
        assert verdict.accepts(MODELS[name], bad) is False and not _model_says(MODELS[name], bad), value


# ---- unwrap(): the verdicts' reading of a message is the models' ----------------------------------------------

def _messages() -> list[dict[str, Any]]:
    name, payload = next((n, p) for n, p in SEEDS if n == "createCase")
    out = [wrap(n, p, sender_id=SDIS, recipient_id=SAMU, now=NOW, message_uuid=UUID, **extra) for n, p, extra in [
        ("reference", make_reference(f"{SAMU}_{UUID}"), {"kind": "Ack"}),
        (name, payload, {}),
        ("error", {"errorCode": {"statusCode": 102, "statusString": "UNRECOGNIZED_MESSAGE_FORMAT"},
                   "errorCause": "x", "referencedDistributionID": f"{SAMU}_{UUID}"}, {}),
        ("error", {"errorCode": {"statusCode": 102, "statusString": "UNRECOGNIZED_MESSAGE_FORMAT"},
                   "errorCause": "x", "referencedDistributionID": f"{SAMU}_{UUID}"}, {"with_header": True}),
        ("customContent", {"anything": Decimal("1.50")}, {}),
    ]]
    return out + [m for m in _corpus_messages("failing") if isinstance(m, dict)]


MESSAGES = _messages()


def _both_readings(message: Any) -> tuple[object, object]:
    from bridge.core import edxl
    from bridge.core.errors import InboundError

    fast = edxl._accepted(message)
    try:
        slow: object = edxl._explained(message)
    except InboundError:
        slow = None
    return fast, slow


def test_unwrap_reads_every_message_as_the_models_do() -> None:
    readings = [_both_readings(m) for m in MESSAGES]
    assert sum(fast is not None for fast, _ in readings) >= 5  # the valid ones do take the verdicts' path
    for fast, slow in readings:
        assert fast == slow


@given(st.data())
@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_unwrap_reads_any_mutated_message_as_the_models_do(data: st.DataObject) -> None:
    """Mutations anywhere in the message (envelope, content list, header, payload, python-name keys):
    the verdicts' reading is the models' (None where the models refuse), field for field."""
    mutated = _copy(data.draw(st.sampled_from(MESSAGES[:5])))
    for _ in range(data.draw(st.integers(1, 2))):
        where = data.draw(st.sampled_from(_locations(mutated)[1:]))
        parent = mutated
        for step in where[:-1]:
            parent = parent[step]
        key = where[-1]
        action = data.draw(st.sampled_from(["replace", "delete", "rename", "add", "append"]))
        if action == "replace":
            parent[key] = data.draw(_VALUES)
        elif action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(key, str):
            parent[data.draw(st.sampled_from([_snake(key), key + "x", "reference", "error"]))] = parent.pop(key)
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.sampled_from([*(_snake(k) for k in parent), "emsi", "reference", "x"]))] = \
                _copy(parent[key]) if data.draw(st.booleans()) else data.draw(_VALUES)
        elif action == "append" and isinstance(parent[key], list):
            parent[key].append(_copy(parent[key][0]) if parent[key] else data.draw(_VALUES))
    fast, slow = _both_readings(mutated)
    event("accepted" if slow is not None else "refused")
    assert fast == slow


def test_a_scalar_text_is_read_once_and_only_short_plain_text_is_kept() -> None:
    """The compiled verdicts read each short date text once (every message of a second carries the same); no
    other input is kept: equal but different numbers are each read, refusals are raised each time."""
    from bridge.core.models.types import parse_hub_decimal

    reads: list[Any] = []

    def reader(value: Any) -> Any:
        reads.append(value)
        if value == "bad":
            raise ValueError("bad")
        return value

    reader.__module__ = "bridge.core.models.types"
    memo = verdict._text_memo(reader)
    for _ in range(3):
        memo("2024-05-18T18:15:00+02:00")
        with pytest.raises(ValueError):
            memo("bad")
        memo("x" * (verdict.MEMO_TEXT + 1))
        memo(1)
    assert reads.count("2024-05-18T18:15:00+02:00") == 1 and reads.count("bad") == 3
    assert reads.count("x" * (verdict.MEMO_TEXT + 1)) == 3 and reads.count(1) == 3
    decimals = verdict._text_memo(parse_hub_decimal)
    assert decimals(Decimal(0)) == 0
    with pytest.raises(ValueError):
        decimals(Decimal("0E-999999999"))  # equal to 0, refused all the same


def test_the_dates_of_the_envelope_are_read_once_per_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unwrapping RC-REFs sent in the same second reads their three dates' text once."""
    from bridge.core import edxl
    from bridge.core.models import types

    calls: list[Any] = []
    real = types.parse_hub_datetime
    monkeypatch.setattr(types, "parse_hub_datetime", lambda v: calls.append(v) or real(v))
    verdict.compiled.cache_clear()
    verdict._text_memo.cache_clear()
    try:
        messages = [wrap("reference", make_reference(f"{SAMU}_{uuid}"), sender_id=SDIS, recipient_id=SAMU, now=NOW,
                         message_uuid=uuid, kind="Ack") for uuid in (UUID, UUID.replace("2", "3"))]
        first = edxl._accepted(messages[0])
        assert first is not None and first.sent_at == NOW
        before = len(calls)
        assert edxl._accepted(messages[1]) is not None
        assert before >= 2 and len(calls) == before  # the second message's dates: no new reading
    finally:
        verdict.compiled.cache_clear()
        verdict._text_memo.cache_clear()

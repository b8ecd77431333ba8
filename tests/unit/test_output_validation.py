"""The conversion path's checks, made cheaper without checking less (issue 16 item 6, benchmarks/convert.py).

* The output is validated as the dict it was written from, not a re-parse of its bytes: these tests
  prove that the dict *is* the bytes' content (same keys, values and JSON types) for every official
  example both ways, and that the writer refuses what JSON would turn into something else.
* An adapter's JSON input is checked against its official JSON Schema as parsed, by the bundle's
  compiled validator, with the bundle resolved once: an invalid input is still refused, by pointer.
* ``consumed.held`` (what an encoder's drops are derived from) is one dump of the case, and gives
  what the field-by-field walk gave.
"""

from __future__ import annotations

import itertools
from collections import namedtuple
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bridge.core.adapters.base import Adapter, AdapterContext, Encoded
from bridge.core.adapters.consumed import held
from bridge.core.adapters.hubjson import dump_document
from bridge.core.adapters.rs_eda import encode_health
from bridge.core.canonical import Case, Coded, Qualification
from bridge.core.errors import InboundError, OutboundError
from bridge.core.jsonstrict import loads_strict
from bridge.core.pipeline import HUB_PAYLOAD_OF, translate
from bridge.refdata.bundle import load_bundle
from bridge.refdata.profiles import build_context
from tests.conftest import reference_dir

REF = reference_dir()
NO_CORPUS = pytest.mark.skipif(REF is None, reason="official Hub Santé corpus not found (set $HUB_REFERENCE)")
FIRE, HEALTH = "fr.fire.nexsis.sdis44", "fr.health.samu440"
PAIRS = (("RS-EDA", "rs-eda-json", "rc-eda-json", HEALTH, FIRE),
         ("RS-EDA-MAJ", "rs-eda-maj-json", "rs-eda-maj-json", HEALTH, HEALTH),
         ("RC-EDA", "rc-eda-json", "rs-eda-json", FIRE, HEALTH),
         ("RC-EDA", "rc-eda-json", "rs-eda-maj-json", FIRE, HEALTH),
         ("RS-EDA", "rs-eda-json", "rs-eda-json", HEALTH, HEALTH),
         ("EMSI", "emsi-json", "emsi-json", FIRE, HEALTH))


def _cases() -> list[tuple[Path, str, str, str, str]]:
    if REF is None:
        return []
    return [(path, source, target, sender, recipient) for folder, source, target, sender, recipient in PAIRS
            for path in sorted((REF / "examples" / folder).glob("*.json"))]


def _ctx(sender: str, recipient: str) -> AdapterContext:
    assert REF is not None
    counter = itertools.count()
    return build_context(nomenclature_dir=REF / "nomenclatures", schemas=REF, sender_id=sender,
                         recipient_id=recipient, new_id=lambda: f"id-{next(counter)}")


def _same_json(a: Any, b: Any, where: str = "") -> None:
    """Equal values *and* JSON types all the way down (1 == True == Decimal(1) is not enough).

    One spelling differs and is the same JSON number: a Decimal the writer prints without a point or
    exponent (``Decimal("168")`` -> ``168``) reads back as an int. Validating the dict is then at worst
    stricter (an ``integer`` field holding ``Decimal("168")`` fails on the dict, passes on the bytes),
    never laxer; the tests below also check the validator's answer on both is the same.
    """
    if type(a) is Decimal and type(b) is int:
        assert str(a).lstrip("-").isdigit() and int(a) == b, f"{where or '/'}: {a!r} != {b!r}"
        return
    assert type(a) is type(b), f"{where or '/'}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{where or '/'}: keys {list(a)} != {list(b)}"
        for key in a:
            _same_json(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{where or '/'}: {len(a)} items != {len(b)}"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            _same_json(x, y, f"{where}/{index}")
    else:
        assert a == b, f"{where or '/'}: {a!r} != {b!r}"


@NO_CORPUS
@pytest.mark.parametrize(("path", "source", "target", "sender", "recipient"), _cases(),
                         ids=lambda value: value.stem if isinstance(value, Path) else str(value))
def test_the_validated_dict_is_the_content_of_the_bytes_sent(path: Path, source: str, target: str, sender: str,
                                                              recipient: str) -> None:
    ctx = _ctx(sender, recipient)
    seen: list[tuple[str, dict]] = []
    result = translate(path.read_bytes(), source=source, target=target, ctx=ctx,
                       validator=lambda name, payload: seen.append((name, payload)) or [])
    name = HUB_PAYLOAD_OF[target]
    assert [n for n, _ in seen] == [name]
    # what the validator saw, compared with what the bytes say once read by the bridge's own strict reader
    sent = loads_strict(result.data)[name]
    _same_json(seen[0][1], sent)
    assert REF is not None
    validator = load_bundle(REF).json_validator(name)
    assert validator.issues(seen[0][1], f"/{name}") == validator.issues(sent, f"/{name}") == []


def test_the_writer_refuses_what_json_would_change() -> None:
    point = namedtuple("point", "lat lon")
    for document in ({"a": (1, 2)}, {"a": point(1, 2)}, {"a": Decimal("NaN")}, {"a": float("inf")},
                     {"a": Decimal("-Infinity")}):
        with pytest.raises((TypeError, ValueError)):
            dump_document(document)
    assert dump_document({"a": [Decimal("47.25"), 3, True, None, "é"]}) == '{"a":[47.25,3,true,null,"é"]}'.encode()


def test_a_non_finite_health_extra_is_never_written_as_nan() -> None:
    """An ``extras`` value ``d:NaN`` (from a hand-made or hostile customMap) used to be written as ``NaN``."""
    case = Case(case_id="fr.health.samu440.X", qualification=Qualification(whats_happen=Coded(code="C07.14.00")),
                extras={"rs-eda./location/geometry/point/coord/lat": "d:NaN"})
    ctx = AdapterContext(now=datetime(2026, 1, 1, tzinfo=UTC), new_id=lambda: "1", sender_id=HEALTH,
                         recipient_id=HEALTH)
    payload, _, _ = encode_health(case, ctx)
    data = dump_document({"createCaseHealth": payload})
    assert b"NaN" not in data.replace(b'"d:NaN"', b"")
    assert payload["location"]["geometry"]["point"]["coord"]["lat"] == "d:NaN"  # kept as text: the schema refuses it


class _BadJson(Adapter):
    name = "rc-eda-json"

    def encode(self, case: Case, ctx: AdapterContext) -> Encoded:
        document = {"createCase": {"caseId": "x"}}
        return Encoded(dump_document(document), [], [], document)


@NO_CORPUS
def test_the_pipeline_refuses_an_invalid_output_from_its_document() -> None:
    assert REF is not None
    ctx = _ctx(HEALTH, FIRE)
    bundle = load_bundle(REF)
    adapters = {**ctx.adapters, "rc-eda-json": _BadJson()}  # writes a createCase with only a caseId
    data = next((REF / "examples" / "RS-EDA").glob("*.json")).read_bytes()
    with pytest.raises(OutboundError) as refused:
        translate(data, source="rs-eda-json", target="rc-eda-json", ctx=ctx, installed=adapters,
                  validator=lambda name, payload: bundle.json_validator(name).issues(payload, f"/{name}"))
    assert any(issue.path.startswith("/createCase") for issue in refused.value.issues)


@NO_CORPUS
def test_an_invalid_json_input_is_still_refused_by_pointer() -> None:
    assert REF is not None
    ctx = _ctx(FIRE, HEALTH)
    document = loads_strict(next((REF / "examples" / "RC-EDA").glob("*.json")).read_bytes())
    document["createCase"]["location"]["city"] = {"name": 44}  # a number where the schema wants text
    for _ in range(2):
        with pytest.raises(InboundError) as refused:
            ctx.adapters["rc-eda-json"].decode(dump_document(document), ctx)
        assert [issue.path for issue in refused.value.issues] == ["/createCase/location/city/name"]


class _Plain(BaseModel):
    a: int = 0
    b: tuple[int, ...] = ()


def _walk(value: Any, path: str = "") -> dict[str, Any]:
    """The former field-by-field walk of ``held``: the oracle."""
    leaves: dict[str, Any] = {}
    if isinstance(value, BaseModel):
        dumped = value.model_dump(exclude_defaults=True,
                                  exclude={"dropped"} if "dropped" in type(value).model_fields else None)
        for name in dumped:
            leaves.update(_walk(getattr(value, name), f"{path}.{name}" if path else name))
    elif isinstance(value, dict):
        for key, item in value.items():
            leaves.update(_walk(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            leaves.update(_walk(item, f"{path}/{index}"))
    elif value is not None and value != "":
        leaves[path] = value
    return leaves


@NO_CORPUS
def test_held_is_the_field_by_field_walk_on_every_decoded_example() -> None:
    assert REF is not None
    ctx = _ctx(HEALTH, FIRE)
    checked = 0
    for folder, adapter in (("RS-EDA", "rs-eda-json"), ("RS-EDA-MAJ", "rs-eda-json"), ("RC-EDA", "rc-eda-json"),
                            ("EMSI", "emsi-json"), ("RC-RI", "rc-ri-json"), ("RS-RI", "rs-ri-json")):
        for path in sorted((REF / "examples" / folder).glob("*.json")):
            case = ctx.adapters[adapter].decode(path.read_bytes(), ctx).case
            assert list(held(case).items()) == list(_walk(case).items()), path.name
            checked += 1
    assert checked > 20
    assert held(_Plain(a=1, b=(2, 3))) == {"a": 1, "b/0": 2, "b/1": 3} == _walk(_Plain(a=1, b=(2, 3)))


@NO_CORPUS
@pytest.mark.parametrize("folder", ["RS-EDA", "RS-EDA-MAJ"])
def test_a_health_json_input_is_checked_against_its_official_schema(folder: str) -> None:
    """Strict input for rs-eda-json as for every Hub adapter (it used to map whatever parsed)."""
    assert REF is not None
    ctx = _ctx(HEALTH, FIRE)
    document = loads_strict(min((REF / "examples" / folder).glob("*.json")).read_bytes())
    root = next(iter(document))
    document[root]["caseId"] = 44  # a number where the schema wants the case id's text
    with pytest.raises(InboundError) as refused:
        ctx.adapters["rs-eda-json"].decode(dump_document(document), ctx)
    assert refused.value.hub_code == 300
    assert [issue.path for issue in refused.value.issues] == [f"/{root}/caseId"]


def test_withheld_field_reports_are_shared_and_bounded() -> None:
    from bridge.core import confidentiality

    policy = confidentiality.FLOOR.with_opt_ins(frozenset(), "")
    rule = policy.rule_for("extras.health./patient/0")
    first = policy.drop("extras.health./patient/0", rule, FIRE)
    assert first is policy.drop("extras.health./patient/0", rule, FIRE)  # one immutable report per field
    assert first.code == "dropped" and FIRE in first.message
    assert policy.drop("extras.health./patient/0", rule, "fr.fire.other") is not first
    for index in range(confidentiality._MEMO_LIMIT + 10):
        policy.drop(f"extras.health./x/{index}", rule, FIRE)
    assert len(policy._drops) <= confidentiality._MEMO_LIMIT + 1

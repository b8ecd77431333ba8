"""Message models: corpus round-trips, strict dates, exact decimals, closed objects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from bridge.core.errors import InboundError, OutboundError
from bridge.core.models import (
    PAYLOAD_MODELS,
    CreateCase,
    DistributionElement,
    EdxlDistribution,
    Emsi,
    normalise_datetime,
    validate_payload,
)
from tests.conftest import reference_dir

MODELLED_TYPES = ("RC-EDA", "EMSI", "RC-REF", "RS-ERROR")


def _example_files() -> list[Path]:
    root = reference_dir()
    if root is None:
        return []
    return sorted(path for kind in MODELLED_TYPES for path in (root / "examples" / kind).glob("*.json"))


def load_canonical(path: Path) -> dict:
    """A corpus JSON file in canonical form (Decimal numbers)."""
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def assert_same_canonical(actual, expected, path="") -> None:
    """Equal dicts, and numbers equal with the same digits (``1.50`` is not ``1.5``)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), path
        for key in expected:
            assert_same_canonical(actual[key], expected[key], f"{path}/{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for index, (left, right) in enumerate(zip(actual, expected, strict=True)):
            assert_same_canonical(left, right, f"{path}/{index}")
    elif isinstance(expected, (Decimal, int)) and not isinstance(expected, bool):
        assert isinstance(actual, (Decimal, int)) and not isinstance(actual, bool), path
        assert str(actual) == str(expected), path
    else:
        assert type(actual) is type(expected) and actual == expected, path


@pytest.mark.parametrize("path", _example_files(), ids=lambda p: p.name)
def test_corpus_example_round_trips(path: Path, hub_reference: Path) -> None:
    """Each official example of a modelled type parses into its model and dumps back identical."""
    document = load_canonical(path)
    (name, payload), = document.items()
    model = validate_payload(name, payload)
    assert isinstance(model, PAYLOAD_MODELS[name])
    assert_same_canonical(model.to_hub(), payload)


def test_every_modelled_type_has_examples(hub_reference: Path) -> None:
    """The corpus round-trip test really covers each modelled payload type."""
    kinds = {path.parent.name for path in _example_files()}
    assert kinds == set(MODELLED_TYPES)


def test_rs_error_source_message_is_a_valid_envelope(hub_reference: Path) -> None:
    """The RS-ERROR example embeds a full EDXL-DE envelope, which the envelope model round-trips."""
    source = load_canonical(hub_reference / "examples" / "RS-ERROR" / "RS-ERROR.json")["error"]["sourceMessage"]
    envelope = EdxlDistribution.model_validate(source)
    assert envelope.descriptor.explicit_address.explicit_address_scheme == "hubex"
    assert_same_canonical(envelope.to_hub(), source)


def test_decimal_text_is_preserved(hub_reference: Path) -> None:
    """A coordinate keeps its exact digits, trailing zeros included."""
    case = load_canonical(hub_reference / "examples" / "RC-EDA" / "RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json")
    coord = case["createCase"]["location"]["geometry"]["point"]["coord"]
    coord["lat"] = Decimal("47.1470050")
    dumped = CreateCase.model_validate(case["createCase"]).to_hub()
    assert str(dumped["location"]["geometry"]["point"]["coord"]["lat"]) == "47.1470050"


def test_field_order_follows_the_xsd_sequence() -> None:
    """Dumped keys come in XSD order (riskThreat before whatsHappen), not input order."""
    qualification = {"whatsHappen": {"code": "C01.00.00", "label": "x"}, "riskThreat": [{"code": "R01", "label": "y"}]}
    model = CreateCase.model_fields["qualification"].annotation.model_validate(qualification)
    assert list(model.to_hub()) == ["riskThreat", "whatsHappen"]


def test_unknown_key_is_rejected_with_its_path() -> None:
    """An extra key deep in a payload is reported at its JSON pointer."""
    emsi = {"CONTEXT": {"ID": "1", "MODE": "ACTUAL", "MSGTYPE": "ALERT", "BOGUS": 1}, "EVENT": {"ID": "e"}}
    with pytest.raises(InboundError) as caught:
        validate_payload("emsi", emsi)
    assert [(issue.path, issue.code) for issue in caught.value.issues] == [("/emsi/CONTEXT/BOGUS", "unknown-key")]


def test_every_problem_is_listed_and_error_class_is_chosen() -> None:
    """All faults come back at once, raised as the error class the caller asks for."""
    with pytest.raises(OutboundError) as caught:
        validate_payload("reference", {"refused": "yes", "step": "NOPE"}, error=OutboundError)
    found = {(issue.path, issue.code) for issue in caught.value.issues}
    assert found == {("/reference/distributionID", "missing"), ("/reference/refused", "schema"),
                     ("/reference/step", "enum")}


def test_unknown_payload_name_is_refused() -> None:
    """A payload key the bridge has no model for raises, naming it."""
    with pytest.raises(InboundError, match="createCaseHealth"):
        validate_payload("createCaseHealth", {})


@pytest.mark.parametrize("bad", [Decimal("NaN"), "47.1", True])
def test_numbers_are_strict(bad) -> None:
    """Numbers refuse NaN, text and booleans (the JSON Schema says number)."""
    with pytest.raises(ValidationError):
        Emsi.model_validate({"CONTEXT": {"ID": "1", "MODE": "ACTUAL", "MSGTYPE": "ALERT"},
                             "EVENT": {"ID": "e", "CERTAINTY": 1,
                                       "EGEO": [{"POSITION": {"COORD": [{"LAT": bad, "LONG": 1}]}}]}})


HEADER = {"messageId": "m", "sender": {"name": "a", "URI": "b"}, "kind": "Report", "status": "Actual",
          "recipient": [{"name": "c", "URI": "d"}]}


@pytest.mark.parametrize("text", ["2024-05-18T18:15:00Z", "2024-05-18T18:15:00.000+02:00", "2024-05-18T18:15:00",
                                  "2024-05-18 18:15:00+02:00", "2024-02-30T18:15:00+02:00"])
def test_model_dates_are_strict(text: str) -> None:
    """Model dates refuse Z, fractions, missing offsets, other layouts and impossible dates."""
    with pytest.raises(ValidationError):
        DistributionElement.model_validate({**HEADER, "sentAt": text})


def test_naive_datetime_is_refused_and_aware_one_written_strictly() -> None:
    """A naive datetime is refused; an aware one is written ±hh:mm, whole seconds, UTC as +00:00."""
    with pytest.raises(ValidationError, match="naive"):
        DistributionElement.model_validate({**HEADER, "sentAt": datetime(2024, 5, 18, 18, 15)})
    model = DistributionElement.model_validate({**HEADER, "sentAt": datetime(2024, 5, 18, 16, 15, 0, 500,
                                                                           tzinfo=UTC)})
    assert model.to_hub()["sentAt"] == "2024-05-18T16:15:00+00:00"


@pytest.mark.parametrize(("text", "strict"), [
    ("2024-05-18T16:15:00Z", "2024-05-18T16:15:00+00:00"),
    ("2024-05-18T18:15:00.000+02:00", "2024-05-18T18:15:00+02:00"),
    ("2024-05-18T18:15:00-05:30", "2024-05-18T18:15:00-05:30"),
])
def test_normalise_datetime_converts_lossless_xsd_forms(text: str, strict: str) -> None:
    """XSD-side dates with Z or a zero fraction become the strict Hub form."""
    assert normalise_datetime(text) == strict


@pytest.mark.parametrize("text", ["2024-05-18T18:15:00.5+02:00", "2024-05-18T18:15:00", "yesterday"])
def test_normalise_datetime_refuses_lossy_conversions(text: str) -> None:
    """A fraction or a missing offset cannot be converted without loss: the error names the path."""
    with pytest.raises(InboundError) as caught:
        normalise_datetime(text, path="/createCase/creation")
    assert caught.value.issues[0].path == "/createCase/creation"


def test_envelope_dates_accept_lossless_xsd_forms() -> None:
    """The envelope (whose schema has no date pattern) takes ``Z`` and writes ``+00:00``."""
    envelope = {"distributionID": "a_1", "senderID": "a", "dateTimeSent": "2024-05-18T16:15:00Z",
                "dateTimeExpires": "2024-05-19T16:15:00.000Z", "distributionStatus": "Actual",
                "distributionKind": "Report",
                "descriptor": {"language": "fr-FR", "explicitAddress": {"explicitAddressScheme": "hubex",
                                                                        "explicitAddressValue": "b"}},
                "content": [{"jsonContent": {"embeddedJsonContent": {"message": {}}}}]}
    dumped = EdxlDistribution.model_validate(envelope).to_hub()
    assert (dumped["dateTimeSent"], dumped["dateTimeExpires"]) == ("2024-05-18T16:15:00+00:00",
                                                                    "2024-05-19T16:15:00+00:00")


def test_models_are_frozen() -> None:
    """Models cannot be changed after validation (they are shared between steps)."""
    model = validate_payload("reference", {"distributionID": "x"})
    with pytest.raises(ValidationError):
        model.distribution_id = "y"


def test_python_names_are_accepted_too() -> None:
    """``populate_by_name``: snake_case names build the same model as the JSON keys."""
    by_alias = validate_payload("reference", {"distributionID": "x", "errorDistributionID": "e"})
    by_name = PAYLOAD_MODELS["reference"].model_validate({"distribution_id": "x", "error_distribution_id": "e"})
    assert by_alias == by_name


@pytest.mark.parametrize("code", ["R01\n", "R\u0661\u0662", "R1"])
def test_patterns_follow_json_schema_semantics(code: str) -> None:
    """Patterns refuse a trailing newline and non-ASCII digits, as the JSON Schema (ECMA-262) does."""
    qualification = {"riskThreat": [{"code": code, "label": "x"}], "whatsHappen": {"code": "C01.00.00", "label": "y"}}
    with pytest.raises(ValidationError, match="riskThreat"):
        CreateCase.model_fields["qualification"].annotation.model_validate(qualification)


@pytest.mark.parametrize("name", ["error-in-envelope-and-content.json", "no-schemas.json", "too-many-schemas.json"])
def test_corpus_rc_de_headers_round_trip(name: str, hub_reference: Path) -> None:
    """RC-DE headers the Hub finds no fault in (inside its failing samples) round-trip through the model."""
    message = load_canonical(hub_reference / "failing" / "EDXL-DE" / name)
    body = message["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]
    header = {key: value for key, value in body.items() if key in DistributionElement.model_fields
              or key in {field.alias for field in DistributionElement.model_fields.values()}}
    assert set(header) == {"messageId", "sender", "sentAt", "kind", "status", "recipient"}
    assert_same_canonical(DistributionElement.model_validate(header).to_hub(), header)

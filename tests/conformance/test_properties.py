"""Property: JSON generated from the RC-EDA and EMSI schemas survives JSON -> XML -> JSON unchanged."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.core.codec.json_to_xml import serialize
from bridge.refdata.bundle import load_bundle
from bridge.refdata.hub_codec import parse, to_element, to_json
from tests.conformance.schema_strategy import from_schema
from tests.conftest import reference_dir

TYPES = {"createCase": "RC-EDA", "emsi": "EMSI"}
REF = reference_dir()


def _without_empties(value):
    """What the codec promises to keep: empty objects and arrays are optional content and are dropped."""
    if isinstance(value, dict):
        cleaned = {key: _without_empties(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if item not in ({}, [], None)}
    if isinstance(value, list):
        return [_without_empties(item) for item in value]
    return value


def _messages(root: str) -> st.SearchStrategy:
    schema = json.loads((REF / "json-schema" / f"{TYPES[root]}.schema.json").read_text(encoding="utf-8"))
    return from_schema(schema).map(lambda payload: {root: payload})


@pytest.mark.skipif(REF is None, reason="official Hub Santé corpus not found (set $HUB_REFERENCE)")
@pytest.mark.parametrize("root", sorted(TYPES))
def test_generated_json_survives_xml_round_trip(root: str) -> None:
    """Any schema-shaped payload comes back identical (Decimals, strings, order-insensitive) after JSON->XML->JSON."""
    spec_of = load_bundle(REF).spec

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(_messages(root))
    def round_trip(document: dict) -> None:
        xml = serialize(to_element(document, root, spec_of))
        _, element, parsed_root = parse(xml)
        assert parsed_root == root
        assert to_json(element, root, spec_of) == _without_empties(document)

    round_trip()

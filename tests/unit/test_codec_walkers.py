"""The spec-driven walkers: XSD order, arrays, exact decimals, empties dropped, clear errors (no corpus needed)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from lxml import etree

from bridge.core.codec.json_to_xml import build_element, json_to_xml
from bridge.core.codec.spec import ElementSpec, MessageSpec
from bridge.core.codec.xml_to_json import element_to_json
from bridge.core.errors import InboundError
from bridge.refdata.hub_codec import dump_json

SPEC = MessageSpec(ElementSpec("demo", "complex", children=(
    ElementSpec("id", "string"),
    ElementSpec("count", "integer"),
    ElementSpec("lat", "decimal"),
    ElementSpec("flag", "boolean"),
    ElementSpec("tag", "string", repeated=True),
    ElementSpec("nested", "complex", children=(ElementSpec("a", "string"), ElementSpec("b", "string"))),
    ElementSpec("source", "any"),
)))
NS = "{urn:emergency:eda:1.9:demo}"


def _load(text: str) -> dict:
    return json.loads(text, parse_float=Decimal)


def test_elements_follow_spec_order_not_json_key_order() -> None:
    """Children are written in XSD order whatever the JSON key order."""
    element = build_element(_load('{"nested": {"b": "2", "a": "1"}, "id": "x"}'), SPEC)
    assert [child.tag for child in element] == [NS + "id", NS + "nested"]
    assert [child.tag for child in element[1]] == [NS + "a", NS + "b"]


def test_output_has_fixed_declaration_default_namespace_and_indent() -> None:
    """Deterministic bytes: declaration, unprefixed namespace, 2-space indentation."""
    data = json_to_xml(_load('{"id": "x", "nested": {"a": "1"}}'), SPEC)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<demo xmlns="urn:emergency:eda:1.9:demo">\n  <id>x</id>')
    assert data == json_to_xml(_load('{"nested": {"a": "1"}, "id": "x"}'), SPEC)


def test_decimals_keep_their_exact_digits_both_ways() -> None:
    """47.1470050 stays 47.1470050 through XML and back to JSON text."""
    element = build_element(_load('{"lat": 47.1470050, "count": 3}'), SPEC)
    assert element.find(NS + "lat").text == "47.1470050"
    back = element_to_json(element, SPEC)
    assert back == {"demo": {"count": 3, "lat": Decimal("47.1470050")}}
    assert b'"lat": 47.1470050' in dump_json(back)


def test_arrays_are_repeated_siblings_and_a_single_one_stays_an_array() -> None:
    """A repeated element comes back as a list even when only one occurs."""
    element = build_element(_load('{"tag": ["a", "b"]}'), SPEC)
    assert [child.text for child in element] == ["a", "b"]
    single = etree.fromstring(b'<demo xmlns="urn:emergency:eda:1.9:demo"><tag>a</tag></demo>')
    assert element_to_json(single, SPEC) == {"demo": {"tag": ["a"]}}


def test_empty_optionals_are_dropped_and_strings_kept_byte_exact() -> None:
    """None, {} and [] vanish; a string with spaces and newlines is untouched."""
    element = build_element({"id": "  a\n b ", "nested": {}, "tag": [], "flag": None}, SPEC)
    assert [child.tag for child in element] == [NS + "id"]
    assert element_to_json(element, SPEC) == {"demo": {"id": "  a\n b "}}


def test_booleans_use_xsd_lexical_forms() -> None:
    """True is written ``true``; ``1`` and ``false`` are read back as booleans."""
    assert build_element({"flag": True}, SPEC)[0].text == "true"
    parsed = etree.fromstring(b'<demo xmlns="urn:emergency:eda:1.9:demo"><flag>1</flag></demo>')
    assert element_to_json(parsed, SPEC) == {"demo": {"flag": True}}


def test_open_content_is_carried_without_a_schema() -> None:
    """``xs:any`` content (RS-ERROR sourceMessage) nests objects and keeps ``content`` as an array."""
    source = {"distributionID": "d1", "content": [{"jsonContent": {"x": "1"}}]}
    element = build_element({"source": source}, SPEC)
    assert element_to_json(element, SPEC) == {"demo": {"source": source}}


def test_unknown_key_is_named_by_json_pointer() -> None:
    """A key the schema does not define is reported at its own path."""
    with pytest.raises(InboundError) as caught:
        build_element({"nested": {"zzz": "1"}}, SPEC)
    assert caught.value.issues[0].path == "/demo/nested/zzz"


def test_array_for_a_single_element_is_refused_with_its_path() -> None:
    """An array where the schema allows one element is a clear error."""
    with pytest.raises(InboundError) as caught:
        build_element({"id": ["a", "b"]}, SPEC)
    assert caught.value.issues[0].path == "/demo/id"


def test_control_characters_are_refused_not_crashing() -> None:
    """NUL in a string cannot be carried by XML: a clear InboundError, not lxml's ValueError."""
    with pytest.raises(InboundError) as caught:
        build_element({"tag": ["ok", "bad\x00"]}, SPEC)
    assert caught.value.issues[0].path == "/demo/tag/1"
    assert caught.value.issues[0].code == "not-xml-compatible"


def test_bad_number_in_xml_names_the_element() -> None:
    """Non-numeric text in a decimal leaf is reported with its XPath."""
    parsed = etree.fromstring(b'<demo xmlns="urn:emergency:eda:1.9:demo"><lat>north</lat></demo>')
    with pytest.raises(InboundError) as caught:
        element_to_json(parsed, SPEC)
    assert caught.value.issues[0].path == "/demo/lat"


def test_repeated_single_element_in_xml_is_refused() -> None:
    """Two occurrences of a non-repeating element are reported, not silently merged."""
    parsed = etree.fromstring(b'<demo xmlns="urn:emergency:eda:1.9:demo"><id>a</id><id>b</id></demo>')
    with pytest.raises(InboundError) as caught:
        element_to_json(parsed, SPEC)
    assert caught.value.issues[0].path == "/demo/id"


def test_payload_in_the_wrong_namespace_is_refused() -> None:
    """A payload without its urn:emergency:eda:1.9:<root> namespace is named, not silently converted."""
    parsed = etree.fromstring(b"<demo><id>a</id></demo>")
    with pytest.raises(InboundError) as caught:
        element_to_json(parsed, SPEC)
    assert caught.value.issues[0].code == "wrong-namespace"

"""Open content (xs:any, customContent, RS-ERROR sourceMessage) round-trips exactly; validate and translate agree."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import simplejson

from bridge.core.edxl import wrap
from bridge.core.errors import BridgeError
from bridge.refdata.hub_codec import dump_json, translate, validate


def _bytes(document: dict) -> bytes:
    return simplejson.dumps(document, use_decimal=True).encode("utf-8")


def _round_trip(document: dict, schemas) -> tuple[dict, bytes, bytes]:
    xml = translate(_bytes(document), "xml", schemas=schemas)
    back = simplejson.loads(translate(xml, "json", schemas=schemas), parse_float=Decimal)
    again = translate(_bytes(back), "xml", schemas=schemas)
    return back, xml, again


OPEN_VALUES = [
    {"content": "inner content string"},
    {"content": ["one"]},
    {"a": [1], "b": {}, "c": Decimal("5.10"), "d": [], "e": True, "f": False, "s": "", "t": "  x \n"},
    {"list": [{"x": []}, {}, {"y": {"z": [Decimal("0.5")]}}]},
    {"not an xml name": "kept", "1x": {"é": "ü"}},
]


@pytest.mark.parametrize("value", OPEN_VALUES, ids=range(len(OPEN_VALUES)))
def test_custom_content_round_trips_exactly_and_stably(hub_reference, value):
    """JSON -> XML -> JSON gives the same value; a second trip gives the same XML bytes."""
    document = {"customContent": value}
    back, xml, again = _round_trip(document, hub_reference)
    assert back == document
    assert again == xml
    assert validate(_bytes(document), schemas=hub_reference) == []


@pytest.mark.parametrize("source", [{}, {"a": [1], "b": {}, "c": 5, "content": "x", "d": []}])
def test_rs_error_source_message_round_trips_exactly(hub_reference, source):
    """RS-ERROR sourceMessage {} stays {} (it came back as ""), typed leaves keep their JSON types."""
    document = simplejson.loads((hub_reference / "examples" / "RS-ERROR" / "RS-ERROR.json").read_bytes(),
                                parse_float=Decimal)
    document["error"]["sourceMessage"] = source
    back, xml, again = _round_trip(document, hub_reference)
    assert back == document and again == xml


def test_xml_from_elsewhere_reads_as_before(hub_reference):
    """Open content without our marks: a single 'content' is an array (EDXL-DE), leaves are strings."""
    xml = (b'<?xml version="1.0" encoding="UTF-8"?>\n<customContent xmlns="urn:emergency:eda:1.9">'
           b"<content><n>5</n></content><k>v</k></customContent>")
    back = simplejson.loads(translate(xml, "json", schemas=hub_reference))
    assert back == {"customContent": {"content": [{"n": "5"}], "k": "v"}}


def _envelope(hub_reference) -> dict:
    payload = simplejson.loads((hub_reference / "examples" / "RC-EDA" /
                                "RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json").read_bytes(), parse_float=Decimal)
    message = wrap("createCase", payload["createCase"], sender_id="fr.health.samu440",
                   recipient_id="fr.fire.nexsis.sdis44", now=datetime(2024, 1, 1, tzinfo=UTC),
                   message_uuid=uuid.UUID(int=1))
    return simplejson.loads(dump_json(message), parse_float=Decimal)


def _variants(hub_reference) -> dict[str, dict]:
    base = _envelope(hub_reference)
    found = {"plain": base}
    sibling = copy.deepcopy(base)
    sibling["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["foo"] = "bar"
    found["unknown sibling of the payload"] = sibling
    found["empty customContent"] = {"customContent": {}}
    found["customContent string"] = {"customContent": {"content": "inner content string"}}
    error = simplejson.loads((hub_reference / "examples" / "RS-ERROR" / "RS-ERROR.json").read_bytes(),
                             parse_float=Decimal)
    error["error"]["sourceMessage"] = {}
    found["RS-ERROR empty sourceMessage"] = error
    return found


@pytest.mark.parametrize("schemas", ["bundle", None])
def test_validate_and_translate_agree(hub_reference, schemas):
    """Whatever validate calls valid translates both ways; whatever translate refuses validate reports."""
    bundle = hub_reference if schemas else None
    for name, document in _variants(hub_reference).items():
        issues = validate(_bytes(document), schemas=bundle)
        try:
            xml = translate(_bytes(document), "xml", schemas=bundle)
            translate(xml, "json", schemas=bundle)
            refused = None
        except BridgeError as exc:
            refused = exc
        assert (issues == []) == (refused is None), (name, issues, refused)
    sibling = _variants(hub_reference)["unknown sibling of the payload"]
    assert validate(_bytes(sibling), schemas=bundle)  # it used to pass validate and fail translate


def test_the_hub_emulators_check_only_the_received_syntax(hub_reference):
    """convertible=False (the dispatcher emulators): the real Hub validates its own schema, not the other syntax."""
    sibling = _variants(hub_reference)["unknown sibling of the payload"]
    assert validate(_bytes(sibling), schemas=hub_reference) != []
    assert validate(_bytes(sibling), schemas=hub_reference, convertible=False) == []

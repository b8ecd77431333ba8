"""The public API: detect, translate and validate, with and without a schema bundle."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import bridge
from bridge.core.errors import InboundError
from bridge.refdata.hub_codec import dump_json

REF_JSON = b'{"reference": {"distributionID": "fr.health.samuB_1"}}'
REF_XML = (b'<?xml version="1.0" encoding="UTF-8"?>\n<reference xmlns="urn:emergency:eda:1.9:reference">\n'
           b'  <distributionID>fr.health.samuB_1</distributionID>\n</reference>\n')


@pytest.fixture(autouse=True)
def _no_bundle(monkeypatch):
    monkeypatch.delenv("HUB_SCHEMAS", raising=False)


def test_detect_names_format_and_root() -> None:
    """JSON top-level key or XML root element gives the type; an envelope is edxlDistribution."""
    assert bridge.detect(b"  \n" + REF_JSON) == ("json", "reference")
    assert bridge.detect(REF_XML) == ("xml", "reference")
    assert bridge.detect(b'{"distributionID": "x", "content": []}') == ("json", "edxlDistribution")


def test_models_path_converts_both_ways_without_a_bundle() -> None:
    """With no bundle installed, a modelled type converts to the exact expected bytes and back."""
    assert bridge.translate(REF_JSON, "xml") == REF_XML
    assert json.loads(bridge.translate(REF_XML, "json")) == json.loads(REF_JSON)


def test_models_path_builds_its_specs_once(monkeypatch) -> None:
    """Without a bundle the model-derived specs are built once per process, not on every conversion."""
    from bridge.core.models import spec_from_models
    from bridge.refdata import bundle, hub_codec

    monkeypatch.setattr(bundle, "_default_path", lambda: None)
    built: list[int] = []
    real = spec_from_models.message_specs
    monkeypatch.setattr(spec_from_models, "message_specs", lambda: built.append(1) or real())
    hub_codec._models_spec_lookup.cache_clear()
    try:
        for _ in range(3):
            assert bridge.translate(REF_JSON, "xml") == REF_XML
            assert json.loads(bridge.translate(REF_XML, "json")) == json.loads(REF_JSON)
    finally:
        hub_codec._models_spec_lookup.cache_clear()
    assert len(built) == 1


def test_models_path_validates_without_a_bundle() -> None:
    """With no bundle, validation goes through the models and still names the field."""
    assert bridge.validate(REF_JSON) == []
    issues = bridge.validate(b'{"reference": {"distributionID": "x", "unknown": 1}}')
    assert any(issue.path.endswith("/unknown") for issue in issues)


def test_unreadable_input_is_reported_by_validate_and_raised_by_translate() -> None:
    """Garbage is an issue list for validate and an InboundError for translate."""
    assert [issue.code for issue in bridge.validate(b"hello")] == ["not-a-message"]
    assert [issue.code for issue in bridge.validate(b"{not json")] == ["json-syntax"]
    with pytest.raises(InboundError):
        bridge.translate(b"{not json", "xml")


def test_json_without_a_type_key_is_refused_clearly() -> None:
    """Two top-level keys is neither a payload nor an envelope."""
    assert [issue.code for issue in bridge.validate(b'{"a": {}, "b": {}}')] == ["not-a-message"]


def test_translate_rejects_an_unknown_target() -> None:
    """Only json and xml are formats."""
    with pytest.raises(ValueError):
        bridge.translate(REF_JSON, "yaml")


def _full_message(payload: dict, kind: str) -> dict:
    """A full EDXL-DE message (envelope + RC-DE header) from samuA to sdis44 carrying ``payload``."""
    return {
        "distributionID": "fr.health.samuA_1", "senderID": "fr.health.samuA",
        "dateTimeSent": "2024-05-18T18:15:00+02:00", "dateTimeExpires": "2024-05-19T18:15:00+02:00",
        "distributionStatus": "Actual", "distributionKind": kind,
        "descriptor": {"language": "fr-FR", "explicitAddress": {"explicitAddressScheme": "hubex", "explicitAddressValue": "fr.fire.nexsis.sdis44"}},
        "content": [{"jsonContent": {"embeddedJsonContent": {"message": {
            "messageId": "m1", "sender": {"name": "samuA", "URI": "hubex:fr.health.samuA"}, "sentAt": "2024-05-18T18:15:00+02:00",
            "kind": kind, "status": "Actual", "recipient": [{"name": "sdis44", "URI": "hubex:fr.fire.nexsis.sdis44"}], **payload}}}}],
    }


def test_full_message_xml_round_trip_is_byte_stable(hub_reference: Path) -> None:
    """A full EDXL-DE message goes XML -> JSON -> XML to identical bytes, decimals intact."""
    payload = json.loads((hub_reference / "examples/EMSI/EMSI-OPG-message.json").read_bytes(), parse_float=Decimal)
    envelope = _full_message(payload, "Report")
    data = dump_json(envelope)
    xml = bridge.translate(data, "xml", schemas=hub_reference)
    assert b"<edxlDistribution" in xml and b'<emsi xmlns="urn:emergency:eda:1.9:emsi">' in xml
    again = bridge.translate(bridge.translate(xml, "json", schemas=hub_reference), "xml", schemas=hub_reference)
    assert again == xml
    assert json.loads(bridge.translate(xml, "json", schemas=hub_reference), parse_float=Decimal) == envelope


def test_full_xml_message_errors_name_envelope_and_content_paths(hub_reference: Path) -> None:
    """An XML EDXL-DE message with a bad envelope field and a bad payload field gets both, as readable XPaths."""
    payload = json.loads((hub_reference / "examples/RC-REF/RC-REF.json").read_bytes())
    xml = bridge.translate(dump_json(_full_message(payload, "Ack")), "xml", schemas=hub_reference)
    assert b"<refused>" not in xml  # the RC-REF example carries only distributionID
    bad = xml.replace(b"<distributionKind>Ack<", b"<distributionKind>Nope<")
    bad = bad.replace(b"<distributionID>fr.health.samuB", b"<refused>maybe</refused><distributionID>fr.health.samuB")
    paths = [issue.path for issue in bridge.validate(bad, schemas=hub_reference)]
    assert "/edxlDistribution/distributionKind" in paths
    assert any(path.startswith("/edxlDistribution/content/contentObject/contentXML/embeddedXMLContent/message/reference")
               for path in paths)


def test_deeply_nested_json_is_refused_not_crashing() -> None:
    """100,000 nested JSON objects are refused as too deep (no RecursionError escapes)."""
    assert [issue.code for issue in bridge.validate(b'{"a":' * 100_000 + b"1" + b"}" * 100_000)] == ["too-deep"]


def test_oversize_json_is_refused_by_length() -> None:
    """JSON over the 1 MiB default is refused before parsing."""
    assert [issue.code for issue in bridge.validate(b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}')] == ["too-large"]


def test_models_path_checks_envelope_header_and_payload_of_a_full_message(hub_reference: Path) -> None:
    """Without a bundle, a full message's envelope, RC-DE header and payload errors are all reported."""
    payload = json.loads((hub_reference / "examples/RC-REF/RC-REF.json").read_bytes())
    message = {"messageId": "m1", "sender": {"name": "a", "URI": "hubex:a"}, "sentAt": "2024-05-18T18:15:00+02:00",
               "status": "Actual", "recipient": [{"name": "b", "URI": "hubex:b"}], **payload}
    message["reference"]["zzz"] = 1
    envelope = {
        "distributionID": "fr.health.samuA_1",
        "dateTimeSent": "2024-05-18T18:15:00+02:00", "dateTimeExpires": "2024-05-19T18:15:00+02:00",
        "distributionStatus": "Actual", "distributionKind": "Ack",
        "descriptor": {"language": "fr-FR", "explicitAddress": {"explicitAddressScheme": "hubex", "explicitAddressValue": "x"}},
        "content": [{"jsonContent": {"embeddedJsonContent": {"message": message}}}],
    }
    paths = {issue.path for issue in bridge.validate(dump_json(envelope))}
    base = "/content/0/jsonContent/embeddedJsonContent/message"
    assert {"/senderID", f"{base}/kind", f"{base}/reference/zzz"} <= paths


@pytest.mark.parametrize("data,code", [
    (b'{"reference": {"distributionID": "a", "distributionID": "b"}}', "json-duplicate-key"),
    ('{"reference": {"distributionID": "a"}}'.encode("utf-16"), "not-a-message"),
    (b"[" * 10_000 + b"]" * 10_000, "too-deep"),
])
def test_translate_and_validate_refuse_ambiguous_json(data, code):
    """Duplicate keys, UTF-16 and 10,000-deep JSON are refused by the CLI path as on the Hub path."""
    import bridge
    from bridge.core.errors import InboundError

    with pytest.raises(InboundError) as caught:
        bridge.translate(data, "xml")
    assert caught.value.issues[0].code == code
    assert [issue.code for issue in bridge.validate(data)][:1] == [code]

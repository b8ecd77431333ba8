"""Official RC-EDA examples reach every legacy dialect and back; the XML adapters go through the Hub codec."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from bridge.core.pipeline import hub_to_legacy, hub_to_legacy_result, translate
from bridge.refdata.profiles import load_profile

PROFILES = ["lrm-alpha-text", "lrm-beta-text", "lrm-alpha-xml", "lrm-beta-xml"]
EXAMPLES = ["RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json", "RC-EDA-DouleurThoracique-PierreLegrand.json",
            "RC-EDA-FemmeEnceinte-DelphineVigneau.01.json"]


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("profile_name", PROFILES)
def test_rc_eda_example_to_legacy_and_back(example, profile_name, hub_reference, fresh_ctx, schema_validator):
    """createCase -> legacy -> createCase keeps case id, qualification codes the tables map exactly, and address."""
    profile = load_profile(profile_name)
    payload = json.loads((hub_reference / "examples" / "RC-EDA" / example).read_text(), parse_float=Decimal)
    first = hub_to_legacy_result("createCase", payload["createCase"], profile, fresh_ctx)
    assert first.data == hub_to_legacy("createCase", payload["createCase"], profile, fresh_ctx)
    assert {d.path for d in first.dropped} >= {"case.case_id"}
    ctx = fresh_ctx.with_profile(profile)
    back = translate(first.data, source=profile.adapter, target="rc-eda-json", ctx=ctx, validator=schema_validator)
    before, after = first.case, back.case
    assert after.sender_case_id == before.sender_case_id
    assert (after.location.city, after.location.street, after.location.lat) == (
        before.location.city, before.location.street, before.location.lat)
    # a code the dialect maps only by degrading adds a note with the official code (and a warning)
    degraded = [n.text for n in after.notes if " code officiel " in n.text]
    assert [n.text for n in after.notes if n.text not in degraded] == [n.text for n in before.notes]
    assert len(degraded) <= len([w for w in first.warnings if w.code == "value-altered"])
    assert after.caller.phone == before.caller.phone


@pytest.mark.parametrize(("profile", "sample", "target", "xsd", "kept"), [
    # legacy -> rc-eda-xml: accepted by the official RC-EDA XSD, and it decodes back
    ("lrm-alpha-text", "normal.txt", "rc-eda-xml", "RC-EDA.xsd", b"NATURE=GAZ"),
    # a legacy request for assistance -> emsi-xml: accepted by the official EMSI XSD
    ("lrm-beta-xml", "assistance.xml", "emsi-xml", "EMSI.xsd", b"<NATURE>11</NATURE>"),
])
def test_hub_xml_from_legacy_validates_against_the_official_xsd(hub_reference, fresh_ctx, profile: str, sample: str,
                                                                 target: str, xsd: str, kept: bytes):
    """legacy -> Hub XML is accepted by the official XSD, and reading it back gives the LRM its code again."""
    loaded = load_profile(profile)
    ctx = fresh_ctx.with_profile(loaded)
    legacy = (Path(__file__).parent / profile / sample).read_bytes()
    xml = translate(legacy, source=loaded.adapter, target=target, ctx=ctx).data
    schema = etree.XMLSchema(etree.parse(str(hub_reference / "xsd" / xsd)))
    assert schema.validate(etree.fromstring(xml)), schema.error_log
    back = translate(xml, source=target, target=loaded.adapter, ctx=ctx)
    assert kept in back.data


def test_emsi_xml_example_decodes_like_its_json_twin(hub_reference, fresh_ctx):
    """The EMSI XML example and its JSON twin give the same canonical case."""
    folder = hub_reference / "examples" / "EMSI"
    from_xml = translate((folder / "EMSI-RDC-message.xml").read_bytes(), source="emsi-xml", target="emsi-json",
                         ctx=fresh_ctx)
    from_json = translate((folder / "EMSI-RDC-message.json").read_bytes(), source="emsi-json", target="emsi-json",
                          ctx=fresh_ctx)
    assert from_xml.case == from_json.case

"""Hostile Hub bodies through on_hub_message: each is dead-lettered with its bytes and a located error."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.core.errors import UnsafeXml
from bridge.core.xmlsafe import parse_xml
from bridge.testing.hostile import BAD_OUTCOMES, JSON, XML, Case, Outcome
from bridge.testing.hostile_cases import (
    corpus_cases,
    json_attack_cases,
    unknown_code_hub_cases,
    valid_create_case,
    xml_attack_cases,
)


def _run(campaign, cases):
    verdicts = [campaign.feed(case) for case in cases]
    broken = [(v.case.category, v.case.name, v.outcome.name, v.detail) for v in verdicts
              if v.outcome in BAD_OUTCOMES or not v.good_message_ok]
    assert broken == []
    return verdicts


def test_every_failing_corpus_file_is_dead_lettered(campaign, hub_reference):
    """Each official failing sample (JSON and XML) is parked with its bytes and a path; the bridge goes on."""
    cases = corpus_cases(hub_reference)
    assert len(cases) >= 30
    verdicts = _run(campaign, cases)
    assert {v.outcome for v in verdicts} == {Outcome.DEAD_LETTERED}
    xxe = next(v for v in verdicts if v.case.name.endswith("external-entity.xml"))
    assert "unsafe XML refused" in xxe.detail


def test_xml_attacks_are_dead_lettered_as_unsafe_or_too_big(campaign, tmp_path):
    """XXE, billion laughs, UTF-16 DOCTYPEs, deep and oversize XML: refused, named, parked."""
    verdicts = _run(campaign, xml_attack_cases(tmp_path))
    assert {v.outcome for v in verdicts} == {Outcome.DEAD_LETTERED}
    by_name = {v.case.name: v.detail for v in verdicts}
    for name in ("external entity SYSTEM file://", "parameter entity", "billion laughs",
                 "UTF-16LE DOCTYPE SYSTEM local file (no BOM)", "UTF-16LE DOCTYPE SYSTEM /dev/stdin (would block)"):
        assert "unsafe XML refused" in by_name[name], name
    assert "over the limit" in by_name["XML over 1 MiB"]
    assert "too deep" in by_name["10,000-deep XML"]


def test_json_attacks_are_dead_lettered_with_a_located_reason(campaign):
    """Deep, duplicated, huge, truncated, UTF-16 and invalid UTF-8 JSON: refused with where and why."""
    verdicts = _run(campaign, json_attack_cases(1000))
    assert {v.outcome for v in verdicts} == {Outcome.DEAD_LETTERED}
    by_name = {v.case.name: v.detail for v in verdicts}
    assert by_name["duplicate senderID key"].startswith("[hub] //senderID:")
    assert "nested too deeply" in by_name["10,000-deep JSON arrays"]
    assert "byte 0" in by_name["UTF-16 JSON"]
    assert by_name["invalid UTF-8 in JSON"].startswith("[hub] byte ")


def test_unknown_codes_follow_the_table_policy(campaign):
    """A rejecting table (answer-aliases) dead-letters; a fallback table maps with a logged warning."""
    reject, fallback = _run(campaign, unknown_code_hub_cases(1100))
    assert reject.outcome is Outcome.DEAD_LETTERED
    assert "answer-aliases" in reject.detail and "PEUTETRE" in reject.detail
    assert fallback.outcome is Outcome.MAPPED_WITH_WARNING
    assert "C99.99.99" in fallback.detail


def test_utf16_doctype_never_opens_the_file_it_names(tmp_path):
    """A UTF-16 DOCTYPE hides from the byte scan; the parser must still refuse it without reading the file."""
    probe = tmp_path / "probe.dtd"
    probe.write_bytes(b"not a DTD: reading it would be a syntax error in the external subset")
    doc = f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x SYSTEM "{probe}"><x>a</x>'.encode("utf-16-le")
    with pytest.raises(UnsafeXml) as refused:
        parse_xml(doc)
    assert refused.value.issues[0].code == "unsafe-xml"


HUB_EXAMPLES = settings(max_examples=40, deadline=None, derandomize=True,
                        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                           max_leaves=20)
_unique = itertools.count(5000)


@HUB_EXAMPLES
@given(document=st.dictionaries(st.sampled_from(["distributionID", "senderID", "content", "descriptor", "x"]),
                                JSON_VALUES, max_size=5))
def test_generated_json_documents(shared_campaign, document):
    """Random JSON objects with envelope-like keys: dead-lettered with a path, never a crash."""
    body = json.dumps(document).encode()
    verdict = shared_campaign.feed(Case("generated-json", body, "hub", JSON))
    assert verdict.outcome is Outcome.DEAD_LETTERED, verdict.detail
    assert verdict.good_message_ok


@HUB_EXAMPLES
@given(xml=st.booleans(), cut=st.integers(min_value=0, max_value=4000), noise=st.binary(max_size=16))
def test_damaged_valid_bodies(shared_campaign, xml, cut, noise):
    """A valid createCase (JSON or XML) cut and spliced with noise: parked, or still valid and applied."""
    content_type = XML if xml else JSON
    body = valid_create_case(next(_unique), content_type)
    data = body[:cut] + noise + body[cut + len(noise):]
    verdict = shared_campaign.feed(Case("mutated-body", data, "hub", content_type))
    assert verdict.outcome not in BAD_OUTCOMES, verdict.detail
    assert verdict.good_message_ok


@pytest.mark.parametrize("entry", ["hub-ack", "hub-info"])
def test_hostile_bodies_on_the_ack_and_info_queues(campaign, tmp_path, entry):
    """What arrives on the RC-REF and RS-ERROR queues is parked with a located error just the same."""
    cases = [Case(case.category, case.data, entry, case.content_type, case.name)
             for case in xml_attack_cases(tmp_path) + json_attack_cases(1200)]
    verdicts = _run(campaign, cases)
    assert {v.outcome for v in verdicts} == {Outcome.DEAD_LETTERED}
    assert all(v.detail.startswith(f"[{entry}] ") for v in verdicts)

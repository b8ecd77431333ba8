"""Hostile case sheets on the other legacy dialects (XML sheets, delimited text, other encodings and framings)."""

from __future__ import annotations

import random

import pytest

from bridge.testing.hostile import BAD_OUTCOMES, Campaign, Case, Outcome
from bridge.testing.hostile_cases import legacy_xml_attack_cases, mutate
from bridge.testing.rig import Rig


@pytest.fixture
def xml_campaign(tmp_path):
    """A bridge speaking the lrm-alpha-xml dialect, with its campaign."""
    rig = Rig(tmp_path, profile="lrm-alpha-xml")
    yield Campaign(rig)
    rig.close()


def test_hostile_xml_case_sheets_are_parked(xml_campaign, tmp_path):
    """XXE, entity expansion, deep nesting, wrong encodings in a legacy XML frame: parked with a located error."""
    good = xml_campaign.good_frame_bytes(10)
    verdicts = [xml_campaign.feed(case) for case in legacy_xml_attack_cases(good, tmp_path)]
    # XML names its own encoding: a BOM-marked UTF-16 sheet is unambiguous, so it is read, not refused.
    expected = {case: Outcome.ACCEPTED if case == "UTF-16 with BOM" else Outcome.DEAD_LETTERED
                for case in (v.case.name for v in verdicts)}
    broken = [(v.case.name, v.outcome.name, v.detail) for v in verdicts
              if v.outcome is not expected[v.case.name] or not v.good_message_ok]
    assert broken == []
    by_name = {v.case.name: v.detail for v in verdicts}
    assert "unsafe XML refused" in by_name["external entity in a case sheet"]
    assert "unsafe XML refused" in by_name["UTF-16 DOCTYPE naming a local file"]


def test_length_prefix_beyond_max_frame_is_refused_at_framing(xml_campaign):
    """A length prefix announcing more than max_frame is refused before any byte is buffered for it."""
    max_frame = xml_campaign.rig.profile.max_frame
    data = (max_frame + 1).to_bytes(4, "big") + b"<fiche1518>"
    verdict = xml_campaign.feed(Case("oversized-frame", data, "framing", None, "length prefix too big"))
    assert verdict.outcome is Outcome.REFUSED_AT_FRAMING and verdict.good_message_ok
    assert verdict.outcome not in BAD_OUTCOMES


@pytest.mark.parametrize("profile", ["lrm-alpha-xml", "lrm-beta-text", "lrm-beta-xml"])
def test_damaged_sheets_of_every_dialect(tmp_path, profile):
    """Seeded random damage to valid sheets of each other dialect: parked or valid, never crashed or lost."""
    rig = Rig(tmp_path, profile=profile)
    try:
        campaign, rng = Campaign(rig), random.Random(profile)
        verdicts = [campaign.feed(Case("mutated-frame", mutate(campaign.good_frame_bytes(20 + i), rng), "legacy",
                                       None)) for i in range(25)]
    finally:
        rig.close()
    assert [(v.outcome, v.detail) for v in verdicts if v.outcome in BAD_OUTCOMES or not v.good_message_ok] == []
    assert any(v.outcome is Outcome.DEAD_LETTERED for v in verdicts)

"""Hostile legacy frames through on_legacy_frame (and the deframer): parked, located, the link goes on."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.core.framing import ETX, STX
from bridge.runtime.demo import demo_frame
from bridge.testing.hostile import BAD_OUTCOMES, Case, Outcome
from bridge.testing.hostile_cases import framing_cases, legacy_attack_cases

CI_EXAMPLES = settings(max_examples=40, deadline=None, derandomize=True,
                       suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _verdicts(campaign, cases):
    verdicts = [campaign.feed(case) for case in cases]
    broken = [(v.case.category, v.case.name, v.outcome.name, v.detail) for v in verdicts
              if v.outcome in BAD_OUTCOMES or not v.good_message_ok]
    assert broken == []
    return {(v.case.category, v.case.name): v for v in verdicts}


def test_crafted_frames_are_parked_with_their_line(campaign):
    """Truncated, incomplete, badly dated, badly encoded frames: dead-lettered naming the line or field."""
    verdicts = _verdicts(campaign, legacy_attack_cases(2000))
    for key in (("bad-date", "hier"), ("missing-field", "no COMMUNE"),
                ("invalid-bytes", "bytes cp1252 does not define"), ("wrong-encoding", "UTF-16 into cp1252"),
                ("garbage", "NUL bytes")):
        assert verdicts[key].outcome is Outcome.DEAD_LETTERED, key
    assert verdicts[("bad-date", "hier")].detail.startswith("[translation] line 2:")
    assert verdicts[("invalid-bytes", "bytes cp1252 does not define")].detail.startswith("[translation] byte ")


def test_unknown_codes_reject_or_warn_as_the_table_says(campaign):
    """The profile's own code list rejects an unknown code; lrm-alpha-nature falls back with a warning."""
    verdicts = _verdicts(campaign, legacy_attack_cases(2100))
    rejected = verdicts[("unknown-code", "profile code list (reject)")]
    assert rejected.outcome is Outcome.DEAD_LETTERED and "TYPE_VICTIME" in rejected.detail
    warned = verdicts[("unknown-code", "lrm-alpha-nature (fallback with warning)")]
    assert warned.outcome is Outcome.MAPPED_WITH_WARNING
    assert "line 3" in warned.detail and "ZZZZ" in warned.detail


def test_a_key_given_twice_is_mapped_with_a_warning(campaign):
    """A repeated single-valued key keeps its first value and says so, naming both lines."""
    verdicts = _verdicts(campaign, legacy_attack_cases(2200))
    twice = verdicts[("garbage", "key given twice")]
    assert twice.outcome is Outcome.MAPPED_WITH_WARNING and "NUM_DOSSIER given 2 times" in twice.detail


def test_framing_attacks_are_refused_or_parked(campaign, rig):
    """Oversize frames are refused at framing with their raw bytes; noise around frames never stops the link."""
    verdicts = _verdicts(campaign, framing_cases(2300, rig.profile.max_frame))
    assert verdicts[("oversized-frame", "one byte over max_frame")].outcome is Outcome.REFUSED_AT_FRAMING
    assert "exceeds the limit of 65536" in verdicts[("oversized-frame", "never-ending frame")].detail


@CI_EXAMPLES
@given(data=st.binary(max_size=600))
def test_random_bytes_as_a_frame(shared_campaign, data):
    """Any bytes at all handed over as a frame: parked or accepted, never a crash, the next frame flows."""
    verdict = shared_campaign.feed(Case("random-bytes", data, "legacy", None))
    assert verdict.outcome not in BAD_OUTCOMES, verdict.detail
    assert verdict.good_message_ok


@CI_EXAMPLES
@given(cut=st.integers(min_value=0, max_value=len(demo_frame(1))),
       noise=st.binary(max_size=40), where=st.integers(min_value=0, max_value=400))
def test_damaged_case_sheets(shared_campaign, cut, noise, where):
    """A real case sheet cut short and sprinkled with noise: parked with a located error or still valid."""
    frame = demo_frame(3000 + cut)[:cut]
    data = frame[:where] + noise + frame[where:]
    verdict = shared_campaign.feed(Case("mutated-frame", data, "legacy", None))
    assert verdict.outcome not in BAD_OUTCOMES, verdict.detail
    assert verdict.good_message_ok


@CI_EXAMPLES
@given(parts=st.lists(st.one_of(st.binary(max_size=80), st.sampled_from([STX, ETX, STX + ETX, ETX + STX]),
                                st.integers(0, 99).map(lambda n: STX + demo_frame(4000 + n)[:120] + ETX)),
                      max_size=6))
def test_binary_noise_on_stx_etx_framing(shared_campaign, parts):
    """Random noise and framing bytes on an STX/ETX stream: every frame it yields is handled, nothing escapes."""
    verdict = shared_campaign.feed(Case("random-stream", b"".join(parts), "framing", None))
    assert verdict.outcome not in {Outcome.UNCLEAR, Outcome.CRASHED}, verdict.detail
    assert verdict.good_message_ok

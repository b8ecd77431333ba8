"""Demo sheets sent to a bridge on the wall clock are dated by the app clock, so the suite does not rot.

The legacy date window (``[dates] max_past_days`` = 3650) refuses a call date more than ten years
old: a sheet hard-coded to 2026 would be refused by a live bridge from 2036 on. Tests on a fixed
clock (``bridge.testing.rig``) keep the fixed ``DEMO_STAMP``; a bridge on the wall clock (the demo,
the integration tests, the chaos campaign) gets ``live_demo_frame``.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest

from bridge.app.translator import PipelineTranslator
from bridge.core.errors import BridgeError
from bridge.refdata.profiles import build_context, load_profile
from bridge.runtime import demo
from bridge.runtime.demo import DEMO_STAMP, demo_frame, demo_stamp, live_demo_frame
from bridge.testing.chaos import CampaignPlan, case_frames

IN_2040 = datetime(2040, 3, 1, 12, 30, tzinfo=UTC)


def _translator(now: datetime) -> PipelineTranslator:
    return PipelineTranslator(load_profile("lrm-alpha-text"), build_context(), clock=lambda: now)


def test_a_fixed_demo_date_is_refused_by_a_bridge_ten_years_later():
    """Why: the 2026 sheet leaves the date window; the same sheet dated by the clock does not."""
    with pytest.raises(BridgeError, match="max_past_days"):
        _translator(IN_2040).to_hub(demo_frame(1))
    [case, *_] = _translator(IN_2040).to_hub(live_demo_frame(1, clock=lambda: IN_2040))
    assert case.payload["creation"].startswith("2040-03-01T13:30:00")  # Europe/Paris, UTC+1 in March


def test_live_demo_frame_follows_the_app_clock(monkeypatch):
    """Without a clock argument the app clock (bridge.app.clock.utc_now, as the demo's bridge) dates the sheet."""
    monkeypatch.setattr(demo, "utc_now", lambda: IN_2040)
    assert b"DATE_APPEL=" + demo_stamp(IN_2040).encode() in live_demo_frame(3)
    assert demo_stamp(IN_2040) == "20400301133000"
    assert DEMO_STAMP.encode() in demo_frame(3)  # the fixed-clock tests keep their date


def test_chaos_campaign_frames_are_dated_by_the_clock():
    frames = case_frames(CampaignPlan(messages=4, revisions=2), "T", random.Random(1), clock=lambda: IN_2040)
    stamps = {re.search(rb"DATE_APPEL=(\d+)", data).group(1) for _, _, data in frames}
    assert stamps == {b"20400301133000"}
    _translator(IN_2040).to_hub(frames[0][2])  # accepted by a bridge of that year

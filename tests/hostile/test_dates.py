"""Issue 12 item 9 (dates): a call date must be plausible around the bridge's clock.

Year 9999 was accepted as a call date. The profile's ``[dates]`` window
(``max_past_days``, ``max_future_minutes``) bounds it, around the ``now`` the
adapter context carries (the core never reads a clock).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.core.adapters.base import AdapterContext
from bridge.core.adapters.legacy_text import LegacyTextAdapter
from bridge.core.adapters.legacy_xml import LegacyXmlAdapter
from bridge.core.adapters.profile import DatesSpec, parse_profile
from bridge.core.errors import BridgeError, InboundError
from bridge.core.mapping import Mapped
from bridge.refdata.profiles import load_profile, profile_path

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


class _Codes:
    def forward(self, table, code):
        return Mapped("C04.00.00", None, "t.csv:2")

    def reverse(self, table, code):
        return Mapped("INC", None, "t.csv:2")


def _ctx(profile_name: str = "lrm-alpha-text", dates: DatesSpec | None = None) -> AdapterContext:
    profile = load_profile(profile_name)
    if dates is not None:
        profile = profile.model_copy(update={"dates": dates})
    return AdapterContext(now=NOW, new_id=lambda: "id-1", mappings=_Codes(), profile=profile)


def _frame(stamp: str) -> bytes:
    return f"NUM_DOSSIER=A1\r\nNATURE=INC\r\nCOMMUNE=Nantes\r\nDATE_APPEL={stamp}".encode()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%Y%m%d%H%M%S")


@pytest.mark.parametrize(("stamp", "side"), [
    ("99991231235959", "future"), ("20621125100000", "future"), ("19700101000000", "past"),
    ("18991231235959", "past"), (_stamp(NOW + timedelta(minutes=61)), "future"),
    (_stamp(NOW - timedelta(days=3651)), "past")])
def test_implausible_call_dates_are_refused_naming_the_line(stamp, side):
    """Refused with bad-date at the field's line; the message says which side and the profile's settings."""
    with pytest.raises(InboundError) as caught:
        LegacyTextAdapter().decode(_frame(stamp), _ctx())
    issue = caught.value.issues[0]
    assert issue.code == "bad-date" and issue.path == "line 4"
    assert side in issue.message and "max_future_minutes=60" in issue.message and "max_past_days=3650" in issue.message


@pytest.mark.parametrize("moment", [NOW, NOW + timedelta(minutes=59), NOW - timedelta(days=3649),
                                    NOW - timedelta(hours=5)])
def test_plausible_call_dates_pass(moment):
    """Inside the window (defaults: 3650 days back, 60 minutes ahead) the date is read as before."""
    case = LegacyTextAdapter().decode(_frame(_stamp(moment)), _ctx()).case
    assert case.created == moment.replace(microsecond=0)


def test_the_window_comes_from_the_profile():
    """A site that tightens the window gets its own limits."""
    tight = DatesSpec(max_past_days=2, max_future_minutes=5)
    with pytest.raises(InboundError, match="more than 2 days in the past"):
        LegacyTextAdapter().decode(_frame(_stamp(NOW - timedelta(days=3))), _ctx(dates=tight))
    with pytest.raises(InboundError, match="more than 5 minutes in the future"):
        LegacyTextAdapter().decode(_frame(_stamp(NOW + timedelta(minutes=6))), _ctx(dates=tight))
    assert LegacyTextAdapter().decode(_frame(_stamp(NOW - timedelta(days=1))), _ctx(dates=tight)).case.created


def test_iso_dates_with_any_offset_are_windowed_too():
    """The beta dialect's ISO dates: 9999 with a +14:00 offset is refused like any other."""
    ctx = _ctx("lrm-beta-text")
    profile = ctx.profile
    date_field = profile.field_for("case.created")
    assert profile.datetime_format == "iso" and date_field is not None
    good = LegacyTextAdapter().encode(LegacyTextAdapter().decode(_frame(_stamp(NOW)), _ctx()).case, ctx).data
    text = good.decode(profile.encoding)
    stamp = NOW.astimezone(PARIS).isoformat(timespec="seconds")
    assert stamp in text
    with pytest.raises(InboundError) as caught:
        LegacyTextAdapter().decode(text.replace(stamp, "9999-12-31T23:59:59+14:00").encode(profile.encoding), ctx)
    assert caught.value.issues[0].code == "bad-date"


def test_legacy_xml_dates_are_windowed():
    """The XML dialect: refused with bad-date naming the element."""
    ctx = _ctx("lrm-alpha-xml")
    good = LegacyXmlAdapter().encode(LegacyTextAdapter().decode(_frame(_stamp(NOW)), _ctx()).case, ctx).data
    stamp = NOW.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S").encode()
    assert stamp in good
    with pytest.raises(InboundError) as caught:
        LegacyXmlAdapter().decode(good.replace(stamp, b"31/12/9999 23:59:59"), ctx)
    assert caught.value.issues[0].code == "bad-date" and caught.value.issues[0].path


@pytest.mark.parametrize(("setting", "value"), [("max_past_days", 0), ("max_future_minutes", -1),
                                                ("max_past_days", "forever")])
def test_bad_window_settings_are_refused_naming_them(setting, value):
    """The profile TOML's [dates] settings are validated, and a defect names the setting."""
    text = profile_path("lrm-alpha-text").read_text(encoding="utf-8")
    toml_value = f'"{value}"' if isinstance(value, str) else value
    with pytest.raises(BridgeError) as caught:
        parse_profile(f"{text}\n[dates]\n{setting} = {toml_value}\n", "alpha.toml")
    assert caught.value.issues[0].path == f"alpha.toml:dates.{setting}"


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
def test_random_call_dates_yield_a_plausible_date_or_a_clean_refusal(moment):
    """Any date a frame may carry: inside the window, or refused with bad-date at its line."""
    stamp = moment.strftime("%Y%m%d%H%M%S")
    if len(stamp) != 14:  # years before 1000 do not fit the dialect's %Y
        return
    try:
        created = LegacyTextAdapter().decode(_frame(stamp), _ctx()).case.created
    except InboundError as exc:
        assert exc.issues[0].code == "bad-date" and exc.issues[0].path == "line 4"
        return
    assert created is not None
    assert NOW - timedelta(days=3650) <= created <= NOW + timedelta(minutes=60)

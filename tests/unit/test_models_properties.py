"""Property tests: dates and decimals survive a model round-trip exactly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from bridge.core.models import format_hub_datetime, parse_hub_datetime
from bridge.core.models._gen_rc_eda import Coord

OFFSETS = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
AWARE = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz, microsecond=0),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    OFFSETS,
)
FINITE_DECIMALS = st.decimals(allow_nan=False, allow_infinity=False)


@given(AWARE)
def test_hub_datetime_round_trip(value: datetime) -> None:
    """Formatting then parsing an aware datetime gives the same instant, offset and text."""
    text = format_hub_datetime(value)
    parsed = parse_hub_datetime(text)
    assert parsed == value and parsed.utcoffset() == value.utcoffset()
    assert format_hub_datetime(parsed) == text


@given(FINITE_DECIMALS, FINITE_DECIMALS, FINITE_DECIMALS)
def test_decimal_fields_keep_their_exact_text(lat, lon, height) -> None:
    """Any finite Decimal survives validate + dump with the same digits and exponent."""
    dumped = Coord.model_validate({"lat": lat, "lon": lon, "height": height, "precision": "EXACTE"}).to_hub()
    assert [str(dumped[key]) for key in ("lat", "lon", "height")] == [str(lat), str(lon), str(height)]

"""Property tests: dates and decimals survive a model round-trip exactly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.core.errors import BridgeError
from bridge.core.models import format_hub_datetime, parse_hub_datetime
from bridge.core.models._gen_rc_eda import Coord
from bridge.core.numbers import number_problem

OFFSETS = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
AWARE = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz, microsecond=0),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    OFFSETS,
)
ANY_FINITE_DECIMALS = st.decimals(allow_nan=False, allow_infinity=False)
# the numbers the bridge takes (bridge.core.numbers: <= 40 digits, exponent within +-40)
FINITE_DECIMALS = ANY_FINITE_DECIMALS.filter(lambda d: number_problem(d) is None)


@given(AWARE)
def test_hub_datetime_round_trip(value: datetime) -> None:
    """Formatting then parsing an aware datetime gives the same instant, offset and text."""
    text = format_hub_datetime(value)
    parsed = parse_hub_datetime(text)
    assert parsed == value and parsed.utcoffset() == value.utcoffset()
    assert format_hub_datetime(parsed) == text


@given(FINITE_DECIMALS, FINITE_DECIMALS, FINITE_DECIMALS)
def test_decimal_fields_keep_their_exact_text(lat, lon, height) -> None:
    """Any Decimal within the number bounds survives validate + dump with the same digits and exponent."""
    dumped = Coord.model_validate({"lat": lat, "lon": lon, "height": height, "precision": "EXACTE"}).to_hub()
    assert [str(dumped[key]) for key in ("lat", "lon", "height")] == [str(lat), str(lon), str(height)]


@given(ANY_FINITE_DECIMALS)
def test_decimal_fields_out_of_bounds_are_refused(value) -> None:
    """A finite Decimal outside the bounds (1E-999999999...) is refused, never kept to be written out."""
    if number_problem(value) is None:
        return
    with pytest.raises((BridgeError, ValueError)):
        Coord.model_validate({"lat": value, "lon": 0, "height": 0, "precision": "EXACTE"})

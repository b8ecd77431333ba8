"""dumps_hub (behind encode_hub_body) writes the very bytes simplejson (exact decimals) writes, on any JSON-shaped value."""

from __future__ import annotations

import collections
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.refdata import hub_bodies
from bridge.refdata.hub_bodies import dumps_hub, encode_hub_body

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(), st.floats(), st.decimals(),
    st.sampled_from([Decimal("47.218000"), Decimal("1E-7"), Decimal("-0"), Decimal("NaN"), Decimal("Infinity"),
                     "\x00hub-decimal\x00", "\u2028\u2029", "\ud800", "é😀"]),
)
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.one_of(st.text(max_size=8), st.integers(), st.sampled_from(["\x00hub-decimal\x00"])),
                    inner, max_size=4)), max_leaves=25)


def _outcome(encode: Any, value: Any) -> tuple[str, Any]:
    try:
        return "bytes", encode(value)
    except Exception as exc:  # noqa: BLE001 - the same refusal is part of the contract
        return "error", type(exc)


@given(_VALUES)
@settings(max_examples=1500, deadline=None)
def test_same_bytes_or_same_refusal_as_simplejson(value: Any) -> None:
    assert _outcome(dumps_hub, value) == _outcome(hub_bodies._simplejson_bytes, value)


def test_a_decimal_keeps_its_text_and_a_marker_in_text_is_not_taken_for_one() -> None:
    message = {"lat": Decimal("47.218000"), "n": [Decimal("1E-7"), 3], "text": "\x00hub-decimal\x00"}
    assert dumps_hub(message) == hub_bodies._simplejson_bytes(message) == encode_hub_body(message)
    assert dumps_hub({"lat": Decimal("47.218000")}) == b'{"lat":47.218000}'


def test_the_standard_encoder_does_the_work_on_a_bridge_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """A message of text, numbers and Decimals never reaches simplejson (the point of this module)."""
    monkeypatch.setattr(hub_bodies, "_simplejson_bytes", lambda message: pytest.fail("took the simplejson path"))
    monkeypatch.setattr(hub_bodies.simplejson, "dumps", lambda *a, **k: pytest.fail("took simplejson"))
    assert encode_hub_body({"a": [Decimal("1.50")]}) == b'{"a":[1.50]}'  # every writer of Hub JSON goes this way
    assert dumps_hub({"a": [Decimal("1.50"), "é", 2, True, None]}) == '{"a":[1.50,"é",2,true,null]}'.encode()


def test_a_named_tuple_is_written_as_an_array_as_the_models_write_it() -> None:
    """The one deliberate difference: simplejson writes a named tuple as an object, the Hub schemas want arrays."""
    point = collections.namedtuple("point", "lat lon")(Decimal("1.5"), Decimal(2))
    assert dumps_hub({"p": point}) == b'{"p":[1.5,2]}'

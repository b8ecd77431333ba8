"""Issue 12 item 7: numbers that eat memory, and numbers that are no number.

``1e-999999999`` passed the schema (type number) and the models, then ``format(value, "f")``
wrote a gigabyte string; ``NaN`` and ``Infinity`` passed ``validate`` and ``translate``
wrote ``<lat>nan</lat>``. Every entry point now refuses them when it reads them (JSON,
XML text, legacy fields, a caller's dict), naming the path, with a code; coordinates are
range-checked whichever way a case travels.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bridge.core.adapters.base import AdapterContext
from bridge.core.adapters.legacy_text import LegacyTextAdapter
from bridge.core.adapters.rc_eda import RcEdaJsonAdapter
from bridge.core.canonical import Location
from bridge.core.codec.scalars import CodecError, text_of, value_of
from bridge.core.errors import InboundError
from bridge.core.jsonstrict import loads_strict
from bridge.core.numbers import MAX_DIGITS, MAX_EXPONENT, number_problem
from bridge.refdata.profiles import load_profile

HUGE = ["1e-999999999", "1E+999999999", "0e-999999999", "-1e-41", "1e41", "1" * 41, "1" * 200 + ".5",
        "0." + "0" * 300 + "1"]
NON_FINITE = ["NaN", "Infinity", "-Infinity"]
LAT = "/createCase/location/geometry/point/coord/lat"
EXAMPLE = "examples/RC-EDA/RC-EDA-DouleurThoracique-PierreLegrand.json"


@pytest.mark.parametrize("text", HUGE + NON_FINITE)
def test_json_reader_refuses_numbers_naming_their_pointer(text):
    """The strict reader names the pointer and the code of each refused number."""
    with pytest.raises(InboundError) as caught:
        loads_strict(f'{{"a": [1, {{"b/c": {text}}}]}}')
    issue = caught.value.issues[0]
    assert issue.path == "/a/1/b~1c"
    assert issue.code == ("non-finite-number" if text in NON_FINITE else "number-out-of-range")


def test_json_reader_keeps_ordinary_numbers_exact():
    """In-bounds numbers keep their exact digits (Decimal), integers stay int."""
    document = loads_strict('{"lat": 47.147005, "n": 12, "big": 1E+40, "small": -1.5e-40, "z": 0.000}')
    assert document == {"lat": Decimal("47.147005"), "n": 12, "big": Decimal("1E+40"),
                        "small": Decimal("-1.5e-40"), "z": Decimal("0.000")}


def _with_lat(hub_reference, text: str) -> bytes:
    body = json.loads((hub_reference / EXAMPLE).read_text(encoding="utf-8"))
    body["createCase"]["location"]["geometry"]["point"]["coord"]["lat"] = "__LAT__"
    return json.dumps(body).replace('"__LAT__"', text).encode()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("text", ["1e-999999999", "1E+999999999", "NaN", "Infinity", "-Infinity"])
def test_validate_and_translate_agree_on_hostile_numbers(hub_reference, text):
    """JSON with a hostile lat: validate reports it at its pointer, translate refuses with the same issue."""
    from bridge.api import translate, validate

    data = _with_lat(hub_reference, text)
    issues = validate(data, schemas=hub_reference)
    assert [(i.path, i.code) for i in issues] == [
        (LAT, "non-finite-number" if text in NON_FINITE else "number-out-of-range")]
    with pytest.raises(InboundError) as caught:
        translate(data, "xml", schemas=hub_reference)
    assert caught.value.issues == issues


@pytest.mark.parametrize("text", ["NaN", "INF", "-INF", "1e-999999999", "0E-999999999"])
def test_xml_with_hostile_numbers_is_refused_by_validate_and_translate(hub_reference, text):
    """The XML form: the XSD refuses them (xs:decimal), and so does translating without validation."""
    from bridge.api import translate, validate

    xml = (hub_reference / EXAMPLE.replace(".json", ".xml")).read_bytes()
    assert b"<lat>47.2184</lat>" in xml
    data = xml.replace(b"<lat>47.2184</lat>", f"<lat>{text}</lat>".encode())
    assert validate(data, schemas=hub_reference)
    with pytest.raises(InboundError) as caught:
        translate(data, "json", schemas=hub_reference)
    assert caught.value.issues
    with pytest.raises(InboundError) as caught:
        translate(data, "json", schemas=hub_reference, validate=False)
    assert caught.value.issues[0].code in ("non-finite-number", "number-out-of-range", "wrong-type")
    assert "lat" in caught.value.issues[0].path


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("1E-999999999"), float("inf"), 10 ** 50])
def test_codec_never_writes_a_hostile_number(value):
    """A caller's dict holding NaN or 1E-999999999: the codec refuses instead of writing nan or zeros."""
    with pytest.raises(CodecError) as caught:
        text_of(value)
    assert caught.value.code in ("non-finite-number", "number-out-of-range")


@pytest.mark.parametrize("text", ["NaN", "Infinity", "1e-999999999", "9" * 5000])
def test_codec_refuses_hostile_number_text(text):
    """XML text of a decimal or integer leaf is bounded before conversion."""
    for kind in ("decimal", "integer"):
        with pytest.raises(CodecError):
            value_of(text, kind)


def test_models_refuse_out_of_bound_numbers():
    """The pydantic types refuse them too (the no-bundle validate path, and callers building models)."""
    from bridge.core.models.types import parse_hub_decimal, parse_hub_int

    with pytest.raises(ValueError, match="out of range"):
        parse_hub_decimal(Decimal("1E-999999999"))
    with pytest.raises(ValueError, match="out of range"):
        parse_hub_int(Decimal("1E+999999999"))  # int() of it would build a billion-digit integer


# -- coordinates, both directions ------------------------------------------------------------------
NOW = datetime(2024, 5, 18, 16, 30, tzinfo=UTC)
ALPHA = b"NUM_DOSSIER=A1\r\nDATE_APPEL=20240518181500\r\nNATURE=INC\r\nCOMMUNE=Nantes"


class _Codes:
    def forward(self, table, code):
        from bridge.core.mapping import Mapped
        return Mapped("C04.00.00", None, "t.csv:2")

    def reverse(self, table, code):
        from bridge.core.mapping import Mapped
        return Mapped("INC", None, "t.csv:2")


def _ctx() -> AdapterContext:
    return AdapterContext(now=NOW, new_id=lambda: "id-1", mappings=_Codes(), profile=load_profile("lrm-alpha-text"))


@pytest.mark.parametrize("line", [b"LAT=1e-999999999", b"LAT=0E-999999999", b"LAT=91", b"LAT=-90.0001",
                                  b"LON=180.5", b"LAT=NaN", b"LON=-Infinity", b"LAT=" + b"4" * 5000])
def test_legacy_coordinates_are_bounded_and_ranged(line):
    """LRM -> Hub: the legacy field is refused at its line with bad-number (the legacy adapters' code)."""
    with pytest.raises(InboundError) as caught:
        LegacyTextAdapter().decode(ALPHA + b"\r\n" + line, _ctx())
    issue = caught.value.issues[0]
    assert issue.code == "bad-number" and issue.path == "line 5"


@pytest.mark.parametrize("line", [b"LAT=90", b"LAT=-90", b"LON=180", b"LON=-179.999999", b"LAT=47,2184"])
def test_legacy_coordinates_in_range_pass(line):
    """The range is inclusive; the decimal comma still reads."""
    case = LegacyTextAdapter().decode(ALPHA + b"\r\n" + line, _ctx()).case
    assert case.location.lat is not None or case.location.lon is not None


@pytest.mark.parametrize(("axis", "value"), [("lat", "95"), ("lat", "-91"), ("lon", "181"), ("lon", "1e-999999999")])
def test_hub_coordinates_are_ranged_on_the_way_to_the_lrm(axis, value):
    """Hub -> LRM: an RC-EDA createCase with lat 95 is refused naming the pointer, code bad-coordinate."""
    payload = {"caseId": "fr.health.samu440.X", "senderCaseId": "X", "creation": "2024-05-18T18:15:00+02:00",
               "referenceVersion": "1.3", "qualification": {}, "location": {
                   "country": "FR", "geometry": {"point": {"coord": {"lat": "47", "lon": "-1", "precision": "EXACTE"}}}}}
    body = json.dumps({"createCase": payload}).replace(f'"{axis}": "{"47" if axis == "lat" else "-1"}"',
                                                       f'"{axis}": {value}').encode()
    with pytest.raises(InboundError) as caught:
        RcEdaJsonAdapter().decode(body, _ctx())
    issue = caught.value.issues[0]
    assert issue.path == f"/createCase/location/geometry/point/coord/{axis}"
    assert issue.code in ("bad-coordinate", "number-out-of-range")


@pytest.mark.parametrize(("field", "value"), [("lat", Decimal("90.5")), ("lon", Decimal(-181)),
                                              ("lat", Decimal("NaN")), ("lon", Decimal("1E-999999999"))])
def test_the_canonical_case_never_holds_a_coordinate_out_of_range(field, value):
    """The backstop for every adapter, both directions: a Location cannot be built with it."""
    with pytest.raises(ValidationError):
        Location(**{field: value})


# -- property: random numbers only yield a bounded value or a clean refusal ------------------------
_NUMBER_TEXT = st.one_of(
    st.from_regex(r"-?(0|[1-9][0-9]{0,60})(\.[0-9]{1,60})?([eE][+-]?[0-9]{1,12})?", fullmatch=True),
    st.sampled_from(NON_FINITE + HUGE),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)


def _bounded(value: object) -> bool:
    return number_problem(value) is None and len(text_of(value)) <= MAX_DIGITS + MAX_EXPONENT + 3


@settings(max_examples=300, deadline=None)
@given(_NUMBER_TEXT)
def test_random_json_numbers_yield_a_bounded_value_or_a_clean_error(text):
    """Whatever the number text, the reader returns a value whose written form is short, or an InboundError."""
    try:
        value = loads_strict(f'{{"n": {text}}}')["n"]
    except InboundError as exc:
        assert exc.issues and exc.issues[0].path == "/n"
        assert exc.issues[0].code in ("non-finite-number", "number-out-of-range", "json-syntax")
        return
    assert _bounded(value)


@settings(max_examples=200, deadline=None)
@given(_NUMBER_TEXT, st.sampled_from(["LAT", "LON"]))
def test_random_legacy_coordinates_yield_a_coordinate_or_a_clean_error(text, key):
    """Whatever the legacy text, the adapter returns degrees in range or an InboundError naming the line."""
    try:
        case = LegacyTextAdapter().decode(ALPHA + f"\r\n{key}={text}".encode(), _ctx()).case
    except InboundError as exc:
        assert exc.issues[0].path == "line 5" and exc.issues[0].code == "bad-number"
        return
    value = case.location.lat if key == "LAT" else case.location.lon
    assert value is not None and abs(value) <= (90 if key == "LAT" else 180) and _bounded(value)

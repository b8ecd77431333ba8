"""The strict JSON reader's shared decoder: every refusal is the collecting reader's, word for word.

``loads_strict`` reads well-behaved text with one decoder built once (its hooks keep no state) and
reads again with the collecting hooks at the first number it does not take; these tests compare it
with the collecting reader alone (the shared decoder disabled) on hostile inputs, and check that no
decoder is built per call.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.core import jsonstrict
from bridge.core.errors import InboundError
from bridge.core.jsonstrict import loads_strict

HOSTILE: list[str | bytes] = [
    '{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '[NaN, 1e-999999999, {"b": Infinity}]',
    '{"a": 1e-999999999}', '{"a": 1E+999999999}', '{"a": 0e-999999999}', '{"a": ' + "1" * 41 + "}",
    '{"a": ' + "1" * 5000 + "}", '{"a": -' + "9" * 200 + ".5}", '{"a": 0.' + "0" * 300 + "1}",
    '{"a": 1e41, "a": 2}', '{"a": 2, "a": 1e41}', '{"x": {"k": 1, "k": 2}}', '{"a": 1e-999999999, "b": [1,]}',
    '{"a": NaN', '[' * 10_000 + ']' * 10_000, '{"a": [NaN, ' + '[' * 10_000 + ']' * 10_000 + "]}",
    '{"s": "' + "x" * 200_000 + '", "n": 1e-41}', '{"s": "' + "x" * 200_000 + '"}', "\ufeff{}", "\ufeff\ufeff{}",
    b"\xef\xbb\xbf\xef\xbb\xbf{}", b'{"a": "\xff"}', b"\xef\xbb\xbf{\"a\": 1}", "", "   ", "nan", "[1, 2", '{"a": 01}',
    '{"a": 1.}', '{"a": -}', '{"a": 1e}', '{"a": "\\ud800"}', '{"a": 1, "b": [true, false, null, 0.5, -0.0, 1E+40]}',
]


def _collecting_only(monkeypatch: pytest.MonkeyPatch) -> None:
    class Collecting:
        def decode(self, text: str) -> Any:
            raise jsonstrict._Refused

    monkeypatch.setattr(jsonstrict, "_FAST_DECODER", Collecting())


def _outcome(data: str | bytes) -> tuple[str, Any]:
    try:
        document = loads_strict(data)
    except InboundError as exc:
        return "refused", (type(exc), exc.message, exc.issues, exc.hub_code)
    return "read", json.dumps(document, default=repr, sort_keys=False)


def test_hostile_input_is_refused_as_by_the_collecting_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = [_outcome(data) for data in HOSTILE]
    _collecting_only(monkeypatch)
    assert [_outcome(data) for data in HOSTILE] == fast
    assert sum(kind == "refused" for kind, _ in fast) >= 25  # the list is mostly refusals


_NUMBER_TEXT = st.one_of(
    st.from_regex(r"-?(0|[1-9][0-9]{0,60})(\.[0-9]{1,60})?([eE][+-]?[0-9]{1,12})?", fullmatch=True),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e-999999999", "0E-99", "1" * 45]),
)


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), _NUMBER_TEXT), max_size=6), st.booleans())
@settings(max_examples=200, deadline=None, database=None)
def test_any_numbers_and_keys_read_as_by_the_collecting_reader(members: list[tuple[str, str]], nested: bool) -> None:
    body = "{" + ", ".join(f'"{key}": {number}' for key, number in members) + "}"
    text = f'{{"x": [{body}, {body}]}}' if nested else body
    fast = _outcome(text)
    with pytest.MonkeyPatch.context() as patch:
        _collecting_only(patch)
        assert _outcome(text) == fast


def test_ordinary_numbers_keep_their_exact_digits() -> None:
    assert loads_strict(b'{"lat": 47.147005, "n": 12, "big": 1E+40, "z": -0.0}') == {
        "lat": Decimal("47.147005"), "n": 12, "big": Decimal("1E+40"), "z": Decimal("-0.0")}


def test_no_decoder_is_built_per_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """``json.loads`` with hooks built a decoder (and its scanner) for every document."""
    built: list[object] = []
    real = json.JSONDecoder.__init__

    def counting(self: json.JSONDecoder, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(json.JSONDecoder, "__init__", counting)
    for _ in range(3):
        loads_strict(b'{"a": {"b": [1, 2.5, "c"]}}')
    assert built == []
    with pytest.raises(InboundError):
        loads_strict(b'{"a": NaN}')  # a refusal reads again with the collecting hooks
    assert len(built) == 1

"""The translate and wrap steps do each piece of work once (issue 18, fifth pass). Counted, not timed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.core import pipeline
from bridge.core.pipeline import HubPayload
from bridge.runtime.demo import demo_frame


def test_each_hub_payload_is_built_once(rig, monkeypatch):
    """``to_hub`` hands out the payloads the pipeline built, with the frame's case and lookups filled in: one
    ``HubPayload`` per payload (it was built a second time by the translator to add those two fields)."""
    built: list[str] = []
    real = HubPayload.__init__

    def counting(self, name, *args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(name)
        real(self, name, *args, **kwargs)

    monkeypatch.setattr(HubPayload, "__init__", counting)
    items = rig.service.translator.to_hub(demo_frame(7))  # asks for assistance: createCase + EMSI
    assert [item.name for item in items] == ["createCase", "emsi"]
    assert built == ["createCase", "emsi"]


def test_every_payload_of_a_frame_names_its_case_and_carries_its_lookups(rig):
    """The fields the translator fills in are what they were: the createCase's caseId on every payload of the
    frame, and the frame's lookups, as the recorder wrote them, in order."""
    translator = rig.service.translator
    items = translator.to_hub(demo_frame(8))
    case_id = items[0].payload["caseId"]
    assert case_id == "fr.health.samu440.DEMO-000008"
    assert [item.case_id for item in items] == [case_id, case_id]
    assert items[0].mapped == items[1].mapped
    assert [(e["table"], e["code"]) for e in items[0].mapped][:2] == [("lrm-alpha-nature", "CHUT"),
                                                                       ("lrm-alpha-lieu", "DOM")]
    assert all(set(e) == {"table", "direction", "code", "to", "source", "warning"} for e in items[0].mapped)
    again = translator.to_hub(demo_frame(8))
    assert again[0].mapped == items[0].mapped and again[0].mapped is not items[0].mapped  # one list per frame


def test_a_frame_with_no_payload_gives_an_empty_list():
    assert pipeline.with_frame_facts([], []) == []


def test_the_core_draws_its_ids_from_the_injected_source_only(monkeypatch):
    """The location id and the initialAlert id of a createCase (and the EMSI's ids) come from ``ctx.new_id``:
    with every random source of the standard library made to fail, a translation with a counter as ``new_id``
    works, and its ids are the counter's (the core is sans-IO: no uuid4, urandom or random of its own)."""
    import os
    import random
    import secrets
    import uuid
    from datetime import UTC, datetime

    from bridge.refdata.profiles import build_context, load_profile

    count = iter(range(1_000))
    ctx = build_context(profile="lrm-alpha-text", sender_id="fr.health.samu440",
                        recipient_id="fr.fire.nexsis.sdis44", now=datetime(2026, 11, 25, 10, 30, tzinfo=UTC),
                        new_id=lambda: f"00000000-0000-4000-8000-{next(count):012d}")

    def forbidden(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("a random source was used by the core")

    for module, name in ((uuid, "uuid4"), (uuid, "uuid1"), (os, "urandom"), (random, "random"),
                         (random, "getrandbits"), (secrets, "token_hex"), (secrets, "token_bytes")):
        monkeypatch.setattr(module, name, forbidden)
    items = pipeline.legacy_to_hub(demo_frame(9), load_profile("lrm-alpha-text"), ctx)
    create_case = items[0].payload
    assert create_case["initialAlert"]["id"].startswith("fr.health.samu440.alert.00000000")
    assert create_case["location"]["locID"].startswith("00000000-0000-4000-8000-")
    assert items[1].payload["CONTEXT"]["ID"].startswith("00000000-0000-4000-8000-")


class _CountingAdapter:
    """Wraps the profile's adapter and counts its decodes."""

    def __init__(self, inner: object) -> None:
        self.inner, self.decodes = inner, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def decode(self, data: bytes, ctx: object) -> object:
        self.decodes += 1
        return self.inner.decode(data, ctx)  # type: ignore[attr-defined]


def test_an_accepted_frame_is_decoded_once_for_its_messages_and_its_ack(rig, monkeypatch):
    """The LRM's ack names the dossier the translation read (the createCase's senderCaseId): the frame is not
    read again for it (``reference_of`` re-reads only a frame the translation refused, for its NACK)."""
    from bridge.core import pipeline as core_pipeline
    from bridge.core.adapters import legacy_text

    counting = _CountingAdapter(legacy_text.LegacyTextAdapter())
    real_get = core_pipeline.get_adapter
    monkeypatch.setattr(core_pipeline, "get_adapter",
                        lambda name, adapters=None: counting if name == "legacy-text" else real_get(name, adapters))
    monkeypatch.setattr(legacy_text, "reference_in_frame", lambda *_: pytest.fail("frame read again for its ack"))
    replies: list[bytes | None] = []
    handled = rig.service.on_legacy_frame(demo_frame(11))
    handled.addCallback(replies.append)  # type: ignore[union-attr]
    rig.service.commit()  # the ack leaves once the frame is durable (no run: the partner's answer would come back)
    assert counting.decodes == 1
    assert replies and replies[0] is not None and b"DEMO-000011" in replies[0]


def test_a_delimited_frame_is_split_and_grouped_in_one_pass(monkeypatch):
    """A ``;``-delimited frame (lrm-beta-text) is split and grouped by key in one loop, its columns' names made
    once per profile; an empty column is skipped by the generated reader itself (before: the line was parsed
    into a record, grouped again, and each empty column went through ``read_field``). Same case: the reference
    decoder of tests/unit/test_legacy_decode_plan.py compares both ways on generated and golden frames."""
    from bridge.core.adapters import legacy_fields, legacy_text
    from bridge.refdata.profiles import build_context

    ctx = build_context(profile="lrm-beta-text", sender_id="fr.health.samu440", recipient_id="fr.fire.nexsis.sdis44")
    frame = (Path(__file__).parents[1] / "golden" / "lrm-beta-text" / "normal.txt").read_bytes()
    calls: list[str] = []
    for module, name in ((legacy_text, "_parse_delimited"), (legacy_text, "group_entries"),
                         (legacy_fields, "read_field")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _n=name, _r=real, **k: calls.append(_n) or _r(*a, **k))
    legacy_fields._PLANS.clear()  # the reader is generated with the (spied) read_field of this test
    decoded = legacy_text.LegacyTextAdapter().decode(frame, ctx)
    assert decoded.case.sender_case_id == "B-2024-7781" and decoded.case.location.city == "Bouaye"
    assert [note.text for note in decoded.case.notes] == ["Odeur de gaz", "Compteur coupe"]
    # only the repeated fields with a value (risks, observations) take the general way
    assert calls == ["read_field", "read_field"]


def test_a_delimited_frame_with_too_many_columns_is_refused_as_before():
    from bridge.core.adapters import legacy_text
    from bridge.core.errors import InboundError
    from bridge.refdata.profiles import build_context

    ctx = build_context(profile="lrm-beta-text", sender_id="fr.health.samu440", recipient_id="fr.fire.nexsis.sdis44")
    line = ";".join(["x"] * 27).encode()
    with pytest.raises(InboundError) as refused:
        legacy_text.LegacyTextAdapter().decode(line, ctx)
    assert refused.value.issues[0].path == "column 27" and refused.value.issues[0].code == "bad-record"


def _parse_decimal_as_before(text: str, where: str, key: str, axis: str) -> object:
    """legacy_fields._parse_decimal before the plain-degrees shortcut (the specification of its results)."""
    from decimal import Decimal, InvalidOperation

    from bridge.core.errors import InboundError, Issue
    from bridge.core.numbers import coordinate_problem, number_text_problem

    problem = number_text_problem(text.replace(",", "."))
    if problem:
        raise InboundError(f"{key}: {text[:40]!r} is not a coordinate in degrees",
                           [Issue(where, f"{key}={text[:40]!r}: {problem[1]}", "bad-number")])
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise InboundError(f"{key}: {text!r} is not a number",
                           [Issue(where, f"{key}={text!r} is not a decimal number", "bad-number")]) from None
    reason = coordinate_problem(value, axis)
    if reason:
        raise InboundError(f"{key}: {text!r} is not a coordinate in degrees",
                           [Issue(where, f"{key}={text!r}: {reason}", "bad-number")])
    return value


def _outcome_of(parse, text: str, axis: str) -> object:  # type: ignore[no-untyped-def]
    from bridge.core.errors import BridgeError

    try:
        value = parse(text, "column 13 (LATITUDE)", "LATITUDE", axis)
    except BridgeError as exc:
        return ("refused", type(exc), exc.message, exc.issues, exc.hub_code)
    return ("value", value, str(value), value.as_tuple())


_DEGREE_TEXT = st.one_of(
    st.from_regex(r"\A[+-]?[0-9]{0,5}([.,][0-9]{0,34})?([eE][+-]?[0-9]{1,12})?\Z"),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["47.147005", "-1,690548", "90", "-90.0", "90.000001", "180", "-180.5", "0", "-0", "+5.5",
                     "1e-999999999", "0E-999999999", "NaN", "-Infinity", "٤٧.١", "47.1 ", " 47.1", "", ".", "5.",
                     ".5", "1_000", "0x10", "47.1234567890123456789012345678901", "047.5", "0047.5"]),
    st.text(max_size=12))


@given(text=_DEGREE_TEXT, axis=st.sampled_from(["lat", "lon"]))
@settings(max_examples=600, deadline=None)
def test_a_coordinate_reads_as_it_did(text: str, axis: str) -> None:
    """The plain-degrees shortcut gives what the general way gave: the same Decimal (digits, exponent, sign)
    or the same refusal (type, message, issues, Hub code), for any text."""
    from bridge.core.adapters.legacy_fields import _parse_decimal

    assert _outcome_of(_parse_decimal, text, axis) == _outcome_of(_parse_decimal_as_before, text, axis)


def test_a_plain_coordinate_is_not_checked_twice(monkeypatch):
    """A coordinate as LRMs write it (``47.147005``) is read without the generic number checks (which cannot
    refuse it): one Decimal and the range; before, the number bounds ran twice on it."""
    from bridge.core.adapters import legacy_fields

    monkeypatch.setattr(legacy_fields, "number_text_problem", lambda *_: pytest.fail("number checks run"))
    monkeypatch.setattr(legacy_fields, "coordinate_problem", lambda *_: pytest.fail("number checks run"))
    assert str(legacy_fields._parse_decimal("47.147005", "line 1", "LAT", "lat")) == "47.147005"
    assert str(legacy_fields._parse_decimal("-1,690548", "line 1", "LON", "lon")) == "-1.690548"


def test_a_decimal_is_read_once_per_exact_text_by_the_verdicts() -> None:
    """The models' number reader inside the compiled verdicts keeps its result for a Decimal by its exact text:
    the coordinates a createCase carries twice are read once; Decimal('1.5') and Decimal('1.50') are each read;
    an equal but hostile Decimal (0E-999999999) is refused every time; a long one is never kept."""
    from decimal import Decimal

    from bridge.core import verdict

    reads: list[str] = []

    def reader(value: object) -> object:
        reads.append(str(value))
        if str(value) == "0E-999999999":
            raise ValueError("out of range")
        return value

    reader.__module__ = "bridge.core.models.types"
    memo = verdict._text_memo(reader)
    long = Decimal("1." + "1" * 80)
    for _ in range(3):
        assert memo(Decimal("47.147005")) == Decimal("47.147005")
        assert str(memo(Decimal("1.50"))) == "1.50" and str(memo(Decimal("1.5"))) == "1.5"
        assert str(memo(Decimal(0))) == "0"
        with pytest.raises(ValueError):
            memo(Decimal("0E-999999999"))
        assert memo(long) is long
    assert reads.count("47.147005") == 1 and reads.count("1.50") == 1 and reads.count("1.5") == 1
    assert reads.count("0") == 1 and reads.count("0E-999999999") == 3 and reads.count(str(long)) == 3

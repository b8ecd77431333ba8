"""The glue around a frame's translation makes what it made before, with fewer steps.

``pipeline.copy_with`` (the location id put on a decoded case) gives what pydantic's ``model_copy``
gives; ``PipelineTranslator._ctx`` gives the context ``AdapterContext(**fields)`` gave;
``refdata.profiles.new_uuid`` is a version-4 UUID in ``str(uuid.uuid4())``'s spelling; the
recorder writes down the same entries and usage figures as before.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.app.translator import MappingUsage, PipelineTranslator, RecordingMappings
from bridge.core.adapters.base import AdapterContext
from bridge.core.canonical import Caller, Case, Coded, Location, Patient, Qualification
from bridge.core.errors import InboundError
from bridge.core.pipeline import copy_with
from bridge.refdata.profiles import build_context, load_profile, new_uuid
from bridge.runtime.demo import demo_frame

CASES = st.builds(
    Case, sender_case_id=st.none() | st.text(max_size=8),
    qualification=st.builds(Qualification, whats_happen=st.none() | st.builds(Coded, code=st.text(min_size=1, max_size=5)),
                            victims_count=st.none() | st.text(max_size=3)),
    location=st.builds(Location, city=st.none() | st.text(max_size=8),
                       lat=st.none() | st.decimals(min_value=-90, max_value=90, places=4).map(Decimal)),
    caller=st.none() | st.builds(Caller, name=st.text(max_size=5)),
    patients=st.lists(st.builds(Patient, age=st.none() | st.integers(0, 120)), max_size=2).map(tuple))


@settings(max_examples=200, deadline=None)
@given(case=CASES, loc_id=st.text(max_size=40))
def test_copy_with_is_model_copy(case, loc_id):
    expected = case.model_copy(update={"location": case.location.model_copy(update={"loc_id": loc_id})})
    got = copy_with(case, "location", copy_with(case.location, "loc_id", loc_id))
    assert got == expected
    assert got.__pydantic_fields_set__ == expected.__pydantic_fields_set__
    assert got.location.__pydantic_fields_set__ == expected.location.__pydantic_fields_set__
    assert got.model_dump(exclude_unset=True) == expected.model_dump(exclude_unset=True)
    assert got.location.loc_id == loc_id
    assert type(got) is Case and type(got.location) is Location
    assert case.__dict__ is not got.__dict__  # a copy: the decoded case is left as it was


def test_new_uuid_is_a_version_4_uuid_spelled_as_uuid4_spells_it():
    seen = {new_uuid() for _ in range(2000)}
    assert len(seen) == 2000
    for text in seen:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text and len(text) == 36


def test_build_context_hands_out_new_uuids():
    ctx = build_context()
    first, second = ctx.new_id(), ctx.new_id()
    assert first != second and uuid.UUID(first).version == 4


def test_a_frames_context_is_the_links_with_its_clock_and_recorder(tmp_path: Path):
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    translator = PipelineTranslator(load_profile("lrm-alpha-text"), build_context(), clock=lambda: now)
    recorder = translator._recorder()
    got = translator._ctx(recorder)
    expected = AdapterContext(**{**translator.ctx.__dict__, "now": now.astimezone(), "mappings": recorder})
    assert got == expected and type(got) is AdapterContext
    assert translator._ctx() == AdapterContext(**{**translator.ctx.__dict__, "now": now.astimezone()})
    assert got.with_profile(None).profile is None  # still a frozen dataclass: its own copy methods work


def test_the_recorder_writes_down_what_it_wrote_down():
    """Each lookup: one entry (table, direction, code cut to 200 characters, code out, row, warning) and
    the console's usage figures; a lookup that raises leaves neither."""
    ctx = build_context()
    usage = MappingUsage()
    recorder = RecordingMappings(ctx.mappings, usage)
    hit = recorder.forward("lrm-alpha-nature", "CHUT")
    miss = recorder.forward("lrm-alpha-nature", "X" * 300)
    recorder.reverse("lrm-alpha-nature", hit.code)
    with pytest.raises(InboundError):  # a rejecting table
        recorder.forward("lrm-alpha-mission", "NO-SUCH")
    assert recorder.entries == [
        {"table": "lrm-alpha-nature", "direction": "forward", "code": "CHUT", "to": hit.code,
         "source": hit.source, "warning": None},
        {"table": "lrm-alpha-nature", "direction": "forward", "code": "X" * 200, "to": miss.code,
         "source": miss.source, "warning": miss.warning},
        {"table": "lrm-alpha-nature", "direction": "reverse", "code": hit.code, "to": "CHUT",
         "source": recorder.entries[2]["source"], "warning": None}]
    assert usage.snapshot() == [
        {"table": "lrm-alpha-nature", "direction": "forward", "lookups": 2, "fallbacks": 1,
         "codes": {"CHUT": 1, "X" * 200: 1}},
        {"table": "lrm-alpha-nature", "direction": "reverse", "lookups": 1, "fallbacks": 0, "codes": {hit.code: 1}}]
    again = MappingUsage()
    for entry in recorder.entries:
        again.add(entry)
    assert again.snapshot() == usage.snapshot()


def test_to_hub_counts_each_lookup_of_a_frame_once(tmp_path: Path):
    translator = PipelineTranslator(load_profile("lrm-alpha-text"), build_context(),
                                    clock=lambda: datetime(2026, 11, 25, 9, 30, tzinfo=UTC))
    items = translator.to_hub(demo_frame(7, assistance=False))
    tables = sorted(entry["table"] for entry in items[0].mapped)
    counted = sorted(table for (table, _), n in translator.usage.lookups.items() for _ in range(n))
    assert tables == counted and len(tables) == 6

"""What the encoders' and decoders' read tracking records (the drops are derived from it).

The lookups were made cheaper (a field read no longer goes through a failed default lookup, JSON
pointers of repeated paths are kept): these tests pin what is recorded, so a faster path that marked
less (a silent drop) or more (a hidden one) fails here.
"""

from __future__ import annotations

import pytest

from bridge.core.adapters.consumed import Tracked, unread, unwrap_tracked
from bridge.core.adapters.tracking import Reader
from bridge.core.canonical import Caller, Case, Location


def _case() -> Case:
    return Case(case_id="fr.health.samu440.DRSAMU-1", location=Location(city="Nantes", street="rue X"),
                caller=Caller(phone="+33600000000", name="Jean"), extras={"a": "1", "b": "2"})


def test_field_reads_leaf_paths_only() -> None:
    tracked = Tracked(_case())
    assert tracked.case_id == "fr.health.samu440.DRSAMU-1"
    location = tracked.location
    assert isinstance(location, Tracked)
    assert location.city == "Nantes"
    assert tracked.caller.phone == "+33600000000"
    assert tracked.extras.get("a") == "1"
    assert tracked.used == {"case_id", "location.city", "caller.phone", "extras.a"}


def test_unread_lists_what_was_not_read() -> None:
    case = _case()
    tracked = Tracked(case)
    _ = (tracked.case_id, tracked.location.city, tracked.caller.phone, tracked.extras.get("a"))
    assert sorted(issue.path for issue in unread(case, tracked.used, "why")) == [
        "caller.name", "extras.b", "location.street"]


def test_methods_and_unwrap_take_a_whole_subtree() -> None:
    tracked = Tracked(_case())
    tracked.location.model_dump()
    assert unwrap_tracked(tracked.extras) == {"a": "1", "b": "2"}
    assert tracked.used == {"location", "extras"}


def test_missing_names_and_writes_are_refused() -> None:
    tracked = Tracked(_case())
    with pytest.raises(AttributeError):
        _ = tracked.no_such_field
    with pytest.raises(AttributeError):
        _ = tracked._no_such_slot
    with pytest.raises(AttributeError):
        tracked.case_id = "x"
    assert tracked.used == set()


def test_reader_pointers_follow_their_root() -> None:
    payload = {"a": {"b": [1, 2]}, "c": "x"}
    first, second = Reader(payload, "/createCase"), Reader(payload, "/resourcesInfo")
    assert first.get("a", "b", 0) == 1 and second.get("a", "b", 0) == 1
    assert first.pointer("a", "b", 0) == "/createCase/a/b/0"
    assert second.pointer("a", "b", 0) == "/resourcesInfo/a/b/0"
    assert [issue.path for issue in first.leftover()] == ["/createCase/a/b/1", "/createCase/c"]


def test_reader_leftover_stops_at_read_subtrees_and_lists_a_scalar_root() -> None:
    reader = Reader({"a": {"b": 1}, "c": [{"d": None}]}, "/x")
    reader.mark("a")
    assert [(issue.path, issue.message) for issue in reader.leftover()] == [
        ("/x/c/0/d", "None has no canonical field")]
    whole = Reader({"a": 1}, "/x")
    whole.mark()
    assert whole.leftover() == []
    assert [issue.path for issue in Reader("text", "/x").leftover()] == ["/x"]

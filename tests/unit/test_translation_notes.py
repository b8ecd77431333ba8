"""translation_notes: the same bounded JSON text, each repeated entry encoded once (issue 18, the wrap step)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.app import records
from bridge.app.records import translation_notes
from bridge.core.errors import Issue


def _notes_as_before(mapped=(), dropped=(), warnings=()):
    """translation_notes as it was written before its entries were cached: the specification of its text."""
    def cut(value):
        text = "" if value is None else str(value)
        return text if len(text) <= 300 else text[:299] + "…"

    def issues(items):
        return [{"path": cut(i.path), "message": cut(i.message), "code": cut(i.code)} for i in list(items)[:200]]

    notes = {"mapped": [{key: cut(value) for key, value in entry.items()} for entry in list(mapped)[:200]],
             "dropped": issues(dropped), "warnings": issues(warnings)}
    return json.dumps(notes, ensure_ascii=False, sort_keys=True) if any(notes.values()) else None


_VALUES = st.one_of(st.none(), st.text(max_size=400), st.integers(), st.booleans(), st.just(1.0))
_ISSUES = st.lists(st.builds(Issue, st.text(max_size=350), st.text(max_size=350), st.text(max_size=20)), max_size=4)
_KEYS = st.sampled_from(["table", "direction", "code", "to", "source", "warning"])


@given(mapped=st.lists(st.dictionaries(_KEYS, _VALUES), max_size=4), dropped=_ISSUES, warnings=_ISSUES)
@settings(max_examples=300, deadline=None)
def test_the_text_is_unchanged_by_the_cache(mapped, dropped, warnings):
    """Same text as the uncached version, for any entries (long, empty, None, numbers), twice."""
    for _ in range(2):  # the second time from the cache
        assert translation_notes(mapped, dropped, warnings) == _notes_as_before(mapped, dropped, warnings)


def test_equal_but_different_values_are_not_confused():
    """1, 1.0 and True are equal dict keys: a cached note of one is never the note of another."""
    for value in (1, True, 1.0, "1", "True", None):
        assert translation_notes([{"to": value}]) == _notes_as_before([{"to": value}])


def test_the_bounds_hold():
    """At most 200 entries per kind, 300 characters per value; nothing at all gives None."""
    assert translation_notes() is None
    notes = json.loads(translation_notes([{"table": "t", "code": "x" * 1000}] * 500, [Issue("p", "m" * 400)] * 300))
    assert len(notes["mapped"]) == 200 and len(notes["dropped"]) == 200 and notes["warnings"] == []
    assert len(notes["mapped"][0]["code"]) == 300 and notes["mapped"][0]["code"].endswith("…")


def test_a_repeated_entry_is_encoded_once():
    """The entries a sheet shares with earlier sheets (same lookup, same derivation) are not encoded again."""
    entry = {"table": "t-once", "direction": "forward", "code": "X", "to": "Y", "source": "t.csv:1", "warning": None}
    issue = Issue("/createCase/x-once", "derived once", "value-derived")
    before = records._cached_recorded_json.cache_info().misses
    for _ in range(5):
        translation_notes([dict(entry)], [], [issue])
    assert records._cached_recorded_json.cache_info().misses - before == 1


def test_a_long_value_is_not_kept_by_the_cache():
    """A cache entry keeps its key: a 200 kB value (hostile input) is encoded, never cached."""
    caches = (records._cached_mapped_json, records._cached_recorded_json, records._cached_issue_json)
    before = [cache.cache_info().currsize for cache in caches]
    recorded = {"table": "t-long", "direction": "forward", "code": "x" * 200_000, "to": "y", "source": "s",
                "warning": None}
    for mapped in ([{"table": "t-long", "code": "x" * 200_000}], [recorded]):
        notes = translation_notes(mapped, [Issue("/p", "m" * 200_000)], [Issue("/p" * 200_000, "m")])
        assert notes == _notes_as_before(mapped, [Issue("/p", "m" * 200_000)], [Issue("/p" * 200_000, "m")])
    assert [cache.cache_info().currsize for cache in caches] == before


def test_a_repeated_derivation_note_and_lookup_are_encoded_once(monkeypatch):
    """The note a documented rule adds to nearly every sheet (the initialAlert derivation) and the recorder's
    lookup entries are written as JSON once, not once per sheet (fifth pass: the issue notes were not cached)."""
    written: list[object] = []
    encode = records._note_json
    monkeypatch.setattr(records, "_note_json", lambda entry: written.append(entry) or encode(entry))
    entry = {"table": "t-fifth", "direction": "forward", "code": "A", "to": "B", "source": "t.csv:2", "warning": None}
    issue = Issue("/createCase/fifth", "derived by a documented rule", "value-derived")
    texts = {translation_notes([dict(entry)], [], [issue]) for _ in range(5)}
    assert texts == {_notes_as_before([entry], [], [issue])}
    assert len(written) == 2  # one lookup entry, one note


def test_an_entry_in_another_key_order_or_with_other_keys_is_the_same_note():
    """The recorder's entries are cached by their values in a fixed key order: another order gives the same text,
    an entry with a missing or extra key, or a value that is not text, is not read as one."""
    entry = {"table": "t-order", "direction": "forward", "code": "A", "to": "B", "source": "t.csv:3", "warning": "w"}
    shuffled = dict(reversed(list(entry.items())))
    others = [shuffled, {**entry, "extra": "x"}, {k: v for k, v in entry.items() if k != "warning"},
              {**entry, "to": 1}, {**entry, "to": True}, {**entry, "code": "c" * 400}]
    for mapped in ([entry], *([other] for other in others), [entry]):
        assert translation_notes(mapped) == _notes_as_before(mapped)

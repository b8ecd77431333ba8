"""``refdata.profiles.new_uuid7``: the running bridge's distributionIDs, version-7 UUIDs ordered by time."""

from __future__ import annotations

import uuid

from bridge.refdata.profiles import new_uuid7

T0 = 1_764_500_000_123_456_789  # ns


def test_a_version_7_uuid_spelled_as_uuid_spells_it():
    for _ in range(2000):
        text = new_uuid7()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122


def test_the_first_48_bits_are_the_clock_in_milliseconds():
    parsed = uuid.UUID(new_uuid7(lambda: T0))
    assert parsed.int >> 80 == T0 // 1_000_000


def test_ids_made_later_sort_after_ids_made_earlier():
    earlier = [new_uuid7(lambda: T0) for _ in range(200)]
    later = [new_uuid7(lambda: T0 + 1_000_000) for _ in range(200)]
    assert max(earlier) < min(later)


def test_ids_made_in_the_same_millisecond_stay_unique():
    ids = {new_uuid7(lambda: T0) for _ in range(5000)}
    assert len(ids) == 5000

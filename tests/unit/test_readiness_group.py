"""``/readyz``'s store check while the service's own group commit is open (Store.is_writable)."""

from __future__ import annotations


def test_readiness_reads_the_store_writable_while_the_service_holds_a_group(rig):
    # a frame, a confirm or an RC-REF read in the same reactor turn as the HTTP request opens a group
    rig.service._open_group()
    assert rig.store.is_writable() is True  # a second BEGIN on the group's connection failed: read as False
    assert rig.store.grouping  # the check leaves the group as it was
    rig.service.commit()
    assert rig.store.is_writable() is True


"""``/readyz``'s store check while the service's own group commit is open (runner._writable)."""

from __future__ import annotations

from bridge.runtime.runner import _writable


def test_readiness_reads_the_store_writable_while_the_service_holds_a_group(rig):
    # a frame, a confirm or an RC-REF read in the same reactor turn as the HTTP request opens a group
    rig.service._open_group()
    assert rig.store.is_writable() is False  # a second BEGIN on the group's connection fails
    assert _writable(rig.store)() is True
    rig.service.commit()
    assert _writable(rig.store)() is True

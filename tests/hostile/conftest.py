"""Fixtures of the hostile-input campaign: a real service on a fake clock, and the campaign driving it."""

from __future__ import annotations

import pytest

from bridge.testing.hostile import Campaign
from bridge.testing.rig import Rig


@pytest.fixture
def rig(tmp_path):
    """A fresh bridge (service, SQLite store, in-process Hub, NexSIS simulator) on a fake clock."""
    rig = Rig(tmp_path)
    yield rig
    rig.close()


@pytest.fixture
def campaign(rig):
    """Feeds hostile cases to ``rig`` and sends a good frame end to end after each."""
    return Campaign(rig)


@pytest.fixture(scope="module")
def shared_campaign(tmp_path_factory):
    """One bridge for a whole module (hypothesis runs many examples against the same service)."""
    rig = Rig(tmp_path_factory.mktemp("hostile"))
    yield Campaign(rig)
    rig.close()

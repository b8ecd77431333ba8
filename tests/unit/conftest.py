"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from bridge.testing.rig import Rig


@pytest.fixture
def rig(tmp_path):
    """The real service, translator and SQLite store wired to simulated edges (``bridge.testing.rig``); closed after.
    A test module that needs a different rig (metrics, a silent peer) defines its own ``rig``."""
    rig = Rig(tmp_path)
    yield rig
    rig.close()

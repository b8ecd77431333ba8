"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI (CI=true) replays the same examples every run: a red CI must be reproducible, and a new
# failing example found locally is kept in .hypothesis/ and becomes a fixed regression case.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM (``timeout``, a CI runner, ``kill``) ends the session like Ctrl-C, so session fixtures stop the
    brokers and bridges they started instead of leaving them running (bridge/testing/signals.py)."""
    from bridge.testing.signals import teardown_on_sigterm

    teardown_on_sigterm()


def reference_dir() -> Path | None:
    """The official Hub Santé corpus: ``$HUB_REFERENCE`` or ``../shared/hub-reference``."""
    candidate = Path(os.environ.get("HUB_REFERENCE") or PROJECT_ROOT.parent / "shared" / "hub-reference")
    return candidate if (candidate / "json-schema").is_dir() and (candidate / "xsd").is_dir() else None


def reference_v2_dir() -> Path | None:
    """The previous official model line: ``$HUB_REFERENCE_V2`` or ``../shared/hub-reference-v2``."""
    candidate = Path(os.environ.get("HUB_REFERENCE_V2") or PROJECT_ROOT.parent / "shared" / "hub-reference-v2")
    return candidate if (candidate / "json-schema").is_dir() and (candidate / "xsd").is_dir() else None


@pytest.fixture(scope="session")
def hub_reference_v2() -> Path:
    """Path of the previous model line's corpus; tests that need it skip, saying why, when it is absent."""
    path = reference_v2_dir()
    if path is None:
        pytest.skip("previous-line Hub Santé corpus not found: set $HUB_REFERENCE_V2 or place it at "
                    "../shared/hub-reference-v2")
    return path


@pytest.fixture(scope="session")
def hub_reference() -> Path:
    """Path of the official corpus; tests that need it skip, saying why, when it is absent."""
    path = reference_dir()
    if path is None:
        pytest.skip("official Hub Santé corpus not found: set $HUB_REFERENCE or place it at ../shared/hub-reference")
    return path


@pytest.fixture(autouse=True)
def _isolated_data_home(tmp_path_factory, monkeypatch):
    """Each test gets its own user data directory, so no test sees another's installs."""
    monkeypatch.setenv("HUB_BRIDGE_HOME", str(tmp_path_factory.mktemp("bridge-home")))

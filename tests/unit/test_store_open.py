"""A store that cannot be opened says which file and why (issue 12, item 9: read-only store)."""

from __future__ import annotations

import sqlite3

import pytest

from bridge.app.records import StoreUnavailable
from bridge.edges.store import sqlite as store_module
from bridge.edges.store.sqlite import Store


def test_a_read_only_store_names_its_path(tmp_path, monkeypatch):
    """A real read-only SQLite connection (mode=ro): the error names the file, not just 'readonly database'."""
    path = tmp_path / "bridge.sqlite3"
    sqlite3.connect(path).close()  # an empty database file (not migrated yet: opening must write)
    real_connect = sqlite3.connect

    def read_only(target, **kwargs):
        return real_connect(f"file:{target}?mode=ro", uri=True, **kwargs)

    monkeypatch.setattr(store_module.sqlite3, "connect", read_only)
    with pytest.raises(StoreUnavailable) as caught:
        Store.open(path)
    assert str(path) in caught.value.message and "readonly" in caught.value.message


def test_a_store_path_under_a_file_names_its_path(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailable) as caught:
        Store.open(blocker / "bridge.sqlite3")
    assert str(blocker / "bridge.sqlite3") in caught.value.message

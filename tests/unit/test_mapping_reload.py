"""Hot reload of the mapping tables: valid edits take effect, invalid ones are refused."""

from __future__ import annotations

import shutil

import pytest
from twisted.internet.task import Clock

from bridge.refdata.mapping_loader import InvalidMappings, MappingReloader, load_mappings
from bridge.refdata.nomenclature_store import load_nomenclatures
from bridge.refdata.resources import project_dir


@pytest.fixture
def tables(tmp_path):
    """A writable copy of the shipped tables."""
    target = tmp_path / "mappings"
    shutil.copytree(project_dir("mappings"), target, ignore=shutil.ignore_patterns("profiles"))
    return target


@pytest.fixture
def nomenclatures():
    """The project's own lists are enough for the legacy tables edited here."""
    return load_nomenclatures()


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_valid_edit_takes_effect_and_bumps_the_version(tables, nomenclatures):
    """Changing a target code is visible to the next lookup after check(), under a new version."""
    reloader = MappingReloader(tables, nomenclatures)
    before = reloader.version
    assert reloader.current().forward("lrm-alpha-nature", "INC").code == "C04.00.00"
    _edit(tables / "lrm-alpha-nature.csv", "INC,C04.00.00", "INC,C04.08.00")
    assert reloader.check() is True
    assert reloader.current().forward("lrm-alpha-nature", "INC").code == "C04.08.00"
    assert reloader.version != before


def test_invalid_edit_is_refused_and_old_tables_stay(tables, nomenclatures):
    """An edit lint rejects leaves the previous tables in force and records the findings."""
    reloader = MappingReloader(tables, nomenclatures)
    before = reloader.version
    _edit(tables / "lrm-alpha-nature.csv", "INC,C04.00.00,both", "INC,C04.00.00,sideways")
    assert reloader.check() is False
    assert reloader.version == before
    assert reloader.current().forward("lrm-alpha-nature", "INC").code == "C04.00.00"
    assert [i.path for i in reloader.last_refused] == ["lrm-alpha-nature.csv:2"]


def test_fixing_a_refused_edit_is_then_accepted(tables, nomenclatures):
    """After a refused edit, the corrected file is picked up by the next check."""
    reloader = MappingReloader(tables, nomenclatures)
    path = tables / "lrm-beta-lieu.csv"
    _edit(path, "11,L01.01.00,both", "11,L01.01.00,nope")
    assert reloader.check() is False and reloader.check() is False
    _edit(path, "11,L01.01.00,nope", "11,L01.01.01,both")
    assert reloader.check() is True
    assert reloader.current().forward("lrm-beta-lieu", "11").code == "L01.01.01"


def test_unchanged_files_do_not_reload(tables, nomenclatures):
    """check() without any edit keeps the same set object."""
    reloader = MappingReloader(tables, nomenclatures)
    current = reloader.current()
    assert reloader.check() is False and reloader.current() is current


def test_polling_with_a_looping_call_picks_up_edits(tables, nomenclatures):
    """The LoopingCall driven by a fake clock reloads and calls on_change."""
    seen = []
    reloader = MappingReloader(tables, nomenclatures, on_change=seen.append)
    clock = Clock()
    reloader.start(interval=5, clock=clock)
    _edit(tables / "lrm-alpha-victimes.csv", "V0,0,both", "V0,INCONNU,forward")
    clock.advance(5)
    reloader.stop()
    assert [s.version for s in seen] == [reloader.version]
    assert reloader.current().forward("lrm-alpha-victimes", "V0").code == "INCONNU"


def test_start_up_refuses_invalid_tables(tables, nomenclatures):
    """Loading tables with a lint error raises InvalidMappings listing every finding."""
    _edit(tables / "lrm-beta-motif.csv", "source,target,direction,default", "source,target,default")
    with pytest.raises(InvalidMappings) as caught:
        load_mappings(tables, nomenclatures)
    assert "lrm-beta-motif.csv:1" in [i.path for i in caught.value.issues]


def test_an_unexpected_failure_does_not_stop_polling(tables, nomenclatures, monkeypatch):
    """If one reload blows up, the loop keeps running and the next tick reloads."""
    reloader = MappingReloader(tables, nomenclatures)
    clock = Clock()
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return original()

    original = reloader.check
    monkeypatch.setattr(reloader, "check", flaky)
    reloader.start(interval=5, clock=clock)
    clock.advance(5)
    _edit(tables / "lrm-alpha-victimes.csv", "V1,1,both", "V1,PLUSIEURS,forward")
    clock.advance(5)
    reloader.stop()
    assert len(calls) == 2 and reloader.current().forward("lrm-alpha-victimes", "V1").code == "PLUSIEURS"

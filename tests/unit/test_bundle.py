"""Schema bundles: install checks completeness and records the version; resolution order is explicit > env > default."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bridge.core.errors import BridgeError
from bridge.refdata.bundle import check_bundle, install_bundle, list_bundles, load_bundle, resolve_bundle


def test_install_copies_and_records_version(hub_reference: Path) -> None:
    """Installing the official corpus copies json-schema/ and xsd/ and records schema version + upstream commit."""
    info = install_bundle(hub_reference)
    commit = (hub_reference / "UPSTREAM_COMMIT").read_text().strip()
    assert info.commit == commit and info.version.endswith(commit[:12])
    assert (info.path / "xsd" / "RC-EDA.xsd").is_file() and (info.path / "json-schema" / "RC-EDA.schema.json").is_file()
    assert [(b.version, b.is_default) for b in list_bundles()] == [(info.version, True)]


def test_installed_default_is_used_when_nothing_else_is_given(hub_reference: Path, monkeypatch) -> None:
    """With no --schemas and no $HUB_SCHEMAS, the installed default bundle is resolved."""
    monkeypatch.delenv("HUB_SCHEMAS", raising=False)
    assert resolve_bundle() is None
    info = install_bundle(hub_reference)
    assert resolve_bundle().path == info.path


def test_explicit_beats_environment(hub_reference: Path, tmp_path: Path, monkeypatch) -> None:
    """--schemas wins over $HUB_SCHEMAS, which wins over the installed default."""
    monkeypatch.setenv("HUB_SCHEMAS", str(tmp_path / "nowhere"))
    assert resolve_bundle(hub_reference).path == hub_reference.resolve()
    with pytest.raises(BridgeError):
        resolve_bundle()


def test_incomplete_bundle_is_refused_naming_what_is_missing(hub_reference: Path, tmp_path: Path) -> None:
    """A bundle missing RC-EDA's XSD is refused, and the issue names the file."""
    partial = tmp_path / "partial"
    shutil.copytree(hub_reference / "json-schema", partial / "json-schema")
    shutil.copytree(hub_reference / "xsd", partial / "xsd")
    (partial / "xsd" / "RC-EDA.xsd").unlink()
    problems = check_bundle(partial)
    assert any(issue.path.endswith("RC-EDA.xsd") for issue in problems)
    with pytest.raises(BridgeError):
        install_bundle(partial)
    assert list_bundles() == []


def test_empty_directory_is_not_a_bundle(tmp_path: Path) -> None:
    """A directory without json-schema/ and xsd/ gets one issue per missing folder."""
    assert [issue.message for issue in check_bundle(tmp_path)] == ["folder missing", "folder missing"]


def test_bundle_knows_every_payload_type(hub_reference: Path) -> None:
    """All 19 example types plus the technical ones are mapped from root element to files."""
    bundle = load_bundle(hub_reference)
    assert {"createCase", "emsi", "reference", "error", "resourcesInfo", "geoPositionsUpdate"} <= set(bundle.payload_roots())
    assert bundle.spec("resourcesInfo").namespace == "urn:emergency:eda:1.9:resourcesinfo"


def _copy_bundle(hub_reference: Path, target: Path) -> Path:
    for folder in ("json-schema", "xsd"):
        shutil.copytree(hub_reference / folder, target / folder)
    return target


def test_same_path_unchanged_is_one_cached_bundle(hub_reference: Path) -> None:
    """Loading the same, unchanged path twice gives the same (compiled-once) bundle."""
    assert load_bundle(hub_reference) is load_bundle(str(hub_reference))
    assert resolve_bundle(hub_reference) is load_bundle(hub_reference)


def test_bundle_reinstalled_behind_the_same_path_is_picked_up(hub_reference: Path, tmp_path: Path) -> None:
    """A fresh directory renamed into place (as `schemas install` does, perhaps from another process)
    is loaded anew, although its resolved path is the same: the cache is keyed on what the path reaches."""
    live = _copy_bundle(hub_reference, tmp_path / "bundle")
    first = load_bundle(live)
    fresh = _copy_bundle(hub_reference, tmp_path / ".bundle.partial")
    shutil.rmtree(live)
    fresh.rename(live)
    second = load_bundle(live)
    assert second is not first
    assert second.path == live.resolve()
    assert load_bundle(live) is second


def test_repointed_symlink_gives_the_bundle_it_now_reaches(hub_reference: Path, tmp_path: Path) -> None:
    """$HUB_SCHEMAS (or --schemas) may be a symlink: re-pointing it switches bundles without a restart."""
    one = _copy_bundle(hub_reference, tmp_path / "one")
    two = _copy_bundle(hub_reference, tmp_path / "two")
    link = tmp_path / "current"
    link.symlink_to(one)
    assert load_bundle(link).path == one.resolve()
    link.unlink()
    link.symlink_to(two)
    assert load_bundle(link).path == two.resolve()
    assert resolve_bundle(link).path == two.resolve()

"""Two official bundles (model lines) side by side: each message is read, validated and written with its own.

The current corpus (``urn:emergency:eda:1.9``) and the previous line (``urn:emergency:cisu:2.0``)
are installed together; a message of each converts JSON <-> XML, validates against its own
bundle and comes back equal, and the XML written (payload and full EDXL-DE message) carries
the bundle's namespaces, never a hard-coded one.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from bridge.cli.main import cli
from bridge.core.edxl import wrap
from bridge.core.errors import BridgeError
from bridge.refdata import hub_codec
from bridge.refdata.bundle import (
    find_installed,
    install_bundle,
    list_bundles,
    resolve_bundle,
    version_of_vhost,
)

NOW = datetime(2024, 5, 18, 18, 15, 0, tzinfo=timezone(timedelta(hours=2)))
SAMU, NEXSIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"
EXAMPLES = (("RS-EDA", "RS-EDA_partageDossier_MonsieurX.01"),
            ("RC-EDA", None), ("EMSI", None), ("RS-EDA-MAJ", None), ("RS-RI", None))


@pytest.fixture()
def both(hub_reference: Path, hub_reference_v2: Path) -> dict[str, Path]:
    """Both bundles installed, the current one as default; returns the corpus folder per model version."""
    install_bundle(hub_reference_v2, make_default=False)
    install_bundle(hub_reference)
    return {"1.9": hub_reference, "2.0": hub_reference_v2}


def _decimal(data: bytes):
    return json.loads(data, parse_float=Decimal)


def _examples(corpus: Path) -> list[Path]:
    found = []
    for kind, name in EXAMPLES:
        files = sorted((corpus / "examples" / kind).glob(f"{name or '*'}.json"))
        found += files[:2]
    return found


def test_both_installed_bundles_are_listed_with_their_model_line(both) -> None:
    """`schemas install` keeps each version; the list names each one's namespace and model version."""
    listed = {info.model_version: info for info in list_bundles()}
    assert set(listed) == {"1.9", "2.0"}
    assert listed["2.0"].namespace == "urn:emergency:cisu:2.0" and not listed["2.0"].is_default
    assert listed["1.9"].namespace == "urn:emergency:eda:1.9" and listed["1.9"].is_default
    output = CliRunner().invoke(cli, ["schemas", "list"]).output
    assert "model 2.0  urn:emergency:cisu:2.0" in output and "model 1.9  urn:emergency:eda:1.9" in output


@pytest.mark.parametrize("version", ["1.9", "2.0"])
def test_each_version_round_trips_against_its_own_bundle(both, version: str) -> None:
    """JSON -> XML (namespace of its bundle, valid against its XSD) -> JSON gives the example back."""
    corpus = both[version]
    bundle = resolve_bundle(version=version)
    examples = _examples(corpus)
    assert len(examples) >= 5
    for path in examples:
        xml = hub_codec.translate(path.read_bytes(), "xml", version=version)
        element = etree.fromstring(xml)
        assert element.tag.startswith("{" + bundle.namespace + ":"), (path.name, element.tag)
        assert hub_codec.validate(xml) == [], path.name  # the XML names its own bundle
        assert hub_codec.validate(path.read_bytes(), version=version) == [], path.name
        assert _decimal(hub_codec.translate(xml, "json")) == _decimal(path.read_bytes()), path.name


@pytest.mark.parametrize("version", ["1.9", "2.0"])
def test_full_edxl_message_uses_the_bundle_header_namespace(both, version: str) -> None:
    """A full EDXL-DE message's RC-DE ``message`` element is in its bundle's namespace and valid against its XSD."""
    corpus = both[version]
    bundle = resolve_bundle(version=version)
    payload = _decimal((corpus / "examples" / "RC-EDA").glob("*.json").__next__().read_bytes())["createCase"]
    envelope = wrap("createCase", payload, sender_id=SAMU, recipient_id=NEXSIS, now=NOW,
                    message_uuid="2608323d-507d-4cbf-bf74-52007f8124ea")
    data = hub_codec.dump_json(envelope)
    xml = hub_codec.translate(data, "xml", version=version)
    element = etree.fromstring(xml)
    messages = [el for el in element.iter() if isinstance(el.tag, str) and el.tag.endswith("}message")]
    assert [el.tag for el in messages] == [f"{{{bundle.namespace}}}message"]
    assert bundle.xml_validator("edxlDistribution").issues(element) == []
    assert hub_codec.validate(xml) == []
    back = _decimal(hub_codec.translate(xml, "json"))
    assert back["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["createCase"] == payload


def test_previous_line_xml_against_current_bundle_is_refused_naming_the_namespace(both) -> None:
    """Forcing the wrong bundle on an XML message says which namespace was found and expected."""
    xml = (both["2.0"] / "examples" / "RS-EDA" / "RS-EDA_partageDossier_MonsieurX.01.xml").read_bytes()
    with pytest.raises(BridgeError) as caught:
        hub_codec.translate(xml, "json", version="1.9", validate=False)
    assert "urn:emergency:cisu:2.0:createCaseHealth" in caught.value.issues[0].message
    assert caught.value.issues[0].code == "wrong-namespace"


def test_version_names_and_vhosts(both) -> None:
    """A bundle is found by model version, release, v-prefixed version or full label; a vHost names its version."""
    assert find_installed("2.0").namespace == "urn:emergency:cisu:2.0"
    assert find_installed("v1.9").namespace == "urn:emergency:eda:1.9"
    assert find_installed("25.07.15").model_version == "2.0"
    assert find_installed("9.9") is None
    with pytest.raises(BridgeError):
        resolve_bundle(version="9.9")
    assert version_of_vhost("/15-nexsis_v1.9") == "1.9"
    assert version_of_vhost("/15-15_v2.0") == "2.0"
    assert version_of_vhost("/") is None


def test_cli_translate_with_schema_version(both, tmp_path: Path) -> None:
    """`bridge translate --schema-version 2.0` writes the previous line's namespace; `validate` reads it back."""
    source = both["2.0"] / "examples" / "RS-EDA" / "RS-EDA_partageDossier_MonsieurX.01.json"
    result = CliRunner().invoke(cli, ["translate", str(source), "--to", "xml", "--schema-version", "2.0"])
    assert result.exit_code == 0, result.output
    assert 'xmlns="urn:emergency:cisu:2.0:createCaseHealth"' in result.output
    out = tmp_path / "out.xml"
    out.write_text(result.output)
    assert CliRunner().invoke(cli, ["validate", str(out)]).exit_code == 0
    assert CliRunner().invoke(cli, ["validate", str(out), "--schema-version", "1.9"]).exit_code == 1


def test_link_version_comes_from_configuration_then_vhost(both) -> None:
    """`[schemas] version` decides; unset, the vHost's `_vX.Y` picks the installed bundle of that model line."""
    from bridge.runtime.config import BridgeConfig, check_files
    from bridge.runtime.runner import _schema_version

    on_v2 = BridgeConfig.model_validate({"hub": {"vhost": "/15-nexsis_v2.0"}})
    assert _schema_version(on_v2) == "2.0"
    assert resolve_bundle(version=_schema_version(on_v2)).namespace == "urn:emergency:cisu:2.0"
    assert _schema_version(BridgeConfig.model_validate({"hub": {"vhost": "/15-nexsis_v1.5"}})) is None  # not installed
    pinned = BridgeConfig.model_validate({"hub": {"vhost": "/15-nexsis_v2.0"}, "schemas": {"version": "1.9"}})
    assert _schema_version(pinned) == "1.9"
    missing = BridgeConfig.model_validate({"schemas": {"version": "7.7"}})
    assert any(issue.path == "schemas.version" for issue in check_files(missing))


def test_older_model_line_does_not_replace_a_newer_default(hub_reference: Path, hub_reference_v2: Path) -> None:
    """`schemas install` of the previous line (25.07.15) keeps the current default (26.07.29) unless --default."""
    runner = CliRunner()
    assert runner.invoke(cli, ["schemas", "install", str(hub_reference)]).exit_code == 0
    older = runner.invoke(cli, ["schemas", "install", str(hub_reference_v2)])
    assert older.exit_code == 0, older.output
    current = next(info for info in list_bundles() if info.model_version == "1.9")
    assert current.is_default
    assert f"default bundle: {current.version} (model 1.9), unchanged" in older.output
    assert "--default makes it the default" in older.output
    forced = runner.invoke(cli, ["schemas", "install", "--default", str(hub_reference_v2)])
    assert forced.exit_code == 0, forced.output
    assert {info.model_version for info in list_bundles() if info.is_default} == {"2.0"}
    assert "(model 2.0), this one" in forced.output
    newer = runner.invoke(cli, ["schemas", "install", str(hub_reference)])  # a newer release takes over again
    assert {info.model_version for info in list_bundles() if info.is_default} == {"1.9"}
    assert "(model 1.9), this one" in newer.output
    kept = runner.invoke(cli, ["schemas", "install", "--no-default", str(hub_reference_v2)])
    assert "unchanged (--no-default)" in kept.output and current.version in kept.output


def test_installed_bundles_are_read_again_only_when_the_installation_changes(
        hub_reference: Path, hub_reference_v2: Path, monkeypatch) -> None:
    """Resolving an XML message's bundle without --schemas lists the installed bundles per call: the list is
    kept while nothing changed, and read again after an install, a default switch or a removal."""
    import shutil

    from bridge.refdata import bundle as bundle_module

    reads: list[int] = []
    real = bundle_module._read_bundles

    def counted(root: Path) -> list:
        reads.append(1)
        return real(root)

    monkeypatch.setattr(bundle_module, "_read_bundles", counted)
    current = install_bundle(hub_reference)
    assert [info.version for info in list_bundles()] == [current.version]
    for _ in range(5):
        assert [info.version for info in list_bundles()] == [current.version]
    assert len(reads) == 1
    older = install_bundle(hub_reference_v2)
    assert {info.version for info in list_bundles()} == {current.version, older.version}
    assert [info.version for info in list_bundles() if info.is_default] == [current.version]
    install_bundle(hub_reference_v2, make_default=True)
    assert [info.version for info in list_bundles() if info.is_default] == [older.version]
    shutil.rmtree(older.path)
    assert [info.version for info in list_bundles()] == [current.version]
    assert len(reads) == 4

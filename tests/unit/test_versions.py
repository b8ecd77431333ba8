"""`--to-version`: health messages between the installed model versions, every loss a declared drop."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from bridge.cli.main import cli
from bridge.core.errors import Issue
from bridge.core.versions import convert, drop_invalid_leaves, field_paths
from bridge.refdata import hub_codec
from bridge.refdata.bundle import install_bundle, resolve_bundle
from bridge.refdata.versions import to_version
from tests.conftest import reference_dir, reference_v2_dir

KINDS = ("RS-EDA", "RS-EDA-MAJ", "RS-RI", "RS-SR")


def _examples(corpus: Path | None) -> list[Path]:
    if corpus is None:
        return []
    return sorted(p for kind in KINDS for p in (corpus / "examples" / kind).glob("*") if p.suffix in (".json", ".xml"))


DIRECTIONS = [("1.9", "2.0", reference_dir()), ("2.0", "1.9", reference_v2_dir())]


@pytest.fixture()
def both(hub_reference: Path, hub_reference_v2: Path) -> None:
    install_bundle(hub_reference_v2, make_default=False)
    install_bundle(hub_reference)


@pytest.mark.parametrize(("source", "target", "corpus"), DIRECTIONS, ids=["1.9-to-2.0", "2.0-to-1.9"])
def test_every_health_example_converts_to_the_other_version(both, source: str, target: str, corpus: Path) -> None:
    """Each official RS-EDA, RS-EDA-MAJ, RS-RI, RS-SR example of one version is valid in the other after conversion.

    One test per direction looping over the files: installing two bundles per test is the slow part.
    """
    paths = _examples(corpus)
    assert len(paths) >= 40
    namespace = resolve_bundle(version=target).namespace
    failures = []
    for path in paths:
        result = to_version(path.read_bytes(), target, source_version=source)
        if hub_codec.validate(result.data, version=target) != [] or result.target.info.model_version != target:
            failures.append(path.name)
        if path.suffix == ".xml" and not etree.fromstring(result.data).tag.startswith("{" + namespace + ":"):
            failures.append(f"{path.name}: namespace")
        if not all(issue.code == "dropped" and target in issue.message for issue in result.dropped):
            failures.append(f"{path.name}: drop report")
    assert failures == []


def test_a_field_the_target_lacks_is_a_declared_drop(both, hub_reference: Path, hub_reference_v2: Path) -> None:
    """RS-EDA `patient.healthMotive` exists in 2.0 only: converting to 1.9 drops it and says so."""
    v2, v3 = resolve_bundle(version="2.0"), resolve_bundle(version="1.9")
    assert "/patient/healthMotive/code" in field_paths(v2.json_schema("createCaseHealth"))
    assert "/patient/healthMotive/code" not in field_paths(v3.json_schema("createCaseHealth"))
    payload = {"caseId": "x", "patient": [{"patientId": "p", "healthMotive": {"code": "M01.00", "label": "l"}}]}
    kept, drops = convert(payload, field_paths(v2.json_schema("createCaseHealth")),
                          field_paths(v3.json_schema("createCaseHealth")), "1.9", "/createCaseHealth")
    assert kept == {"caseId": "x", "patient": [{"patientId": "p"}]}
    assert [d.path for d in drops] == ["/createCaseHealth/patient/0/healthMotive"]


def test_a_refused_value_drops_its_leaf_then_its_object_never_the_payload() -> None:
    """An enum value the target lacks is dropped; a required field of the payload itself cannot be."""
    payload = {"a": {"code": "M17", "label": "x"}, "b": "T1"}
    issues = [Issue("/p/a/code", "not in enum", "enum"), Issue("/p/b", "not in enum", "enum")]
    kept, drops, remaining = drop_invalid_leaves(payload, issues, "2.0", "/p")
    assert kept == {"a": {"label": "x"}} and [d.path for d in drops] == ["/p/a/code", "/p/b"] and remaining == []
    kept, drops, _ = drop_invalid_leaves(kept, [Issue("/p/a/code", "is missing", "required")], "2.0", "/p")
    assert kept == {} and drops[0].path == "/p/a"
    _, _, remaining = drop_invalid_leaves({}, [Issue("/p/caseId", "is missing", "required")], "2.0", "/p")
    assert [issue.path for issue in remaining] == ["/p/caseId"]


def test_cli_to_version(both, hub_reference: Path, tmp_path: Path) -> None:
    """`bridge translate F --to-version 2.0` writes a 2.0-valid message and lists the drops on stderr."""
    source = hub_reference / "examples" / "RS-EDA" / "RS-EDA-SMUR_DouleurThoracique_PierreLegrand.01.xml"
    result = CliRunner().invoke(cli, ["translate", str(source), "--to-version", "2.0"])
    assert result.exit_code == 0, result.output
    assert 'xmlns="urn:emergency:cisu:2.0:createCaseHealth"' in result.stdout
    assert "dropped: /createCaseHealth/interventionType" in result.stderr
    out = tmp_path / "v2.xml"
    out.write_text(result.stdout, encoding="utf-8")
    assert CliRunner().invoke(cli, ["validate", str(out)]).exit_code == 0
    wrong = CliRunner().invoke(cli, ["translate", str(source), "--to-version", "2.0", "--from", "rs-eda-xml"])
    assert wrong.exit_code == 2

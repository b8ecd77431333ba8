"""Health case sharing (RS-EDA, RS-EDA-MAJ) <-> canonical case <-> CISU (RC-EDA), both ways.

Every official RS-EDA and RS-EDA-MAJ example converts to the canonical case and back to the same
message, schema-valid; RS-EDA -> RC-EDA is valid against RC-EDA and carries none of the health-only
values (the confidentiality table withholds them, each a declared drop); RC-EDA -> RS-EDA is valid.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli.main import cli
from bridge.core.adapters.rs_eda import HEALTH_ONLY
from bridge.core.errors import BridgeError
from bridge.core.pipeline import translate
from bridge.refdata import hub_codec
from bridge.refdata.bundle import load_bundle
from bridge.refdata.profiles import build_context
from tests.health_corpus import NO_CORPUS, REF, corpus_ctx, example_id, examples, load_json

FIRE, HEALTH, OTHER_SAMU = "fr.fire.nexsis.sdis44", "fr.health.samu440", "fr.health.samu690"
ROOTS = {"RS-EDA": "createCaseHealth", "RS-EDA-MAJ": "createCaseHealthUpdate"}
TARGETS = {"RS-EDA": "rs-eda-json", "RS-EDA-MAJ": "rs-eda-maj-json"}


HEALTH_EXAMPLES = examples("RS-EDA", "RS-EDA-MAJ")


def _leaves(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, f"{path}/{index}")
    else:
        yield path, node


@NO_CORPUS
@pytest.mark.parametrize("path", HEALTH_EXAMPLES, ids=example_id)
def test_health_example_round_trips_through_canonical(path: Path) -> None:
    """RS-EDA(-MAJ) -> canonical -> the same kind gives the example back, valid against its schema."""
    kind = path.parent.name
    result = translate(path.read_bytes(), source="rs-eda-json", target=TARGETS[kind], ctx=corpus_ctx(HEALTH, OTHER_SAMU))
    produced = load_json(result.data)
    assert produced == load_json(path.read_bytes())
    root = ROOTS[kind]
    assert load_bundle(REF).json_validator(root).issues(produced[root], f"/{root}") == []
    assert result.dropped == []


@NO_CORPUS
@pytest.mark.parametrize("path", HEALTH_EXAMPLES, ids=example_id)
def test_health_xml_example_round_trips(path: Path) -> None:
    """The XML twin reads and writes through the codec: valid against the XSD and equal to the JSON example."""
    kind = path.parent.name
    xml_target = TARGETS[kind].replace("-json", "-xml")
    result = translate(path.with_suffix(".xml").read_bytes(), source="rs-eda-xml", target=xml_target,
                       ctx=corpus_ctx(HEALTH, OTHER_SAMU))
    assert hub_codec.validate(result.data, schemas=REF) == []
    assert load_json(hub_codec.translate(result.data, "json", schemas=REF)) == load_json(path.read_bytes())


@NO_CORPUS
@pytest.mark.parametrize("path", examples("RS-EDA", "RS-EDA-MAJ"), ids=example_id)
@pytest.mark.parametrize(("target", "root"), [("rc-eda-json", "createCase"), ("emsi-json", "emsi")])
def test_health_to_cisu_is_valid_and_withholds_health_content(path: Path, target: str, root: str) -> None:
    """RS-EDA(-MAJ) -> RC-EDA or EMSI for NexSIS: schema-valid, and no withheld health value appears in the output."""
    document = load_json(path.read_bytes())
    source = next(iter(document.values()))
    try:
        result = translate(path.read_bytes(), source="rs-eda-json", target=target, ctx=corpus_ctx(HEALTH, FIRE))
    except BridgeError as exc:  # an update without qualification cannot make a createCase: refused, nothing sent
        assert "createCaseHealthUpdate" in document and exc.issues[0].code == "missing-field"
        return
    produced = load_json(result.data)[root]
    assert load_bundle(REF).json_validator(root).issues(produced, f"/{root}") == []
    withheld = {str(value) for pointer, value in _leaves(source)
                if (pointer + "/").startswith(HEALTH_ONLY) or "/identity/" in pointer or pointer.startswith("/patient")}
    crossing = {str(value) for pointer, value in _leaves(source)
                if not ((pointer + "/").startswith(HEALTH_ONLY) or pointer.startswith("/patient"))}
    text = json.dumps(produced, ensure_ascii=False, default=str)
    # Our own organisation id travels anyway (callTaker, envelope sender); a value inside a crossing one
    # (the owner inside the caseId) is not a leak.
    leaked = [value for value in withheld - {HEALTH} if len(value) >= 3
              and re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text) and not any(value in other for other in crossing)]
    assert leaked == []
    assert any("medical confidentiality" in issue.message for issue in result.dropped) or not withheld


@NO_CORPUS
@pytest.mark.parametrize("path", examples("RC-EDA"), ids=example_id)
@pytest.mark.parametrize("target", ["rs-eda-json", "rs-eda-maj-json", "rs-eda-xml"])
def test_cisu_to_health_is_valid(path: Path, target: str) -> None:
    """RC-EDA -> RS-EDA (or its update form) for a SAMU: valid; required fields filled by documented rules, warned."""
    result = translate(path.read_bytes(), source="rc-eda-json", target=target, ctx=corpus_ctx(FIRE, HEALTH))
    assert hub_codec.validate(result.data, schemas=REF) == []
    if target == "rs-eda-json":
        produced = load_json(result.data)["createCaseHealth"]
        source = load_json(path.read_bytes())["createCase"]
        assert produced["caseId"] == source["caseId"] and produced["owner"] == HEALTH
        assert produced["qualification"]["whatsHappen"] == source["qualification"]["whatsHappen"]
        assert {issue.path for issue in result.warnings} >= {"owner"}


@NO_CORPUS
def test_cli_health_to_cisu_and_back(tmp_path: Path, monkeypatch) -> None:
    """`bridge translate --from rs-eda-json --to rc-eda-json` and the reverse exit 0 and list what was dropped."""
    monkeypatch.setenv("HUB_SCHEMAS", str(REF))
    source = REF / "examples" / "RS-EDA" / "RS-EDA-SMUR_FemmeEnceinte_DelphineVigneau.01.json"
    runner = CliRunner()
    forward = runner.invoke(cli, ["translate", str(source), "--from", "rs-eda-json", "--to", "rc-eda-json"])
    assert forward.exit_code == 0, forward.output
    assert "Vigneau" not in forward.stdout and "O20" not in forward.stdout
    assert "withheld from fire-side recipient" in forward.stderr
    cisu = tmp_path / "cisu.json"
    cisu.write_text(forward.stdout, encoding="utf-8")
    back = runner.invoke(cli, ["translate", str(cisu), "--from", "rc-eda-json", "--to", "rs-eda-json"])
    assert back.exit_code == 0, back.output
    assert load_json(back.stdout.encode())["createCaseHealth"]["qualification"]["whatsHappen"]["code"] == "C02.05.02"


@NO_CORPUS
@pytest.mark.parametrize("profile", ["lrm-alpha-text", "lrm-beta-xml"])
def test_legacy_frame_to_a_health_partner(profile: str) -> None:
    """A legacy LRM's frame becomes a valid RS-EDA for a health partner, victims included (no fire-side filter)."""
    from bridge.refdata.profiles import load_profile

    golden = Path(__file__).resolve().parents[1] / "golden" / profile
    frame = next(p for p in golden.glob("multi-victim.*") if p.suffix in (".txt", ".xml")).read_bytes()
    ctx = build_context(nomenclature_dir=REF / "nomenclatures", schemas=REF, sender_id=HEALTH,
                        recipient_id=OTHER_SAMU, profile=profile)
    result = translate(frame, source=load_profile(profile).adapter, target="rs-eda-json", ctx=ctx)
    produced = load_json(result.data)["createCaseHealth"]
    assert load_bundle(REF).json_validator("createCaseHealth").issues(produced, "/createCaseHealth") == []
    assert produced["patient"] and all(p["identity"]["strictFeatures"]["sex"] in {"M", "F", "O", "UN"}
                                       for p in produced["patient"] if "strictFeatures" in p.get("identity", {}))
    assert not any("withheld" in issue.message for issue in result.dropped)

"""Health resources info (RS-RI) and resource status (RS-SR) <-> canonical operations <-> CISU RC-RI.

Every official RS-RI and RS-SR example converts to the canonical case and back to the same
message, schema-valid, in JSON and in XML; RS-RI -> RC-RI is valid against RC-RI (vehicle
sub-types narrowed through the ``hubsante-vecteur-cisu`` table, each a visible alteration),
a resource RC-RI cannot carry is a declared drop, a status message alone is refused for
what RC-RI requires and it lacks; RC-RI -> RS-RI is valid; a resource's patientId never
reaches a fire-side recipient.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import simplejson
from click.testing import CliRunner

from bridge.cli.main import cli
from bridge.core.errors import BridgeError
from bridge.core.pipeline import translate
from bridge.refdata import hub_codec
from tests.health_corpus import NO_CORPUS, REF, corpus_ctx, example_id, examples, load_json

FIRE, HEALTH, OTHER_SAMU = "fr.fire.nexsis.sdis44", "fr.health.samu440", "fr.health.samu690"
ADAPTER = {"RS-RI": "rs-ri", "RS-SR": "rs-sr"}


@NO_CORPUS
@pytest.mark.parametrize("path", examples("RS-RI", "RS-SR"), ids=example_id)
def test_example_round_trips_json(path: Path) -> None:
    """RS-RI / RS-SR JSON -> canonical -> the same kind gives the example back, schema-valid, nothing dropped."""
    name = ADAPTER[path.parent.name]
    result = translate(path.read_bytes(), source=f"{name}-json", target=f"{name}-json", ctx=corpus_ctx(HEALTH, OTHER_SAMU))
    assert load_json(result.data) == load_json(path.read_bytes())
    assert hub_codec.validate(result.data, schemas=REF) == []
    assert result.dropped == []


@NO_CORPUS
@pytest.mark.parametrize("path", examples("RS-RI", "RS-SR"), ids=example_id)
def test_example_round_trips_xml(path: Path) -> None:
    """The XML twin reads and writes through the codec: XSD-valid and equal to the JSON example."""
    name = ADAPTER[path.parent.name]
    result = translate(path.with_suffix(".xml").read_bytes(), source=f"{name}-xml", target=f"{name}-xml",
                       ctx=corpus_ctx(HEALTH, OTHER_SAMU))
    assert hub_codec.validate(result.data, schemas=REF) == []
    assert load_json(hub_codec.translate(result.data, "json", schemas=REF)) == load_json(path.read_bytes())
    assert result.dropped == []


def _with_patient_ids(path: Path) -> tuple[bytes, list[str]]:
    """The example with a ``patientId`` on each resource (no official example carries one)."""
    document = load_json(path.read_bytes())
    values = []
    for index, resource in enumerate(document["resourcesInfo"]["resource"]):
        resource["patientId"] = f"{HEALTH}.patient.P{index}X9"
        values.append(resource["patientId"])
    return simplejson.dumps(document).encode(), values


@NO_CORPUS
@pytest.mark.parametrize("path", examples("RS-RI"), ids=example_id)
def test_rs_ri_to_rc_ri_is_valid_and_withholds_patient_ids(path: Path) -> None:
    """RS-RI -> RC-RI for NexSIS: valid, or refused naming what RC-RI requires; patient ids never in the output."""
    data, patient_ids = _with_patient_ids(path)
    source = load_json(data)["resourcesInfo"]["resource"]
    try:
        result = translate(data, source="rs-ri-json", target="rc-ri-json", ctx=corpus_ctx(HEALTH, FIRE))
    except BridgeError as exc:  # no resource with a status: RC-RI requires one, nothing invented
        assert all("state" not in resource for resource in source)
        assert exc.issues[0].code == "missing-field" and "status" in exc.issues[0].message
        return
    assert hub_codec.validate(result.data, schemas=REF) == []
    for value in patient_ids:
        assert value not in result.data.decode()
    withheld = [d for d in result.dropped if "patientId" in d.path]
    assert len(withheld) == len(patient_ids) and all("medical confidentiality" in d.message for d in withheld)
    produced = load_json(result.data)["resourcesInfoCisu"]["resource"]
    carried = [r for r in source if r.get("state")]
    assert [r["resourceId"] for r in produced] == [r["resourceId"] for r in carried]
    for out, original in zip(produced, carried, strict=True):
        # the latest status by time (the official examples list the newest first); earlier ones are declared drops
        latest = max(reversed(original["state"]), key=lambda s: datetime.fromisoformat(s["datetime"]))
        assert out["state"] == latest
        assert out["vehicleType"] == original["vehicleType"].split(".")[0]
        if out["vehicleType"] != original["vehicleType"]:
            assert any(w.code == "value-altered" and "vehicle type" in w.message for w in result.warnings)
    assert len([d for d in result.dropped if "/history/" in d.path]) == sum(len(r["state"]) - 1 for r in carried)


@NO_CORPUS
@pytest.mark.parametrize("path", examples("RS-SR"), ids=example_id)
def test_rs_sr_alone_to_rc_ri_is_refused_for_what_it_lacks(path: Path) -> None:
    """A status message alone lacks RC-RI's engagement time and vehicle type: refused, named, never made up."""
    with pytest.raises(BridgeError) as caught:
        translate(path.read_bytes(), source="rs-sr-json", target="rc-ri-json", ctx=corpus_ctx(HEALTH, FIRE))
    issue = caught.value.issues[0]
    assert issue.code == "missing-field"
    assert "engagement time" in issue.message and "vehicle type" in issue.message


@NO_CORPUS
@pytest.mark.parametrize("path", examples("RC-RI"), ids=example_id)
@pytest.mark.parametrize("target", ["rs-ri-json", "rs-ri-xml"])
def test_rc_ri_to_rs_ri_is_valid_with_declared_drops(path: Path, target: str) -> None:
    """RC-RI -> RS-RI for a SAMU: valid; position and operation id (no RS-RI field) are declared drops."""
    result = translate(path.read_bytes(), source="rc-ri-json", target=target, ctx=corpus_ctx(FIRE, HEALTH))
    assert hub_codec.validate(result.data, schemas=REF) == []
    source = load_json(path.read_bytes())["resourcesInfoCisu"]["resource"]
    expected = {f"operations.resources/{i}.operation_id" for i, r in enumerate(source) if "operationId" in r}
    expected |= {f"operations.resources/{i}.fix.time" for i, r in enumerate(source) if "position" in r}
    assert expected <= {d.path for d in result.dropped}


@NO_CORPUS
def test_vehicle_type_without_rc_ri_value_is_a_declared_drop() -> None:
    """A TSU ambulance has no RC-RI vehicle type: that resource is left out and listed; the others go."""
    path = REF / "examples" / "RS-RI" / "RS-RI_partageDossier_DidierMorel.01b.json"
    document = load_json(path.read_bytes())
    resources = document["resourcesInfo"]["resource"]
    resources[0]["vehicleType"] = "TSU.AMB"
    result = translate(simplejson.dumps(document).encode(), source="rs-ri-json", target="rc-ri-json",
                       ctx=corpus_ctx(HEALTH, FIRE))
    assert hub_codec.validate(result.data, schemas=REF) == []
    produced = load_json(result.data)["resourcesInfoCisu"]["resource"]
    assert resources[0]["resourceId"] not in [r["resourceId"] for r in produced]
    drop = next(d for d in result.dropped if d.path == "operations.resources/0")
    assert "TSU.AMB" in drop.message and "hubsante-vecteur-cisu" in drop.message


@NO_CORPUS
def test_rs_sr_from_several_statuses_is_refused() -> None:
    """RS-SR carries one resource's status: a case with several is refused rather than one picked at random."""
    path = REF / "examples" / "RS-RI" / "RS-RI_partageDossier_DidierMorel.01b.json"
    with pytest.raises(BridgeError) as caught:
        translate(path.read_bytes(), source="rs-ri-json", target="rs-sr-json", ctx=corpus_ctx(HEALTH, OTHER_SAMU))
    assert "exactly one resource" in caught.value.message


@NO_CORPUS
def test_wrong_kind_is_refused() -> None:
    """An RS-SR file read as RS-RI is refused with the generic adapter's wrong-kind code."""
    path = next(iter(examples("RS-SR")))
    with pytest.raises(BridgeError) as caught:
        translate(path.read_bytes(), source="rs-ri-json", target="rs-ri-json", ctx=corpus_ctx(HEALTH, OTHER_SAMU))
    assert caught.value.issues[0].code == "wrong-kind"


@NO_CORPUS
def test_cli_rs_ri_to_rc_ri_and_back(tmp_path: Path, monkeypatch) -> None:
    """`bridge translate --from rs-ri-json --to rc-ri-json` and the reverse exit 0 and list what was dropped."""
    monkeypatch.setenv("HUB_SCHEMAS", str(REF))
    source = REF / "examples" / "RS-RI" / "RS-RI_partageRessources_DidierMorel.04c.json"
    runner = CliRunner()
    forward = runner.invoke(cli, ["translate", str(source), "--from", "rs-ri-json", "--to", "rc-ri-json"])
    assert forward.exit_code == 0, forward.output
    assert json.loads(forward.stdout)["resourcesInfoCisu"]["resource"][0]["vehicleType"] == "SMUR"
    assert "history" in forward.stderr
    cisu = tmp_path / "cisu.json"
    cisu.write_text(forward.stdout, encoding="utf-8")
    back = runner.invoke(cli, ["translate", str(cisu), "--from", "rc-ri-json", "--to", "rs-ri-json"])
    assert back.exit_code == 0, back.output
    assert json.loads(back.stdout)["resourcesInfo"]["resource"][0]["state"][0]["status"] == "DECLENCHE"

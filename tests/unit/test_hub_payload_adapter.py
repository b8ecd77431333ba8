"""The generic Hub payload adapter: strict input, EDXL-DE unwrapping, derived dropped-field reports."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli.main import cli
from bridge.core.adapters.consumed import Tracked, unread
from bridge.core.adapters.emsi import EMSI, EmsiJsonAdapter
from bridge.core.adapters.hub_payload import HubPayloadAdapter, adapter_class
from bridge.core.adapters.rc_eda import RC_EDA, RcEdaJsonAdapter, RcEdaXmlAdapter
from bridge.core.adapters.rc_ri import RC_RI, RcRiJsonAdapter, RcRiXmlAdapter
from bridge.core.canonical import Caller, Case, Coded, Location, Note, Qualification
from bridge.core.edxl import wrap

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def _run(path: Path, source: str, target: str, *extra: str):
    return CliRunner().invoke(cli, ["translate", str(path), "--from", source, "--to", target, *extra])


def test_the_four_hub_adapters_are_one_generic_class():
    """rc-eda-json/xml and emsi-json/xml are the generic adapter with a kind and a syntax, names kept."""
    for cls, name in ((RcEdaJsonAdapter, "rc-eda-json"), (RcEdaXmlAdapter, "rc-eda-xml"),
                      (EmsiJsonAdapter, "emsi-json"), (RcRiJsonAdapter, "rc-ri-json"), (RcRiXmlAdapter, "rc-ri-xml")):
        assert issubclass(cls, HubPayloadAdapter) and cls.name == name
    assert RcRiXmlAdapter.kind is RC_RI and RcRiXmlAdapter.syntax == "xml"
    assert RcEdaJsonAdapter.__name__ == "RcEdaJsonAdapter"
    other = adapter_class("emsi-copy-json", EMSI, "json")
    assert other.kind is EMSI and other.name == "emsi-copy-json"


@pytest.mark.parametrize("source", ["rc-eda-json", "emsi-json", "rc-ri-json"])
@pytest.mark.parametrize("document", [{"foo": 1}, {}, {"reference": {"distributionID": "x"}}, [1, 2]])
def test_wrong_kind_json_is_refused_with_exit_2(tmp_path, source, document):
    """Any JSON that is not the adapter's message kind is refused, naming what was expected and found."""
    path = tmp_path / "in.json"
    path.write_text(json.dumps(document))
    result = _run(path, source, "legacy-text", "--profile", "lrm-alpha-text")
    assert result.exit_code == 2, result.output
    assert "expected" in result.stderr and "found" in result.stderr


@pytest.mark.parametrize(("source", "example"), [("rc-eda-json", "EMSI/EMSI-RDC-message.json"),
                                                 ("emsi-json", "RC-EDA/RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json"),
                                                 ("rc-eda-xml", "EMSI/EMSI-RDC-message.xml"),
                                                 ("emsi-xml", "RC-EDA/RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.xml"),
                                                 ("emsi-json", "RS-EDA/RS-EDA-SMUR_FemmeEnceinte_DelphineVigneau.json"),
                                                 ("rc-ri-json", "RC-EDA/RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json"),
                                                 ("rc-ri-xml", "EMSI/EMSI-RDC-message.xml")])
def test_another_hub_message_is_refused_by_each_hub_adapter(hub_reference, source, example):
    """An EMSI given to rc-eda-*, an RC-EDA or RS-EDA given to emsi-*: exit 2, never an invented message."""
    path = hub_reference / "examples" / example
    if not path.exists():
        path = next((hub_reference / "examples" / example.split("/")[0]).glob("*" + Path(example).suffix))
    result = _run(path, source, "emsi-json" if source.startswith("rc") else "rc-eda-json",
                  "--schemas", str(hub_reference))
    assert result.exit_code == 2, result.output
    assert "expected" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(("profile", "adapter"), [("lrm-alpha-text", "legacy-text"), ("lrm-beta-text", "legacy-text"),
                                                  ("lrm-alpha-xml", "legacy-xml"), ("lrm-beta-xml", "legacy-xml")])
def test_legacy_adapters_refuse_a_hub_message_with_exit_2(hub_reference, profile, adapter):
    """A Hub message given to a legacy adapter is the wrong kind: exit 2, naming what was expected."""
    suffix = "xml" if adapter == "legacy-xml" else "json"
    result = _run(hub_reference / "examples" / "EMSI" / f"EMSI-RDC-message.{suffix}", adapter, "rc-eda-json",
                  "--profile", profile)
    assert result.exit_code == 2, result.output
    assert "expected" in result.stderr


def _edxl(payload_name: str, payload: dict) -> dict:
    return wrap(payload_name, payload, sender_id="fr.health.samu440", recipient_id="fr.fire.nexsis.sdis44",
                now=datetime(2024, 1, 1, tzinfo=UTC), message_uuid=uuid.UUID(int=1))


def test_full_edxl_message_translates_by_its_payload(hub_reference, tmp_path):
    """A full EDXL-DE message (what a user copies from the Hub) translates as its payload would."""
    example = hub_reference / "examples" / "RC-EDA" / "RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json"
    payload = json.loads(example.read_text())["createCase"]
    path = tmp_path / "full.json"
    path.write_text(json.dumps(_edxl("createCase", payload), default=str))
    bare = _run(example, "rc-eda-json", "legacy-text", "--profile", "lrm-alpha-text")
    full = _run(path, "rc-eda-json", "legacy-text", "--profile", "lrm-alpha-text")
    assert bare.exit_code == 0 and full.exit_code == 0, full.output
    assert full.stdout == bare.stdout
    assert "NATURE=" in full.stdout
    assert "envelope" in full.stderr and "fr.health.samu440" in full.stderr


def test_full_edxl_message_of_another_kind_is_refused(hub_reference, tmp_path):
    """An EDXL-DE message carrying a createCase, given to emsi-json: exit 2, naming the payload found."""
    payload = json.loads((hub_reference / "examples" / "RC-EDA" /
                          "RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json").read_text())["createCase"]
    path = tmp_path / "full.json"
    path.write_text(json.dumps(_edxl("createCase", payload), default=str))
    result = _run(path, "emsi-json", "rc-eda-json")
    assert result.exit_code == 2
    assert "'createCase'" in result.stderr


def test_missing_required_field_is_refused_not_filled(hub_reference, tmp_path):
    """A createCase without 'creation' is refused; it is never filled from another field or from now."""
    payload = json.loads((hub_reference / "examples" / "RC-EDA" /
                          "RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json").read_text())
    del payload["createCase"]["creation"]
    path = tmp_path / "in.json"
    path.write_text(json.dumps(payload))
    result = _run(path, "rc-eda-json", "emsi-json")
    assert result.exit_code != 0
    assert "/createCase/creation" in result.stderr


def test_wrong_shape_field_is_a_named_refusal_not_a_traceback(tmp_path):
    """qualification as a string: a refusal naming the payload, never "'str' object has no attribute"."""
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"createCase": {"caseId": "fr.health.samu440.X", "creation": "2024-01-01T00:00:00+00:00",
                                               "referenceVersion": "1.3", "qualification": "oops",
                                               "location": {"locID": "1"}}}))
    result = _run(path, "rc-eda-json", "emsi-json")
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output and "createCase" in result.stderr


def test_schema_is_checked_when_a_bundle_is_installed(hub_reference, tmp_path):
    """With the official schemas, an unknown property in a createCase is refused by the JSON adapter."""
    payload = json.loads((hub_reference / "examples" / "RC-EDA" /
                          "RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json").read_text())
    payload["createCase"]["qualification"]["notAField"] = "x"
    path = tmp_path / "in.json"
    path.write_text(json.dumps(payload))
    result = _run(path, "rc-eda-json", "emsi-json", "--schemas", str(hub_reference))
    assert result.exit_code == 1, result.output
    assert "notAField" in result.stderr


def test_encoder_drops_are_derived_from_what_it_read():
    """A held canonical field the encoder never reads is reported; one it reads is not (nothing hand-listed)."""
    case = Case(case_id="fr.health.samu440.1", created=datetime(2024, 1, 1, tzinfo=UTC),
                qualification=Qualification(whats_happen=Coded(code="C04.00.00"), main_victim="ADULTE"),
                location=Location(city="Nantes", insee="44109"), caller=Caller(name="Dupont", phone="0601"),
                notes=(Note(text="obs", created=datetime(2024, 1, 1, tzinfo=UTC)),))
    tracked = Tracked(case)
    assert tracked.qualification.whats_happen.code == "C04.00.00"
    assert tracked.location.city == "Nantes"
    paths = {i.path for i in unread(case, tracked.used, "why")}
    assert "qualification.main_victim" in paths and "location.insee" in paths and "caller.name" in paths
    assert "qualification.whats_happen.code" not in paths and "location.city" not in paths
    assert "notes/0" in paths  # a wholly unread list item is reported once
    assert "location.country" not in paths  # a model default is not something the input held
    payload, _warnings = RC_EDA.encode(Tracked(case), _ctx())
    assert payload["caseId"] == "fr.health.samu440.1"


def _ctx():
    from bridge.core.adapters.base import AdapterContext

    return AdapterContext(now=datetime(2024, 1, 1, tzinfo=UTC), new_id=lambda: "id-1")


def test_full_edxl_xml_message_translates_by_its_payload(hub_reference, tmp_path):
    """The XML form of a full EDXL-DE message, given to rc-eda-xml, translates as its payload."""
    from decimal import Decimal

    import simplejson

    from bridge.refdata.hub_codec import dump_json, translate

    example = hub_reference / "examples" / "RC-EDA" / "RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json"
    payload = simplejson.loads(example.read_bytes(), parse_float=Decimal)["createCase"]
    xml = translate(dump_json(_edxl("createCase", payload)), "xml", schemas=hub_reference)
    path = tmp_path / "full.xml"
    path.write_bytes(xml)
    full = _run(path, "rc-eda-xml", "legacy-text", "--profile", "lrm-alpha-text", "--schemas", str(hub_reference))
    bare = _run(example, "rc-eda-json", "legacy-text", "--profile", "lrm-alpha-text")
    assert full.exit_code == 0, full.output
    assert full.stdout == bare.stdout
    wrong = _run(path, "emsi-xml", "rc-eda-json", "--schemas", str(hub_reference))
    assert wrong.exit_code == 2 and "'createCase'" in wrong.stderr

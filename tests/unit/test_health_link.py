"""A health-speaking LRM on the legacy link: RS-EDA in, RC-EDA to NexSIS; RC-EDA from NexSIS, RS-EDA out."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import simplejson

from bridge.app.translator import PipelineTranslator
from bridge.core.adapters.profile import parse_profile
from bridge.core.edxl import unwrap, wrap
from bridge.core.errors import BridgeError
from bridge.refdata.bundle import load_bundle
from bridge.refdata.profiles import build_context, load_profile

NOW = datetime(2024, 5, 26, 13, 30, tzinfo=timezone(timedelta(hours=2)))
SAMU, NEXSIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"


@pytest.fixture()
def translator(hub_reference: Path) -> PipelineTranslator:
    profile = load_profile("lrm-health-json")
    ctx = build_context(nomenclature_dir=hub_reference / "nomenclatures", schemas=hub_reference, sender_id=SAMU,
                        recipient_id=NEXSIS, profile="lrm-health-json")
    bundle = load_bundle(hub_reference)
    return PipelineTranslator(profile, ctx, clock=lambda: NOW,
                              validator=lambda name, payload: bundle.json_validator(name).issues(payload, f"/{name}"))


def test_health_frame_goes_to_nexsis_as_valid_rc_eda_without_patient_identity(translator, hub_reference: Path) -> None:
    """An RS-EDA frame from the LRM becomes a schema-valid createCase with the health content withheld."""
    frame = (hub_reference / "examples" / "RS-EDA" / "RS-EDA-SMUR_FemmeEnceinte_DelphineVigneau.01.json").read_bytes()
    items = translator.to_hub(frame)
    assert [item.name for item in items] == ["createCase"]
    text = json.dumps(items[0].payload, ensure_ascii=False, default=str)
    assert "Vigneau" not in text and "O20" not in text and "1992-03-03" not in text
    assert items[0].payload["qualification"]["whatsHappen"]["code"] == "C02.05.02"
    assert translator.ack_for(frame, "DRFR154402414300123") == b"ACK;DRFR154402414300123"


def test_nexsis_case_reaches_the_lrm_as_rs_eda(translator, hub_reference: Path) -> None:
    """A createCase from NexSIS is given to the health LRM as a valid createCaseHealth."""
    payload = simplejson.loads((hub_reference / "examples" / "RC-EDA" / "RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json")
                               .read_bytes(), parse_float=Decimal)["createCase"]
    message = unwrap(wrap("createCase", payload, sender_id=NEXSIS, recipient_id=SAMU, now=NOW,
                          message_uuid="2608323d-507d-4cbf-bf74-52007f8124ea"))
    data = translator.to_legacy(message)
    produced = simplejson.loads(data, parse_float=Decimal)["createCaseHealth"]
    assert load_bundle(hub_reference).json_validator("createCaseHealth").issues(produced) == []
    assert produced["caseId"] == payload["caseId"] and produced["owner"] == SAMU


def test_a_health_profile_maps_nothing_itself() -> None:
    """Fields, text or xml sections in an rs-eda profile are refused: the adapter maps the whole message."""
    with pytest.raises(BridgeError):
        parse_profile('name = "x"\nadapter = "rs-eda-json"\n[[fields]]\nkey = "A"\ntarget = "case.sender_case_id"\n')

"""The translate and wrap steps do each piece of work once (issue 18, fifth pass). Counted, not timed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.core import pipeline
from bridge.core.pipeline import HubPayload
from bridge.runtime.demo import demo_frame
from bridge.testing.rig import Rig


@pytest.fixture()
def rig(tmp_path: Path):
    made = Rig(tmp_path)
    yield made
    made.close()


def test_each_hub_payload_is_built_once(rig, monkeypatch):
    """``to_hub`` hands out the payloads the pipeline built, with the frame's case and lookups filled in: one
    ``HubPayload`` per payload (it was built a second time by the translator to add those two fields)."""
    built: list[str] = []
    real = HubPayload.__init__

    def counting(self, name, *args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(name)
        real(self, name, *args, **kwargs)

    monkeypatch.setattr(HubPayload, "__init__", counting)
    items = rig.service.translator.to_hub(demo_frame(7))  # asks for assistance: createCase + EMSI
    assert [item.name for item in items] == ["createCase", "emsi"]
    assert built == ["createCase", "emsi"]


def test_every_payload_of_a_frame_names_its_case_and_carries_its_lookups(rig):
    """The fields the translator fills in are what they were: the createCase's caseId on every payload of the
    frame, and the frame's lookups, as the recorder wrote them, in order."""
    translator = rig.service.translator
    items = translator.to_hub(demo_frame(8))
    case_id = items[0].payload["caseId"]
    assert case_id == "fr.health.samu440.DEMO-000008"
    assert [item.case_id for item in items] == [case_id, case_id]
    assert items[0].mapped == items[1].mapped
    assert [(e["table"], e["code"]) for e in items[0].mapped][:2] == [("lrm-alpha-nature", "CHUT"),
                                                                       ("lrm-alpha-lieu", "DOM")]
    assert all(set(e) == {"table", "direction", "code", "to", "source", "warning"} for e in items[0].mapped)
    again = translator.to_hub(demo_frame(8))
    assert again[0].mapped == items[0].mapped and again[0].mapped is not items[0].mapped  # one list per frame


def test_a_frame_with_no_payload_gives_an_empty_list():
    assert pipeline.with_frame_facts([], []) == []

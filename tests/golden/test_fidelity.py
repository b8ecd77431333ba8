"""The fidelity measurement (benchmarks/fidelity.py): its classifier is strict, and the bridge scores 0 / 0."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from bridge.core.errors import Issue

ROOT = Path(__file__).resolve().parents[2]


def _module():
    spec = importlib.util.spec_from_file_location("fidelity", ROOT / "benchmarks" / "fidelity.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["fidelity"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_classifier_counts_a_silent_change_and_an_invention():
    """A value that changes with nothing said, and an output leaf with no source, are counted as such."""
    fidelity = _module()
    tally = fidelity.Tally()
    source = {"/createCase/senderCaseId": "A1", "/createCase/location/city/name": "Nantes",
              "/createCase/location/city/inseeCode": "44109", "/createCase/qualification/victims/count": "1"}
    output = {"/createCase/senderCaseId": "A1", "/createCase/location/city/name": "Rezé",
              "/createCase/location/freetext": "made up", "/createCase/qualification/victims/count": "2"}
    dropped = [Issue("location.insee", "no field", "dropped")]
    warnings = [Issue("qualification.victims_count", "table fallback", "value-altered")]
    fidelity.classify(source, output, dropped, warnings, tally, "t")
    assert tally.counts == {"preserved": 1, "silently_changed": 1, "declared_dropped": 1,
                            "altered_with_warning": 1, "invented": 1}


def test_rs_ri_statuses_are_matched_by_time_and_a_changed_one_is_still_seen():
    """RS-RI lists statuses in no set order: a reordering is not a change, another status at a time is."""
    fidelity = _module()
    source = {"resource": [{"state": [{"datetime": "T2", "status": "DECLENCHE"}, {"datetime": "T1", "status": "DECISION"}]}]}
    same = {"resource": [{"state": [{"datetime": "T1", "status": "DECISION"}, {"datetime": "T2", "status": "DECLENCHE"}]}]}
    other = {"resource": [{"state": [{"datetime": "T1", "status": "DECISION"}, {"datetime": "T2", "status": "DEPART"}]}]}
    for output, expected in ((same, {"preserved": 4}), (other, {"preserved": 3, "silently_changed": 1})):
        tally = fidelity.Tally()
        fidelity.classify(fidelity.leaves(fidelity.by_time(source), "/resourcesInfo"),
                          fidelity.leaves(fidelity.by_time(output), "/resourcesInfo"), [], [], tally, "t")
        assert tally.counts == expected


def test_health_extras_and_patients_name_their_rs_eda_leaves():
    """A withheld RS-EDA leaf (kept as an extra keyed by its pointer, or a patient field) covers that leaf only."""
    fidelity = _module()
    tally = fidelity.Tally()
    source = {"/createCaseHealth/location/name": "Atlantis", "/createCaseHealth/patient/0/detail/age": "P32Y",
              "/createCaseHealth/location/access/floor": "RDC"}
    dropped = [Issue("extras.rs-eda./location/name", "withheld", "dropped"), Issue("patients[0].age", "withheld",
                                                                                  "dropped")]
    fidelity.classify(source, {}, dropped, [], tally, "t")
    assert tally.counts == {"declared_dropped": 2, "silently_changed": 1}


def test_classifier_does_not_excuse_a_change_by_a_drop_report():
    """A value still present but different is not 'declared dropped' unless a documented rule wrote it."""
    fidelity = _module()
    tally = fidelity.Tally()
    fidelity.classify({"/createCase/location/city/name": "Nantes"}, {"/createCase/location/city/name": "Rezé"},
                      [Issue("location.city", "no field", "dropped")], [], tally, "t")
    assert tally.counts == {"silently_changed": 1}


def test_missions_are_matched_by_id_and_a_resource_drop_covers_that_resource_only():
    """Reordered missions are not a change; a changed mission field still is; a drop of resource 0 does not
    excuse resource 1 (RC-RI or EMSI)."""
    fidelity = _module()
    first = {"ID": "M1", "NAME": "#MISSION#", "TYPE": "SAV/ASC"}
    second = {"ID": "M2", "NAME": "#MISSION#", "TYPE": "GEN/TRNSPN"}
    tally = fidelity.Tally()
    fidelity.classify(fidelity.leaves(fidelity.by_role({"MISSION": [first, second]}), "/emsi"),
                      fidelity.leaves(fidelity.by_role({"MISSION": [second, {**first, "TYPE": "FF"}]}), "/emsi"),
                      [], [], tally, "t")
    assert tally.counts == {"preserved": 5, "silently_changed": 1}
    tally = fidelity.Tally()
    fidelity.classify({"/resourcesInfoCisu/resource/0/name": "VSAV", "/resourcesInfoCisu/resource/1/name": "FPT"}, {},
                      [Issue("operations.resources/0", "not carried", "dropped")], [], tally, "t")
    assert tally.counts == {"declared_dropped": 1, "silently_changed": 1}


def test_benchmark_reports_nothing_silently_changed_or_invented(hub_reference):
    """Acceptance: every official example and golden message, every profile, both ways: 0 and 0."""
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fidelity.py"), "--json"], capture_output=True,
                         text=True, timeout=600, cwd=ROOT, env={"HUB_REFERENCE": str(hub_reference),
                                                              "PATH": "/usr/bin:/bin", "HOME": str(ROOT)})
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert {k: result[k] for k in ("silently_changed", "invented")} == {"silently_changed": 0, "invented": 0}
    assert result["preserved"] > 0 and result["declared_dropped"] > 0 and result["altered_with_warning"] > 0
    assert set(result) >= {"preserved", "declared_dropped", "altered_with_warning", "silently_changed", "invented"}
    operations = result["operations_by_profile"]  # EMSI MISSION/RESOURCE and every RC-RI leaf, via the LRM sheet
    for carrying in ("lrm-alpha-text", "lrm-alpha-xml", "lrm-beta-xml"):
        assert operations[carrying]["preserved"] > 10 * operations[carrying]["declared_dropped"], carrying
    assert operations["lrm-beta-text"]["declared_dropped"] > 10 * operations["lrm-beta-text"]["preserved"]
    # the health model (issue 16): a health LRM's RS-EDA, the RS <-> RC pairs, RS-SR merged onto the known resources
    health = result["health_by_pair"]
    assert set(health) == {"RS-EDA -> RC-EDA -> RS-EDA", "RC-EDA -> RS-EDA -> RC-EDA", "RS-RI -> RC-RI -> RS-RI",
                           "RC-RI -> RS-RI -> RC-RI", "RS-SR -> RC-RI (merge)", "RS-EDA-MAJ -> RC-EDA (merge) -> RS-EDA"}
    for pair, counts in health.items():
        assert counts["preserved"] > 0 and counts["silently_changed"] == counts["invented"] == 0, pair
    # most statuses merge onto a known resource; the ones whose case has no RS-RI RC-RI can carry are refused
    merge = health["RS-SR -> RC-RI (merge)"]
    assert merge["preserved"] > 10 * merge["declared_dropped"] and 0 < merge["refused"] < 4
    # every RS-EDA goes; RS-EDA-MAJ merged onto its case as last sent: only those whose case has no RS-EDA refused
    assert health["RS-EDA -> RC-EDA -> RS-EDA"]["refused"] == 0
    assert health["RS-EDA-MAJ -> RC-EDA (merge) -> RS-EDA"]["refused"] == 2

"""Codec specs derived from the models match the ones the codec derives from the official XSDs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.core.models.spec_from_models import message_specs
from tests.conftest import PROJECT_ROOT

XSD_OF = {"createCase": "RC-EDA", "emsi": "EMSI", "reference": "RC-REF", "error": "RS-ERROR",
          "distributionElement": "RC-DE", "resourcesInfoCisu": "RC-RI"}

# Run in a child process: xmlschema cannot build schemas once zope.interface has declared interfaces
# on collections.abc classes, which importing twisted.internet.testing (other test modules) does.
_COMPARE = """
import json, sys, xmlschema
from bridge.core.codec.from_xsd import message_spec
from bridge.core.models.spec_from_models import message_specs
specs, verdicts = message_specs(), {}
for root, xsd in json.loads(sys.argv[1]).items():
    expected, actual = message_spec(xmlschema.XMLSchema(xsd), root), specs[root]
    same = actual.root == expected.root and actual.namespace == expected.namespace
    verdicts[root] = "same" if same else f"models: {actual!r} / xsd: {expected!r}"
print(json.dumps(verdicts))
"""


@pytest.fixture(scope="module")
def xsd_verdicts(hub_reference: Path) -> dict[str, str]:
    """Per root, ``same`` or the two differing specs, computed once in a child process."""
    xsd_paths = {root: str(hub_reference / "xsd" / f"{stem}.xsd") for root, stem in XSD_OF.items()}
    result = subprocess.run([sys.executable, "-c", _COMPARE, json.dumps(xsd_paths)], capture_output=True, text=True,
                            timeout=120, cwd=PROJECT_ROOT, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_specs_cover_payloads_and_header() -> None:
    """Specs exist for the four payloads and the RC-DE header, with the right kinds and repetition."""
    specs = message_specs()
    assert set(specs) == set(XSD_OF)
    coord = specs["createCase"].root.child("location").child("geometry").child("point").child("coord")
    assert [(child.name, child.kind) for child in coord.children][:2] == [("lat", "decimal"), ("lon", "decimal")]
    assert specs["distributionElement"].root.child("recipient").repeated
    assert specs["error"].root.child("sourceMessage").kind == "any"
    assert specs["reference"].root.child("refused").kind == "boolean"
    assert specs["emsi"].root.child("EVENT").child("CERTAINTY").kind == "integer"
    assert specs["distributionElement"].namespace == "urn:emergency:eda:1.9"


@pytest.mark.parametrize("root", sorted(XSD_OF))
def test_model_specs_equal_xsd_specs(root: str, xsd_verdicts: dict[str, str]) -> None:
    """The fallback specs are identical (order, kinds, repetition, namespace) to the XSD-derived ones."""
    assert xsd_verdicts[root] == "same"

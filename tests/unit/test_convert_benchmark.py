"""benchmarks/convert.py measures the path ``bridge translate --from rs-eda-json --to rc-eda-json`` runs.

No timing is asserted (performance lives in the benchmark); this checks the benchmark still runs
both directions through ``translate`` with validation, and that its step-by-step path (``--parts``)
gives the same bytes as ``translate`` (the script refuses to report parts otherwise).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.conftest import reference_dir

REF = reference_dir()
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "convert.py"


@pytest.mark.skipif(REF is None, reason="official Hub Santé corpus not found (set $HUB_REFERENCE)")
def test_the_benchmark_runs_both_directions_and_its_parts_are_translates_path() -> None:
    assert REF is not None
    spec = importlib.util.spec_from_file_location("convert_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["convert_benchmark"] = module
    try:
        spec.loader.exec_module(module)
        results = module.run(REF, 0.02, rounds=1, parts=True)
    finally:
        sys.modules.pop("convert_benchmark", None)
    assert set(results) == {"rs-eda->rc-eda", "rc-eda->rs-eda"}
    for figures in results.values():
        assert figures["messages"] > 0 and figures["rate_per_core"] > 0
        assert list(figures["parts_us"]) == list(module.PARTS)
        assert figures["floor_us"] > 0

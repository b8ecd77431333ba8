"""benchmarks/e2e.py --profile-clock: the child runs under cProfile with the chosen clock and leaves a readable profile."""

from __future__ import annotations

import importlib.util
import pstats
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _e2e_module():
    spec = importlib.util.spec_from_file_location("e2e_benchmark", ROOT / "benchmarks" / "e2e.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("clock", ["cpu", "wall"])
def test_profiled_child_writes_its_profile_on_exit(tmp_path, clock):
    """The snippet runs ``bridge ARGS`` (here ``--version``, which exits) and dumps the stats even on SystemExit."""
    e2e = _e2e_module()
    out = tmp_path / f"{clock}.prof"
    result = subprocess.run([sys.executable, "-c", e2e._PROFILED, str(out), clock, "--version"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "version" in result.stdout
    stats = pstats.Stats(str(out))
    assert any(name == "main" and path.endswith("main.py") for path, _line, name in stats.stats)


def test_gap_is_the_e2e_cpu_minus_the_in_process_hot_path(capsys):
    """``--gap``: the hot path's rounds run in the benchmark's process and the difference is printed."""
    import re

    e2e = _e2e_module()
    e2e._print_gap(50.0, sheets=20, rounds=1)
    line = capsys.readouterr().out
    found = re.search(r"hot path .*: ([\d.]+) ms per sheet; end-to-end only: 50\.00 - ([\d.]+) = ([\d.]+) ms", line)
    assert found, line
    in_process, shown, gap = (float(found[n]) for n in (1, 2, 3))
    assert 0 < in_process < 50 and abs(shown - in_process) < 0.01 and abs(gap - (50 - in_process)) < 0.011

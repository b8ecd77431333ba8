"""The mypy baseline only shrinks: a grown count, a new file with errors or any error in core/app fails."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("mypy_baseline", ROOT / "tools" / "mypy_baseline.py")
assert _spec is not None and _spec.loader is not None
baseline_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(baseline_tool)

OUTPUT = """\
bridge/edges/tcp/link.py:12: error: Missing return type  [no-untyped-def]
bridge/edges/tcp/link.py:40:5: error: Incompatible types  [assignment]
bridge/edges/tcp/link.py:41: note: a note is not an error
bridge/runtime/runner.py:7: error: Need type annotation  [var-annotated]
"""


def test_counts_errors_per_file_not_notes() -> None:
    assert baseline_tool.count_errors(OUTPUT) == Counter({"bridge/edges/tcp/link.py": 2, "bridge/runtime/runner.py": 1})


def test_within_or_below_the_baseline_passes() -> None:
    current = baseline_tool.count_errors(OUTPUT)
    assert baseline_tool.compare(current, {"bridge/edges/tcp/link.py": 2, "bridge/runtime/runner.py": 5}) == []


def test_a_grown_count_fails_naming_the_file() -> None:
    problems = baseline_tool.compare(baseline_tool.count_errors(OUTPUT), {"bridge/edges/tcp/link.py": 1,
                                                                          "bridge/runtime/runner.py": 1})
    assert problems == ["bridge/edges/tcp/link.py: 2 mypy error(s), 1 allowed by tools/mypy-baseline.json"]


def test_a_file_missing_from_the_baseline_may_have_no_error() -> None:
    problems = baseline_tool.compare(baseline_tool.count_errors(OUTPUT), {"bridge/edges/tcp/link.py": 2})
    assert problems == ["bridge/runtime/runner.py: 1 mypy error(s), 0 allowed by tools/mypy-baseline.json"]


def test_core_and_app_allow_no_error_whatever_the_baseline_says() -> None:
    current = Counter({"bridge/core/pipeline.py": 1, "bridge/app/service.py": 1})
    problems = baseline_tool.compare(current, {"bridge/core/pipeline.py": 9, "bridge/app/service.py": 9})
    assert len(problems) == 2 and all("strict room: 0" in p for p in problems)


def test_the_checked_in_baseline_lists_no_strict_module() -> None:
    recorded = json.loads((ROOT / "tools" / "mypy-baseline.json").read_text())
    assert not [path for path in recorded if path.startswith(baseline_tool.STRICT)]
    assert all(isinstance(count, int) and count > 0 for count in recorded.values())

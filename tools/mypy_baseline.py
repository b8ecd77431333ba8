"""mypy with a baseline that only shrinks.

``bridge/core`` and ``bridge/app`` must have 0 errors (they are checked with the strict
flags in ``[tool.mypy]``). Every other module may keep at most the number of errors
recorded for it in ``tools/mypy-baseline.json``; a module not listed may have none.

    python tools/mypy_baseline.py            # run mypy, compare, exit 1 if any count grew
    python tools/mypy_baseline.py --update   # record the current counts (after fixing some)

``--update`` refuses to record a count higher than the one recorded (fix the errors instead);
with no baseline file it records the first one.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "tools" / "mypy-baseline.json"
STRICT = ("bridge/core/", "bridge/app/")
ERROR = re.compile(r"^(?P<path>[^:\s]+\.py):\d+(?::\d+)?: error: ")


def count_errors(output: str) -> Counter[str]:
    """Errors per file in mypy's output."""
    counts: Counter[str] = Counter()
    for line in output.splitlines():
        match = ERROR.match(line)
        if match:
            counts[match["path"]] += 1
    return counts


def compare(current: Counter[str], baseline: dict[str, int]) -> list[str]:
    """One line per file whose error count is above what it may have."""
    problems = []
    for path, count in sorted(current.items()):
        allowed = 0 if path.startswith(STRICT) else baseline.get(path, 0)
        if count > allowed:
            problems.append(f"{path}: {count} mypy error(s), {allowed} allowed"
                            + (" (strict room: 0)" if path.startswith(STRICT) else " by tools/mypy-baseline.json"))
    return problems


def run_mypy() -> tuple[int, str]:
    completed = subprocess.run([sys.executable, "-m", "mypy", "--no-color-output", "--no-error-summary"],
                               cwd=ROOT, capture_output=True, text=True, check=False)
    return completed.returncode, completed.stdout + completed.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true", help="record the current counts (only ever lower)")
    args = parser.parse_args(argv)
    returncode, output = run_mypy()
    if returncode not in (0, 1):  # 2: mypy itself failed (bad config, crash)
        print(output, file=sys.stderr)
        print(f"mypy failed to run (exit {returncode})", file=sys.stderr)
        return 2
    current = count_errors(output)
    baseline: dict[str, int] = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    problems = compare(current, baseline)
    if args.update:
        if problems and BASELINE.exists():
            print("\n".join(problems), file=sys.stderr)
            print("refusing to record a higher count: fix these first", file=sys.stderr)
            return 1
        BASELINE.write_text(json.dumps(dict(sorted(current.items())), indent=1) + "\n")
        print(f"recorded {sum(current.values())} error(s) in {len(current)} file(s) to {BASELINE.relative_to(ROOT)}")
        return 0
    if problems:
        grown = {line.split(":")[0] for line in problems}
        print("\n".join(line for line in output.splitlines() if line.split(":")[0] in grown))
        print("\n".join(problems), file=sys.stderr)
        return 1
    shrunk = sum(baseline.values()) - sum(current.values())
    print(f"mypy: {sum(current.values())} error(s) within the baseline of {sum(baseline.values())}; "
          f"bridge/core and bridge/app: 0" + (f"; {shrunk} fixed: run with --update to record" if shrunk else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

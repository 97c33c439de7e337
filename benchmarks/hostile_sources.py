"""Every hostile-source case (tests/hostile/*_cases.py) against sitebench, and the table of what came of them.

    python benchmarks/hostile_sources.py [--source miners] [--json]

Columns as in issue 25: cases tried; tracebacks; hangs or unbounded memory; a false figure
recorded as verified (a lie); measured data lost without a report. ``ok`` counts the cases
refused in one clear line or measured truthfully. The test suite runs a seeded sample of the
same cases (tests/hostile/test_hostile.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile.framework import all_cases, run_case, table  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", action="append", help="only these sources (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every case that was not ok")
    args = parser.parse_args()
    cases = [c for c in all_cases() if not args.source or c.source in args.source]
    results = []
    t0 = time.monotonic()
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
            outcome = run_case(case, Path(tmp))
        results.append((case, outcome))
        if args.verbose and outcome.verdict != "ok":
            print(f"{case.source}:{case.name}: {outcome.verdict}: {outcome.detail}", file=sys.stderr)
    rows = table(results)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        head = ["source", "cases", "traceback", "hang", "lie", "lost", "ok", "reported_lost_bytes"]
        print(" | ".join(head))
        print(" | ".join("---" for _ in head))
        for row in rows:
            print(" | ".join(str(row[h]) for h in head))
        print(f"\n{len(cases)} cases in {time.monotonic() - t0:.0f} s")
    return 0 if all(o.verdict == "ok" for _, o in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

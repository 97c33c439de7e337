"""`sitebench baseline save|check`: store a pytest-benchmark run as a baseline, gate a new run on it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.errors import CheckFailed, UsageError

DESCRIPTION = """\
Baselines live in DIR/<machine-id>.json (sitebench.result/1). check falls back to
DIR/default.json when this machine has none of its own, and says so.

examples:
  pytest --benchmark-only --benchmark-json=bm.json
  sitebench baseline save bm.json
  sitebench baseline check bm.json --threshold 0.05
"""


def register(sub: Any) -> None:
    p = sub.add_parser("baseline", help="save or check a pytest-benchmark baseline",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["save", "check"])
    p.add_argument("json", help="pytest-benchmark JSON (--benchmark-json output)")
    p.add_argument("--dir", default="results/baselines", help="baseline directory")
    p.add_argument("--name", help="baseline name (default: this machine's id; save --name default for the fallback)")
    p.add_argument("--threshold", type=float, default=0.05, help="relative slowdown that regresses")
    p.add_argument("--report-only", action="store_true", help="print the comparison, exit 0 even on regression")
    p.set_defaults(func=main)


def _load_bench(path: str) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read pytest-benchmark JSON: {exc}") from None


def main(args: argparse.Namespace) -> int:
    from bench.benchmarking.convert import to_result
    from bench.resultfile import load, write_result
    from bench.system import machine_id
    bench_json = _load_bench(args.json)
    name = args.name or machine_id()
    target = Path(args.dir) / f"{name}.json"
    if args.action == "save":
        write_result(target, to_result(bench_json))
        print(f"baseline saved: {target}")
        return 0
    if not target.exists():
        fallback = Path(args.dir) / "default.json"
        if not fallback.exists():
            raise UsageError(f"no baseline {target} and no {fallback}")
        print(f"no baseline for machine {name}; using {fallback}")
        target = fallback
    from bench.benchmarking.gate import gate
    from bench.compare import format_table
    from bench.console import out
    passed, comps = gate(load(target, check_schema=False), bench_json, threshold=args.threshold)
    out().print(format_table(comps))
    if passed or args.report_only:
        print("baseline check: " + ("no regression" if passed else "REGRESSION (report only)"))
        return 0
    raise CheckFailed("baseline check: regression beyond threshold with p < 0.05")

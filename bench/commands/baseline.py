"""`sitebench baseline save|check`: store a pytest-benchmark run as a baseline, gate a new run on it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.errors import CheckFailed, UsageError

DESCRIPTION = """\
Baselines live in DIR/<machine-id>/baseline.json (a sitebench.result file), with optional
per-workload thresholds in DIR/<machine-id>/thresholds.json:
  {"default_pct": 10, "workloads": {"llm-serve": 25}}
check falls back to DIR/default/ when this machine has none of its own, and says so.
A workload regresses only when its median slows by more than its threshold AND the
Mann-Whitney U test on the raw samples gives p < --alpha.

examples:
  pytest --benchmark-only --benchmark-json=bm.json
  sitebench baseline save bm.json
  sitebench baseline check bm.json --threshold 5 --workload-threshold llm-serve=20
"""


def register(sub: Any) -> None:
    p = sub.add_parser("baseline", help="save or check a pytest-benchmark baseline",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["save", "check"])
    p.add_argument("json", help="pytest-benchmark JSON (--benchmark-json output)")
    p.add_argument("--dir", default="results/baselines", help="baselines root directory")
    p.add_argument("--name", help="baseline name (default: this machine's id; save --name default for the fallback)")
    p.add_argument("--threshold", type=float, metavar="PCT",
                   help="slowdown percent that regresses (default: thresholds.json, else 5)")
    p.add_argument("--workload-threshold", action="append", default=[], metavar="NAME=PCT",
                   help="per-workload slowdown percent (repeatable; overrides thresholds.json)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--report-only", action="store_true", help="print the comparison, exit 0 even on regression")
    p.set_defaults(func=main)


def _load_bench(path: str) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(f"{path}: cannot read pytest-benchmark JSON: {exc}") from None


def _save(args: argparse.Namespace, bench_json: dict[str, Any], name: str) -> int:
    from bench.benchmarking.baselines import BASELINE, THRESHOLDS, baseline_dir
    from bench.benchmarking.convert import to_result
    from bench.record import write_atomic, write_result
    from bench.system import describe

    target = baseline_dir(Path(args.dir), name)
    write_result(target / BASELINE, to_result(bench_json, describe()))
    print(f"baseline saved: {target / BASELINE}")
    if not (target / THRESHOLDS).exists():
        from bench.benchmarking.baselines import Thresholds
        write_atomic(target / THRESHOLDS, json.dumps(Thresholds().to_json(), indent=2) + "\n")
        print(f"thresholds (edit to taste): {target / THRESHOLDS}")
    return 0


def main(args: argparse.Namespace) -> int:
    from bench.benchmarking.baselines import BASELINE, THRESHOLDS, load_thresholds, resolve
    from bench.compare import parse_workload_thresholds
    from bench.system import machine_id

    if args.threshold is not None and not 0 <= args.threshold < float("inf"):
        raise UsageError("--threshold must be a percentage >= 0")
    if not 0 < args.alpha < 1:
        raise UsageError("--alpha must be between 0 and 1")
    per_cli = parse_workload_thresholds(args.workload_threshold)
    bench_json = _load_bench(args.json)
    name = args.name or machine_id()
    if args.action == "save":
        return _save(args, bench_json, name)
    directory, fell_back = resolve(Path(args.dir), name)
    if fell_back:
        print(f"no baseline for machine {name}; using {directory / BASELINE}")
    limits = load_thresholds(directory / THRESHOLDS)
    default = args.threshold / 100 if args.threshold is not None else limits.default
    per = {**limits.workloads, **per_cli}

    from bench.benchmarking.gate import gate
    from bench.compare import format_table
    from bench.console import out
    from bench.record import load
    passed, comps = gate(load(directory / BASELINE), bench_json,
                         threshold=default, alpha=args.alpha, per_workload=per)
    out().print(format_table(comps))
    if passed or args.report_only:
        print("baseline check: " + ("no regression" if passed else "REGRESSION (report only)"))
        return 0
    slow = ", ".join(c.workload for c in comps if c.regression)
    raise CheckFailed(f"baseline check: regression in {slow} (slower than threshold, p < {args.alpha})")

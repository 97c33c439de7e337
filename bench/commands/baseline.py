"""`sitebench baseline save|check`: store a pytest-benchmark run as a baseline, gate a new run on it."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.benchmarking.baselines import BASELINE, THRESHOLDS, Thresholds, baseline_dir, load_thresholds, resolve
from bench.benchmarking.compare import format_table, parse_workload_thresholds
from bench.benchmarking.convert import to_result
from bench.benchmarking.gate import gate
from bench.commands import help_of
from bench.console import out
from bench.errors import CheckFailed, UsageError
from bench.measure.system import describe, hardware_differences, hardware_label, machine_id
from bench.record import load, write_atomic, write_result

DESCRIPTION = """\
A baseline judges only the hardware it was recorded on. First step on a new CI
machine: record its own baseline (and commit it), then check every later run:

  pytest --benchmark-only --benchmark-json=bm.json      # every workload at ci size
  sitebench baseline save bm.json                       # -> DIR/<machine-id>/baseline.json
  sitebench baseline check bm.json --threshold 5 --workload-threshold llm-serve=20

Baselines live in DIR/<machine-id>/baseline.json (a sitebench.result file), with optional
per-workload thresholds in DIR/<machine-id>/thresholds.json:
  {"default_pct": 10, "workloads": {"llm-serve": 25}}
check falls back to DIR/default/ when this machine has none of its own, and says so.
check names the hardware the baseline was recorded on; when it is not this
machine's (CPU model, CPUs, SIMD/SHA flags, GPUs), the comparison is shown but not
judged (exit 0 with --report-only, else exit 2) unless --any-machine.
A workload regresses only when its median slows by more than its threshold AND the
Mann-Whitney U test on the raw samples gives p < --alpha; a run measured on a busy
machine (contended) is not judged.
"""


def register(sub: Any) -> None:
    p = sub.add_parser("baseline", help=help_of("baseline"),
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
    p.add_argument("--any-machine", action="store_true",
                   help="judge against a baseline recorded on other hardware (its figures are not this machine's)")
    p.set_defaults(func=main)


def _load_bench(path: str) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(f"{path}: cannot read pytest-benchmark JSON: {exc}") from None


def _save(args: argparse.Namespace, bench_json: dict[str, Any], name: str) -> int:
    target = baseline_dir(Path(args.dir), name)
    write_result(target / BASELINE, to_result(bench_json, describe()))
    print(f"baseline saved: {target / BASELINE}")
    if not (target / THRESHOLDS).exists():
        write_atomic(target / THRESHOLDS, json.dumps(Thresholds().to_json(), indent=2) + "\n")
        print(f"thresholds (edit to taste): {target / THRESHOLDS}")
    return 0


def main(args: argparse.Namespace) -> int:
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

    baseline = load(directory / BASELINE)
    print(f"baseline {directory / BASELINE}: recorded {baseline.created} on {hardware_label(baseline.system)}")
    differs = hardware_differences(baseline.system, describe())
    other_hardware = bool(differs) and not args.any_machine
    if differs:
        why = f"the baseline's hardware is not this machine's ({'; '.join(differs)})"
        if other_hardware and not args.report_only:
            raise UsageError(f"{why}: record this machine's own with `sitebench baseline save {args.json}` "
                             f"(or pass --any-machine)")
        print(f"warning: {why}" + (": shown, not judged" if other_hardware else ": judged anyway (--any-machine)"))
    limits = load_thresholds(directory / THRESHOLDS)
    default = args.threshold / 100 if args.threshold is not None else limits.default
    per = {**limits.workloads, **per_cli}

    passed, comps = gate(baseline, bench_json, threshold=default, alpha=args.alpha, per_workload=per)
    if other_hardware:
        comps = [replace(c, regression=False, improvement=False, note="not judged: other hardware") for c in comps]
    out().print(format_table(comps))
    if other_hardware:
        print("baseline check: not judged (the baseline was recorded on other hardware)")
        return 0
    if passed or args.report_only:
        print("baseline check: " + ("no regression" if passed else "REGRESSION (report only)"))
        return 0
    slow = ", ".join(c.workload for c in comps if c.regression)
    raise CheckFailed(f"baseline check: regression in {slow} (slower than threshold, p < {args.alpha})")

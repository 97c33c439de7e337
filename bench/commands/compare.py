"""`sitebench compare BASE NEW`: per-run median change with a Mann-Whitney U test."""

from __future__ import annotations

import argparse
from typing import Any

from bench import console
from bench.benchmarking.compare import compare_documents, format_table, not_judged, parse_workload_thresholds
from bench.benchmarking.convert import load_either
from bench.commands import help_of
from bench.errors import UsageError
from bench.measure.system import hardware_differences, hardware_label


def register(sub: Any) -> None:
    p = sub.add_parser("compare", help=help_of("compare"),
                       description="Match runs by workload, device and params; flag a regression when "
                       "the median slows by more than the threshold and Mann-Whitney U says the samples "
                       "differ. BASE and NEW are result files or pytest-benchmark JSON (--benchmark-json). "
                       "Runs measured on a busy machine (contended), and files from different hardware (CPU model, "
                       "CPUs, SIMD/SHA flags, GPUs), are shown but not judged unless --any-machine. "
                       "Exit 1 on a regression.")
    p.add_argument("base", metavar="BASE")
    p.add_argument("new", metavar="NEW")
    p.add_argument("--threshold", type=float, default=5.0, metavar="PCT", help="slowdown percent (default 5)")
    p.add_argument("--workload-threshold", action="append", default=[], metavar="NAME=PCT")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--any-machine", action="store_true",
                   help="judge files measured on different hardware (a difference of machines, not a regression)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import json


    per = parse_workload_thresholds(args.workload_threshold)
    if not 0 <= args.threshold < float("inf"):
        raise UsageError(f"--threshold {args.threshold}: must be a percentage >= 0")
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha {args.alpha}: must be between 0 and 1")
    base, new = load_either(args.base), load_either(args.new)
    comps = compare_documents(base, new, args.threshold / 100, per, args.alpha)
    differs = hardware_differences(base.system, new.system)
    if differs and not args.any_machine:
        comps = not_judged(comps, "other hardware")
        console.err().print(f"[yellow]warning:[/yellow] BASE was measured on {hardware_label(base.system)}, NEW on "
                            f"{hardware_label(new.system)} ({'; '.join(differs)}): shown, not judged "
                            "(--any-machine to judge)")
    if args.json:
        print(json.dumps([c.to_dict() for c in comps], indent=2))
    else:
        console.out().print(format_table(comps))
    return 1 if any(c.regression for c in comps) else 0

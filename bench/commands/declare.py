"""`sitebench declare --model NAME ... --out FILE`: a declared (not measured) result file."""

from __future__ import annotations

import argparse
from typing import Any

from bench import console
from bench.commands import help_of
from bench.record import check_writable, write_result
from bench.sizing.declare import DEFAULT_TOLERANCE, SCOPES, declared_document, unit_of

DESCRIPTION = """\
Write a result file with "source": "declared" for hardware sitebench cannot run
(Bitcoin ASIC miners above all) from the maker's published figures. Declared
files are sized like measured ones but kept apart in every table, and the
validator skips the raw-sample checks for them.

examples:
  sitebench declare --model "Bitmain Antminer S21 Pro" --workload sha256d \\
      --throughput 234e12 --power-w 3531 --out s21-pro.json
  sitebench declare --model "8x H100 (MLPerf)" --workload mlperf-llama2-70b --unit token \\
      --throughput 31307 --power-w 5600 --scope components --tolerance 0.1 --note "..." --out h100.json
"""


def register(sub: Any) -> None:
    p = sub.add_parser("declare", help=help_of("declare"),
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="hardware model name, e.g. 'Bitmain Antminer S21 Pro'")
    p.add_argument("--workload", required=True, help="workload the figure is for, e.g. sha256d")
    p.add_argument("--throughput", type=float, required=True, help="units/s (234e12 for 234 TH/s)")
    p.add_argument("--power-w", type=float, required=True, help="power in W at the declared scope")
    p.add_argument("--unit", help="unit of work (default: the registered workload's, e.g. hash)")
    p.add_argument("--scope", choices=SCOPES, default="wall", help="what the power covers (default: wall)")
    p.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                   help=f"declared tolerance of throughput and power, a fraction (default: {DEFAULT_TOLERANCE})")
    p.add_argument("--note", default="", help="where the figures come from")
    p.add_argument("--org", default="", help="submitter organisation")
    p.add_argument("--out", "-o", required=True, metavar="FILE", help="output result file")
    p.add_argument("--force", action="store_true", help="replace the --out file when it exists")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    check_writable(args.out, replace=args.force)
    doc = declared_document(args.model, args.workload, args.throughput, args.power_w,
                            unit=unit_of(args.workload, args.unit), scope=args.scope, tolerance=args.tolerance,
                            note=args.note, org=args.org)
    out = write_result(args.out, doc)
    console.err().print(f"declared: {out}")
    return 0

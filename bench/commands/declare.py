"""`sitebench declare --model NAME ... --out FILE`: a declared (not measured) result file."""

from __future__ import annotations

import argparse
from typing import Any

from bench import console
from bench.commands import help_of
from bench.errors import UsageError
from bench.record import check_writable, write_result
from bench.sizing.declare import DEFAULT_TOLERANCE, SCOPES, declared_document, declared_sweep, parse_point, unit_of

DESCRIPTION = """\
Write a result file with "source": "declared" for hardware sitebench cannot run
(Bitcoin ASIC miners above all) from the maker's published figures. Declared
files are sized like measured ones but kept apart in every table, and the
validator skips the raw-sample checks for them.

A vendor's curve (several operating points, one marked stock) is declared
with one --point THROUGHPUT@POWER_W per point: size and plan then treat it
as an operating envelope and choose the point that buys the most for the MW,
shown apart as DECLARED.

examples:
  sitebench declare --model "Bitmain Antminer S21 Pro" --workload sha256d \\
      --throughput 234e12 --power-w 3531 --out s21-pro.json
  sitebench declare --model "Bitmain Antminer S19j Pro" --workload sha256d \\
      --point 96e12@2850:stock --point 74.5e12@1905 --out s19j-pro-sweep.json
  sitebench declare --model "8x H100 (MLPerf)" --workload mlperf-llama2-70b --unit token \\
      --throughput 31307 --power-w 5600 --scope components --tolerance 0.1 --note "..." --out h100.json
"""


def register(sub: Any) -> None:
    p = sub.add_parser("declare", help=help_of("declare"),
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="hardware model name, e.g. 'Bitmain Antminer S21 Pro'")
    p.add_argument("--workload", required=True, help="workload the figure is for, e.g. sha256d")
    p.add_argument("--throughput", type=float, help="units/s (234e12 for 234 TH/s)")
    p.add_argument("--power-w", type=float, help="power in W at the declared scope")
    p.add_argument("--point", action="append", default=[], metavar="THROUGHPUT@W[:stock]",
                   help="one operating point of a vendor's curve, instead of --throughput/--power-w; "
                   "repeat per point, mark the default :stock (96e12@2850:stock)")
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
    if args.point and (args.throughput is not None or args.power_w is not None):
        raise UsageError("--point: give either --point per operating point or --throughput with --power-w")
    if not args.point and (args.throughput is None or args.power_w is None):
        raise UsageError("--throughput and --power-w are required (or one --point per operating point)")
    points = [parse_point(p) for p in args.point]
    check_writable(args.out, replace=args.force)
    common = {"unit": unit_of(args.workload, args.unit), "scope": args.scope, "tolerance": args.tolerance,
              "note": args.note, "org": args.org}
    if points:
        doc = declared_sweep(args.model, args.workload, points, **common)
    else:
        doc = declared_document(args.model, args.workload, args.throughput, args.power_w, **common)
    out = write_result(args.out, doc)
    console.err().print(f"declared: {out}")
    return 0

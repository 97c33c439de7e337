"""`sitebench report FILE... --out report.html`: a self-contained HTML site qualification report."""

from __future__ import annotations

import argparse
from typing import Any

from bench import console
from bench.commands import help_of
from bench.errors import UsageError
from bench.record import check_writable, load
from bench.report import write_report
from bench.sizing.climate.options import add_options, climate_and_cooling

DESCRIPTION = """\
Write one self-contained HTML page (plots embedded, no network needed to view it)
from one or more sitebench.result files: summary, efficiency and sizing plots,
power and throughput over time per run, per-GPU fleet tables with outliers,
validation findings and the full system description. Several files are shown
side by side (e.g. a vendor's claim against the site's own measurement).

examples:
  sitebench report results/runs/*.json --out report.html
  sitebench report vendor.json site.json --mw 20 --pue 1.25 --out compare.html
"""


def register(sub: Any) -> None:
    p = sub.add_parser("report", help=help_of("report"),
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar="FILE", help="result file(s)")
    p.add_argument("--out", "-o", default="report.html", metavar="HTML", help="output file (default: report.html)")
    p.add_argument("--force", action="store_true", help="replace the --out file when it exists")
    p.add_argument("--mw", type=float, default=1.0, help="facility power allocation in MW (default: 1)")
    p.add_argument("--pue", type=float, default=1.0, help="power usage effectiveness (default: 1.0)")
    p.add_argument("--title", default="Site qualification report", help="page title")
    add_options(p)
    p.set_defaults(func=main)


def check_allocation(mw: float, pue: float) -> None:
    """Raise UsageError unless ``mw`` > 0 and ``pue`` >= 1 (both finite)."""
    if not (mw > 0 and mw < float("inf")):
        raise UsageError(f"--mw {mw}: must be a positive number")
    if not (pue >= 1.0 and pue < float("inf")):
        raise UsageError(f"--pue {pue}: must be at least 1.0")


def main(args: argparse.Namespace) -> int:
    check_allocation(args.mw, args.pue)
    climate = climate_and_cooling(args.climate, args.cooling)
    check_writable(args.out, replace=args.force)
    files = [(path, load(path)) for path in args.files]
    out = write_report(files, args.out, mw=args.mw, pue=args.pue, title=args.title, climate=climate)
    console.err().print(f"report: {out}")
    return 0

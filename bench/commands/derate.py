"""`sitebench derate FILE...`: throughput and wall power against inlet temperature, a curve with a knee."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.markup import escape
from rich.table import Table

from bench import console, units
from bench.commands import help_of
from bench.errors import UsageError
from bench.record import check_writable, load, write_result
from bench.record.derating import DerateCurve, Derating
from bench.sizing.derate_build import build
from bench.sizing.derate_declared import catalog, declared_for

DESCRIPTION = """\
Fit a derating curve from soaks at different inlet temperatures: throughput and
wall power against inlet temperature, piecewise linear with one knee, with the
knee's 95% interval (profile likelihood over the knee) and the curve's 95%
band. Points come from each run's measured windows: its thermal block's inlet
channel, else its ambient one (a BMC's intake, a PDU's probe: --thermal), else
a meter's telemetry key ending inlet_c or ambient_c; else from the run's
metrics.inlet_c. --out writes a result file with the runs and
the fit (sitebench validate refits it; size and plan --climate use it).
DECLARED curves (a maker's or review's published knee and shutdown) are shown
apart, never mixed with fitted ones. Fewer than 6 points at 4 temperatures:
exit 2.

examples:
  sitebench derate soak-25c.json soak-35c.json soak-42c.json --out s21-derate.json
  sitebench derate soak-*.json --workload sha256d --json
  sitebench derate --declared
"""


def register(sub: Any) -> None:
    p = sub.add_parser("derate", help=help_of("derate"),
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="*", metavar="RESULT", help="result files of soaks at different temperatures")
    p.add_argument("--workload", help="which workload, when the files hold several")
    p.add_argument("--out", "-o", metavar="FILE", help="write the runs and the fitted curve as a result file")
    p.add_argument("--force", action="store_true", help="replace the --out file when it exists")
    p.add_argument("--json", action="store_true", help="print the derating block as JSON")
    p.add_argument("--declared", action="store_true", help="list the DECLARED curves sitebench ships")
    p.set_defaults(func=main)


def _curve_rows(table: Table, c: DerateCurve, unit: str) -> None:
    fmt = (lambda v: units.rate(v, unit)) if c.quantity == "throughput" else units.watts
    per_c = (lambda s: f"{s / c.level:+.2%}/°C ({fmt(abs(s))}/°C)") if c.level else (lambda s: f"{s:+.4g}/°C")
    knee = f"{c.knee_c:.3g} °C ({c.knee_low_c:.3g} - {c.knee_high_c:.3g})"
    if not c.knee_identified:
        knee += " [yellow]not identified[/yellow]"
    table.add_row(c.quantity, knee, fmt(c.level), per_c(c.slope_below), per_c(c.slope_above), str(c.points))


def print_fitted(d: Derating) -> None:
    """The fitted curves as a table, with the method and notes."""
    out = console.out()
    table = Table(title=f"Fitted derating: {escape(d.workload)} on {escape(d.system)}, against {escape(d.channel)}",
                  title_justify="left")
    for col in ("quantity", "knee (95%)", "at the knee", "below the knee", "above the knee", "points"):
        table.add_column(col, justify="left" if col == "quantity" else "right")
    for c in (d.throughput, d.power):
        if c is not None:
            _curve_rows(table, c, d.unit)
    out.print(table)
    out.print(escape(f"method: {d.method}"))
    for n in d.notes:
        out.print(f"[yellow]{escape(n)}[/yellow]" if "not identified" in n or "no power" in n else escape(n))


def print_declared(records: list[Derating], title: str) -> None:
    """DECLARED curves, apart from fitted ones."""
    table = Table(title=title, title_justify="left")
    for col in ("curve", "knee", "throughput above", "power above", "shutdown above", "source"):
        table.add_column(col, justify="left" if col in ("curve", "source") else "right",
                         no_wrap=col not in ("curve", "source"))
    for d in records:
        steps = lambda ss: ", ".join(f"x{s.factor:.3g} > {s.above_c:g} °C" for s in ss) or "as flat"
        table.add_row(escape(d.system), f"{d.knee_c:g} °C" if d.knee_c is not None else "-",
                      steps(d.throughput_steps), steps(d.power_steps),
                      f"{d.shutdown_c:g} °C" if d.shutdown_c is not None else "-", escape(d.reference))
    console.out().print(table)


def main(args: argparse.Namespace) -> int:
    if args.declared:
        records = [d for _, d in catalog()]
        if args.json:
            print(json.dumps([d.to_json() for d in records], indent=2))
        else:
            print_declared(records, "DECLARED derating curves (published figures, not measured by sitebench)")
        return 0
    if not args.files:
        raise UsageError("derate: give result files of soaks (or --declared to list the declared curves)")
    if args.out:
        check_writable(args.out, replace=args.force)
    built = build([(path, load(path)) for path in args.files], args.workload)
    d = built.derating
    if args.json:
        print(json.dumps(d.to_json(), indent=2))
    else:
        print_fitted(d)
        declared = declared_for(d.system)
        if declared is not None:
            print_declared([declared], "DECLARED for the same model (published, not measured), for comparison")
    if args.out:
        write_result(args.out, built.doc)
        console.err().print(f"wrote {args.out}")
    return 0

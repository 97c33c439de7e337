"""`sitebench plan PLAN.toml`: a site plan's machines, throughput, energy, energy cost, revenue, capex and payback."""

from __future__ import annotations

import argparse
from typing import Any

from bench import console
from bench.commands import help_of
from bench.sizing import plan_render
from bench.sizing.climate import apply as climate
from bench.sizing.climate.options import add_options, per_use
from bench.sizing.frontier import DEFAULT_YEARS
from bench.sizing.plan import ChoiceOptions, evaluate, parse_plan, warnings
from bench.sizing.plots import check_path, plan_plot
from bench.sizing.render import notes

DESCRIPTION = """\
Evaluate a site plan (TOML): allocations of facility MW (with PUE and
availability), each split into uses filled by one result file's hardware
(measured or declared). Prints per allocation and in total: machines,
throughput, energy per year (MWh) and, where the plan gives prices, the energy
cost and revenue per year; where a use gives capex_per_machine, its capex and
simple payback (capex / (revenue - energy cost) per year). Prices and capex are
the plan's own assumptions: the output calls the money ILLUSTRATIVE and says
what it leaves out. Paths in the plan are relative to the plan file. See
results/plans/ (or builtin:plans/phase1-2000mw) for an example and
the sizing guide (docs/guides/sizing.md) for every key. A use whose result
file holds a sweep is sized at the setting that buys the most for its MW
(--max-machines caps the machines per use; with a machine cost and an energy
price, from the options or the plan, by cost per unit of throughput) and the
gain over stock is printed. With --climate (or climate = ... in the plan's
allocations or uses), each use's annual and worst-month figures are shown beside
the flat ones; the command line overrides the plan.

examples:
  sitebench plan results/plans/phase1-2000mw.toml
  sitebench plan builtin:plans/phase1-2000mw --plot plan.png --json
"""


def register(sub: Any) -> None:
    p = sub.add_parser("plan", help=help_of("plan"),
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("plan", metavar="PLAN.toml", help="site plan")
    p.add_argument("--json", action="store_true", help="print JSON (base units) instead of tables")
    p.add_argument("--plot", metavar="FILE.png|svg", help="draw throughput per MW per option and the plan's split")
    p.add_argument("--max-machines", type=int, metavar="N", help="a sweep's use buys at most N machines")
    p.add_argument("--machine-cost", type=float, metavar="USD", help="price of one machine (default: the use's "
                   "capex_per_machine); with an energy price, a sweep's setting is chosen by cost per unit")
    p.add_argument("--energy-price", type=float, metavar="USD/MWh", help="default: the plan's electricity_per_mwh")
    p.add_argument("--years", type=float, default=DEFAULT_YEARS, help=f"years a machine is amortised over "
                   f"(default: {DEFAULT_YEARS:g})")
    add_options(p, per_allocation=True)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import json

    from rich.markup import escape


    if args.plot:

        check_path(args.plot)
    plan = parse_plan(args.plan)
    climates = per_use(args.climate, args.cooling, plan)
    results = evaluate(plan, ChoiceOptions(args.max_machines, args.machine_cost, args.energy_price, args.years))
    warns = warnings(plan)
    rows = climate.plan_rows(plan, results, climates)
    if args.json:
        doc = plan_render.as_json(plan, results, warns)
        print(json.dumps({**doc, "climate": climate.plan_json(plan, rows, climates)} if rows else doc, indent=2))
    else:
        out = console.out()
        out.print(plan_render.plan_table(plan, results))
        out.print(plan_render.totals_table(plan, plan_render.totals(plan, results)))
        if plan_render.priced(plan, results):
            out.print(plan_render.money_table(plan, results))
            for line in plan_render.money_notes(plan, results):
                out.print(f"[yellow]{escape(line)}[/yellow]")
        unique = list({(r.sized.file, r.sized.run): r.sized for r in results}.values())
        for line in notes(unique, []):
            out.print(line)
        for w in warns:
            out.print(f"[yellow]warning: {w}[/yellow]")
        for line in plan_render.choice_lines(results):
            out.print(escape(line))
        if rows:
            climate.print_plan(out, plan, rows, climates)
    if args.plot:

        options = list({(r.sized.file, r.sized.run): r.sized for r in results}.values())
        split = [{"name": a.name, "mw": a.mw, "uses": [(r.use, r.mw) for r in results if r.allocation == a.name]}
                 for a in plan.allocations]
        path = plan_plot(options, split, args.plot, f"{plan.name}: throughput per facility MW and the split")
        console.err().print(f"plot: {path}")
        if rows:
            console.err().print(f"plot: {climate.plot(rows, args.plot, f'{plan.name}: throughput per facility MW per month')}")
    return 0

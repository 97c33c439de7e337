"""`sitebench size RESULT... --mw MW`: machines, throughput and MW per unit of throughput, with bounds."""

from __future__ import annotations

import argparse
import math
from typing import Any

from bench import console
from bench.commands import help_of
from bench.errors import UsageError
from bench.record import load
from bench.sizing.climate import apply as climate
from bench.sizing.climate.options import add_options, climate_and_cooling
from bench.sizing.envelope_render import annotate, print_envelopes
from bench.sizing.frontier import DEFAULT_YEARS, plotted, size_all
from bench.sizing.model import Allocation, Sized
from bench.sizing.plots import check_path, sizing_plot
from bench.sizing.render import as_json, print_sizing
from bench.sizing.sources import candidates

DESCRIPTION = """\
For every run in the given result files: the machines an allocation of MW
powers, the total throughput (over the measured windows), the efficiency
(units per joule over the same windows; shown as energy per unit of work, J/TH
for hashing and J/token for tokens, as miners and operators quote it) and the
facility MW per unit of throughput (PUE x 1e-6 / efficiency) (MW per EH/s for
hashing, MW per M tok/s for inference), each with
a low and high bound from the meters' stated accuracy and the run-to-run
spread. Facility MW = IT MW x PUE. Power per machine is the run's widest
measured scope (wall > node > components); components-only runs add a node
overhead (--node-overhead-w, else 30% of component power, bounded 10-60%),
and the efficiency with it is printed beside the measured one. Modelled power is sized but marked MODELLED. Declared
(vendor) entries are shown apart from measured ones.

Runs of a sweep (each with its setting: run --power-limit, miners run
--power-target, declare --point) form an operating envelope: a table of its
points with the Pareto frontier marked, the point that buys the most
throughput for the MW (--max-machines caps the machines; --machine-cost with
--energy-price chooses by cost per unit of throughput instead) and what it
gains over stock, with bounds.

examples:
  sitebench size r.json --mw 100
  sitebench size results/declared/*.json r.json --mw 2000 --pue 1.1 --plot size.png
  sitebench size r.json --mw 1 --node-overhead-w 400 --json
  sitebench size s19j-pro-sweep.json --mw 100 --max-machines 40000
  sitebench size sweep.json --mw 100 --machine-cost 2500 --energy-price 50 --years 3
"""


def register(sub: Any) -> None:
    p = sub.add_parser("size", help=help_of("size"),
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar="RESULT", help="result file(s), measured or declared")
    p.add_argument("--mw", type=float, required=True, help="facility power allocation in MW")
    p.add_argument("--pue", type=float, default=1.0, help="power usage effectiveness (default: 1.0)")
    p.add_argument("--node-overhead-w", type=float, default=None, metavar="W",
                   help="W per machine added to components-only power (default: 30%% of component power)")
    p.add_argument("--max-machines", type=int, metavar="N", help="buy at most N machines (a sweep's choice may then be stock)")
    p.add_argument("--machine-cost", type=float, metavar="USD", help="price of one machine: with --energy-price, "
                   "a sweep's setting is chosen by cost per unit of throughput")
    p.add_argument("--energy-price", type=float, metavar="USD/MWh", help="price of facility energy per MWh")
    p.add_argument("--years", type=float, default=DEFAULT_YEARS, help=f"years a machine is amortised over "
                   f"(default: {DEFAULT_YEARS:g})")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per run, in base units")
    p.add_argument("--plot", metavar="FILE.png|svg", help="draw throughput per MW with error bars")
    add_options(p)
    p.set_defaults(func=main)


def check_overhead(watts: float | None, where: str = "--node-overhead-w") -> None:
    """Raise UsageError unless the node overhead is None or a finite number >= 0."""
    if watts is not None and (isinstance(watts, bool) or not (0 <= watts < math.inf)):
        raise UsageError(f"{where} {watts}: must be a number of W >= 0")


def main(args: argparse.Namespace) -> int:
    import json


    alloc = Allocation(args.mw, args.pue)
    check_overhead(args.node_overhead_w)
    site = climate_and_cooling(args.climate, args.cooling)
    if args.plot:

        check_path(args.plot)
    found = [c for path in args.files for c in candidates(load(path), path)]
    sweep = size_all(found, alloc, args.node_overhead_w, args.max_machines, args.machine_cost, args.energy_price,
                     args.years)
    results = sweep.results
    sized = [r for r in results if isinstance(r, Sized)]
    if not sized:
        reasons = "; ".join(f"{r.file} run {r.run}: {r.reason}" for r in results if not isinstance(r, Sized))
        raise UsageError(f"no usable runs to size ({reasons or 'the files hold no runs'})")
    rows = climate.size_rows(sized, *site) if site else []
    if args.json:
        objects = annotate(as_json(results), sweep.envelopes, sweep.choices)
        print(json.dumps(climate.size_json(objects, sized, rows, *site) if site else objects, indent=2))
    else:
        print_sizing(console.out(), [r for r in sweep.plain if isinstance(r, Sized)],
                     [r for r in sweep.plain if not isinstance(r, Sized)], args.mw, args.pue, args.max_machines)
        print_envelopes(console.out(), sweep.envelopes, sweep.choices)
        if site:
            climate.print_size(console.out(), rows, *site, args.mw)
    if args.plot:

        out = sizing_plot(plotted(sweep), args.plot, f"Throughput per facility MW at PUE {args.pue:g} (low-high bounds)")
        console.err().print(f"plot: {out}")
        if site:
            title = f"Throughput per facility MW per month at {site[0].name}"
            console.err().print(f"plot: {climate.plot(rows, args.plot, title)}")
    return 0

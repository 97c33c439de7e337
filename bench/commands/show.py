"""`sitebench show FILE`: a result file as tables."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bench import console
from bench.commands import help_of
from bench.record import load
from bench.report.terminal import fleet_table, labels, per_mw_table, power_notes, runs_table, soak_lines, system_line
from bench.report.thermal import thermal_table, throttle_lines
from bench.sizing.envelope_render import print_envelopes, show_json
from bench.sizing.frontier import choose, envelopes
from bench.tables import cut


def register(sub: Any) -> None:
    p = sub.add_parser("show", help=help_of("show"),
                       description="Print a result file as tables: the system, every run, fleet totals per node "
                       "for fleet files, and what one MW buys (the figures of sitebench size). Exit 1 when the "
                       "file is not a valid result file.")
    p.add_argument("files", nargs="+", metavar="FILE", help="result file(s)")
    p.add_argument("--json", action="store_true", help="print JSON: per file, what one MW buys of each run and "
                   "each sweep's operating envelope with its frontier")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps([show_json(path, load(path)) for path in args.files], indent=2))
        return 0
    out = console.out()
    for path in args.files:
        doc = load(path)
        out.print(f"[bold]{cut(path, 200)}[/bold]  id {cut(doc.id)}  created {doc.created}  source {doc.source}  "
                  f"signed {'yes' if doc.signature else 'no'}")
        out.print(system_line(doc))
        out.print(runs_table(doc.runs))
        for note in power_notes(doc.runs):
            out.print(f"[yellow]power:[/yellow] {note}")
        for line in soak_lines(doc.runs):
            out.print(f"soak: {line}", markup=False)
        thermal = thermal_table(doc.runs, labels(doc.runs))
        if thermal is not None:
            out.print(thermal)
        for run in doc.runs:
            for line in throttle_lines(run):
                out.print(f"[yellow]throttled:[/yellow] {cut(run.workload)} on {cut(run.device)}: {cut(line, 400)}")
        fleet = fleet_table(doc)
        if fleet is not None:
            out.print(fleet)
        table, modelled = per_mw_table(doc, path)
        out.print(table)
        if modelled:
            out.print("[yellow]warning: power was MODELLED, not measured[/yellow]")
        envs = envelopes(doc, path)
        print_envelopes(out, envs, [choose(e, 1.0) if e.points else None for e in envs])
    return 0

"""`sitebench show FILE`: a result file as tables."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("show", help="print a result file as tables",
                       description="Print a sitebench.result/1 file as tables: the system, every run, "
                       "fleet totals per node for fleet files, and what one MW buys. Exit 1 when the file is not a valid result file.")
    p.add_argument("files", nargs="+", metavar="FILE", help="result file(s)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from bench import console
    from bench.resultfile import load
    from bench.tables import fleet_table, per_mw_table, power_notes, runs_table

    out = console.out()
    for path in args.files:
        doc = load(path)
        sysinfo = doc.get("system", {})
        cpu = sysinfo.get("cpu", {})
        gpus = ", ".join(g.get("name", "?") for g in sysinfo.get("gpus", []) or []) or "none"
        out.print(f"[bold]{path}[/bold]  id {doc['id']}  created {doc['created']}  "
                  f"source {doc.get('source', 'measured')}  signed {'yes' if doc.get('signature') else 'no'}")
        out.print(f"system: {sysinfo.get('hostname', '?')}  cpu {cpu.get('model', '?')} "
                  f"({cpu.get('logical_cpus', '?')} logical)  gpus {gpus}")
        out.print(runs_table(doc["runs"]))
        for note in power_notes(doc["runs"]):
            out.print(f"[yellow]power:[/yellow] {note}")
        fleet = fleet_table(doc)
        if fleet is not None:
            out.print(fleet)
        table, modelled = per_mw_table(doc["runs"])
        out.print(table)
        if modelled:
            out.print("[yellow]warning: power was MODELLED, not measured[/yellow]")
    return 0

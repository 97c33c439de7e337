"""`sitebench qualify RESULT --spec SPEC.toml`: PASS/FAIL per device (CPU, GPU, ASIC miner, endpoint), node and fleet."""

from __future__ import annotations

import argparse
from typing import Any

from bench import console
from bench.commands import help_of
from bench.qualify.spec import load_spec
from bench.qualify.verdict import qualify
from bench.record import load
from bench.tables import cut


def register(sub: Any) -> None:
    p = sub.add_parser("qualify", help=help_of("qualify"),
                       description="Judge a sitebench.result file against a TOML spec (minimum throughput "
                       "or efficiency per workload, maximum GPU and node power (the GPU rules judge GPUs only), "
                       "no throttling, MAD outliers; "
                       "for ASIC miners minimum TH/s, maximum J/TH, chips present, maximum temperature and "
                       "hardware-error rate). "
                       "Exit 1 on any FAIL, 2 on a bad spec.")
    p.add_argument("result", metavar="RESULT", help="result file")
    p.add_argument("--spec", required=True, metavar="SPEC.toml", help="qualification spec (TOML)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table


    spec = load_spec(args.spec)
    doc = load(args.result)
    gpus, nodes, fleet = qualify(doc, spec)
    table = Table(title=f"qualify {args.result} against {spec.name}")
    for col in ("kind", "unit", "verdict", "reasons / notes"):
        table.add_column(col)
    for v in [*gpus, *nodes, fleet]:
        verdict = "[green]PASS[/green]" if v.passed else "[red]FAIL[/red]"
        table.add_row(cut(v.kind), cut(v.key), verdict, escape("; ".join(v.reasons or v.notes) or "-"))
    out = console.out()
    out.print(table)
    bad = sum(not v.passed for v in [*gpus, *nodes, fleet])
    out.print(f"fleet: {'PASS' if fleet.passed else 'FAIL'} ({bad} FAIL)")
    return 1 if bad else 0

"""`sitebench leaderboard`: stored submissions ranked by work per joule."""

from __future__ import annotations

import argparse
from typing import Any

from bench import console
from bench.commands import help_of
from bench.report.leaderboard import entries, format_table


def register(sub: Any) -> None:
    p = sub.add_parser("leaderboard", help=help_of("leaderboard"),
                       description="Rank every run in the submission store per workload by work per joule "
                       "(efficiency), best first. The figure is shown as every command shows it: J/TH for "
                       "hashing and J/token for tokens (energy per unit of work, lower is better), units per "
                       "joule for other units. Declared and modelled-power figures are marked.")
    p.add_argument("dir", nargs="?", metavar="DIR", help="submission store (default results/submissions)")
    p.add_argument("--store", default="results/submissions", metavar="DIR", help=argparse.SUPPRESS)
    p.add_argument("--workload", "-w", metavar="NAME", help="only this workload")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import json


    rows = entries(args.dir or args.store, args.workload)
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], indent=2))
    else:
        console.out().print(format_table(rows))
    return 0

"""`sitebench merge SHARD... --out FLEET`: a fleet run's shards joined into one fleet result."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench import console, units
from bench.commands import help_of
from bench.errors import UsageError
from bench.miners.fleet.merge import merge, shard_paths
from bench.qualify.outliers import K_MAD, MIN_REL_GAP
from bench.record import check_writable
from bench.validation.signing import trusted_keys

DESCRIPTION = """\
Join the shards of one fleet run (miners run --shard K/N, or a Slurm job array or
Kubernetes Indexed Job of them) into one fleet result that size, plan, report,
qualify and leaderboard read: per model the fleet's average miner, and the totals
and distributions over every miner (TH/s, J/TH, missing chips, outliers by k x MAD).

Each shard must validate, its Parquet samples included (their SHA-256 and every
miner's figures recomputed from its polls; a signed shard must verify), and all must
share the run id, shard count, host list and window grid; no miner may be in two
shards. Memory holds one shard at a time. Exit 0: the fleet is complete; 1: shards
are missing (the result is written, marked incomplete, naming them); 2: bad input
(nothing is written).

examples:
  sitebench merge results/miners/slurm-4242-shard-*.json --out fleet.json
  sitebench merge shards/ --out fleet.json --k-mad 4
"""


def register(sub: Any) -> None:
    p = sub.add_parser("merge", help=help_of("merge"), description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("shards", nargs="+", metavar="SHARD", help="shard result files (or directories of them)")
    p.add_argument("--out", "-o", required=True, metavar="FLEET", help="the fleet result file to write")
    p.add_argument("--force", action="store_true", help="replace FLEET when it exists")
    p.add_argument("--k-mad", type=float, default=K_MAD, metavar="K",
                   help=f"an outlier is more than K x MAD worse than its model's median (default {K_MAD:g})")
    p.add_argument("--min-gap", type=float, default=MIN_REL_GAP, metavar="F",
                   help=f"... and at least this fraction of the median (default {MIN_REL_GAP:g})")
    p.add_argument("--keys", default="results/keys", metavar="DIR",
                   help="trusted public keys a signed shard must verify against (default results/keys)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    if not (0 < args.k_mad <= 100 and 0 <= args.min_gap <= 1):
        raise UsageError("--k-mad must be in (0, 100] and --min-gap in [0, 1]")
    out = Path(args.out)
    check_writable(out, replace=args.force)
    paths = shard_paths(args.shards)
    if any(p.resolve() == out.resolve() for p in paths):
        raise UsageError(f"merge: --out {out} is one of the shards")
    merged = merge(paths, out, keys=trusted_keys(args.keys), k_mad=args.k_mad, min_rel_gap=args.min_gap)
    fleet = merged.doc.miners_fleet
    assert fleet is not None
    t = fleet.totals
    err = console.err()
    jpth = f"{t.j_per_th:.4g} J/TH" if t.j_per_th is not None else "J/TH unknown"
    print(f"{out}: run {fleet.run_id}, {len(fleet.members)} of {fleet.shards} shard(s), {t.miners} miner(s) "
          f"({t.measured} measured, {t.usable} usable), {units.rate(t.hashrate_hs, 'hash')}, "
          f"{units.watts(t.power_w)}, {jpth}, {t.outliers} outlier(s), {t.missing_chips_miners} miner(s) short of chips")
    for note in merged.notes:
        if not note.startswith("incomplete"):
            err.print(f"note: {note}", highlight=False, markup=False)
    if merged.missing:
        err.print(f"incomplete: missing shard(s) {', '.join(f'{k}/{fleet.shards}' for k in merged.missing)}",
                  highlight=False, markup=False)
        return 1
    return 0

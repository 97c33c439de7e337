"""`sitebench fleet`: build (and run) the torchrun or srun command for a node or a fleet."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from bench.commands import help_of
from bench.errors import UsageError
from bench.run.launch import srun_cmd, torchrun_cmd


def register(sub: Any) -> None:
    p = sub.add_parser("fleet", help=help_of("fleet"),
                       description="Build the torchrun command that runs `sitebench run` on every rank; rank 0 "
                       "writes one fleet result file. --dry-run prints the command instead of running it.")
    p.add_argument("--nproc-per-node", type=int, default=1, metavar="G", help="ranks (GPUs) per node")
    p.add_argument("--nnodes", type=int, default=1, metavar="N", help="nodes")
    p.add_argument("--rdzv", metavar="HOST:PORT", help="rendezvous endpoint (multi-node without Slurm)")
    p.add_argument("--slurm", action="store_true", help="print/run the srun form for a Slurm allocation")
    p.add_argument("--dry-run", action="store_true", help="print the command and exit")
    p.add_argument("run_args", nargs=argparse.REMAINDER, help="arguments for `sitebench run` (after --)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import subprocess


    if args.nproc_per_node < 1 or args.nnodes < 1:
        raise UsageError("--nproc-per-node and --nnodes must be at least 1")
    if args.nnodes > 1 and not (args.rdzv or args.slurm):
        raise UsageError("--nnodes > 1 needs --rdzv HOST:PORT or --slurm")
    run_args = [a for a in args.run_args if a != "--"]
    cmd = (srun_cmd(run_args, nproc=args.nproc_per_node, nnodes=args.nnodes) if args.slurm
           else torchrun_cmd(run_args, nproc=args.nproc_per_node, nnodes=args.nnodes, rdzv=args.rdzv))
    if args.dry_run:
        print(shlex.join(cmd))
        return 0
    return subprocess.call(cmd)

"""`sitebench submit FILE`: validate and file a result in the submission store under its organisation."""

from __future__ import annotations

import argparse
from typing import Any

from bench.commands import help_of
from bench.store import submit


def register(sub: Any) -> None:
    p = sub.add_parser("submit", help=help_of("submit"),
                       description="Validate FILE, check its signature (when present or required) against the "
                       "trusted keys, refuse duplicates (same id or same content), and store it as "
                       "<store>/<org>/<system>/<id>.json. The organisation is the signing key's, else the "
                       "file's submitter.org, else --org; they must agree. Exit 1 when refused.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--org", help="submitting organisation, for an unsigned file that names none "
                   "(checked against the file's when it names one)")
    p.add_argument("--store", default="results/submissions", metavar="DIR")
    p.add_argument("--require-signature", action="store_true", help="only files signed by a trusted key")
    p.add_argument("--keys", default="results/keys", metavar="DIR")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    target = submit(args.file, args.org, args.store, args.keys, args.require_signature)
    print(f"stored {target}")
    return 0

"""`sitebench submit FILE --org ORG`: validate and file a result in the submission store."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("submit", help="validate a result file and add it to the submission store",
                       description="Validate FILE, refuse duplicates (same id or same content), and store it "
                       "as <store>/<org>/<system>/<id>.json. Exit 1 when refused.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--org", required=True, help="submitting organisation")
    p.add_argument("--store", default="results/submissions", metavar="DIR")
    p.add_argument("--require-signature", action="store_true", help="only files signed by a trusted key")
    p.add_argument("--keys", default="results/keys", metavar="DIR")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from bench.signing import trusted_keys
    from bench.store import submit

    keys = trusted_keys(args.keys) if args.require_signature else None
    target = submit(args.file, args.org, args.store, keys)
    print(f"stored {target}")
    return 0

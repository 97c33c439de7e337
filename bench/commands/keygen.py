"""`sitebench keygen --out DIR --org NAME`: a new Ed25519 key pair for signing result files."""

from __future__ import annotations

import argparse
from typing import Any

from bench.commands import help_of
from bench.errors import UsageError
from bench.store import safe_name
from bench.validation.signing import check_org, generate_keypair


def register(sub: Any) -> None:
    p = sub.add_parser("keygen", help=help_of("keygen"),
                       description="Write DIR/<org>.key (private, mode 0600) and DIR/<org>.pub (public), each "
                       "with an 'org: NAME' line before the PEM block. Give the .pub to the site; it goes into "
                       "its trusted keys directory (results/keys/).")
    p.add_argument("--out", default=".", metavar="DIR", help="directory for the key pair (default .)")
    p.add_argument("--org", metavar="NAME", help="organisation the key belongs to, written into both files "
                   "(and into submitter.org of every file signed with it)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from pathlib import Path


    d = Path(args.out)
    if not d.is_dir():
        raise UsageError(f"--out {d}: not a directory")
    org = check_org(args.org) if args.org is not None else None
    name = safe_name(org or "", "vendor")
    kid = generate_keypair(d / f"{name}.key", d / f"{name}.pub", org)
    print(f"key id {kid} ({org or 'no organisation'}): private {d / (name + '.key')}, public {d / (name + '.pub')}")
    return 0

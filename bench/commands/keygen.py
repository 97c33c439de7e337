"""`sitebench keygen NAME`: a new Ed25519 key pair for signing result files."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("keygen", help="create an Ed25519 signing key pair",
                       description="Write NAME.key (private, mode 0600) and NAME.pub (public). Give the .pub "
                       "to the site; it goes into results/keys/.")
    p.add_argument("name", metavar="NAME", help="path prefix for NAME.key and NAME.pub")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from bench.signing import generate_keypair

    kid = generate_keypair(f"{args.name}.key", f"{args.name}.pub")
    print(f"key id {kid}: private {args.name}.key, public {args.name}.pub")
    return 0

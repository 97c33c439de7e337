"""`sitebench sign FILE --key KEY`: sign a result file in place."""

from __future__ import annotations

import argparse
from typing import Any

from bench.commands import help_of
from bench.record import check_writable, load, write_result
from bench.validation.signing import sign_document


def register(sub: Any) -> None:
    p = sub.add_parser("sign", help=help_of("sign"),
                       description="Check FILE is a valid result file (a version 1 file is written as version 2), "
                       "then add an Ed25519 signature block in place.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--key", required=True, metavar="KEY", help="private key from sitebench keygen")
    p.add_argument("--out", metavar="PATH", help="write here instead of in place")
    p.add_argument("--force", action="store_true", help="replace the --out file when it exists")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    target = args.out or args.file
    check_writable(target, replace=args.force or not args.out)  # in place is what sign without --out asks
    doc = sign_document(load(args.file), args.key)
    write_result(target, doc)
    assert doc.signature is not None
    print(f"signed {target} with key {doc.signature.key_id}")
    return 0

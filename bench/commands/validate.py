"""`sitebench validate FILE...`: check result files; exit 1 on any finding."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("validate", help="check result files (schema, raw-sample consistency, signature)",
                       description="Run every registered check on each FILE and print one line per problem "
                       "naming the file and JSON path. Exit 1 when any file fails.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--require-signature", action="store_true", help="fail unless signed by a trusted key")
    p.add_argument("--keys", default="results/keys", metavar="DIR", help="trusted public keys (default results/keys)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bench.errors import CheckFailed
    from bench.signing import trusted_keys, verify_document
    from bench.validation import validate_file

    keys = trusted_keys(args.keys) if args.require_signature else {}
    failed = 0
    for path in args.files:
        doc, findings = validate_file(path)
        lines = [f.line(path) for f in findings]
        if doc is not None and not findings and (args.require_signature or doc.get("signature")):
            if args.require_signature:
                try:
                    verify_document(doc, keys, Path(path).read_text(encoding="utf-8"))
                except CheckFailed as exc:
                    lines.append(f"{path}: {exc} [signature]")
        for line in lines:
            print(line)
        if lines:
            failed += 1
        else:
            kind = "declared (not measured, not verified)" if doc and doc.get("source") == "declared" else "measured"
            print(f"{path}: ok ({kind}{', signature ok' if args.require_signature else ''})")
    return 1 if failed else 0

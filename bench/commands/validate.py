"""`sitebench validate FILE|DIR...`: check result files; exit 1 on any finding."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("validate", help="check result files (schema, consistency, plausibility, signature)",
                       description="Run every registered check on each FILE (or every *.json under DIR) and print "
                       "one line per problem naming the file and JSON path (a check that could not run says so "
                       "in a 'note:' line, which does not fail the file). A present signature is checked "
                       "against the trusted keys. Exit 1 when any file fails.")
    p.add_argument("files", nargs="+", metavar="FILE|DIR")
    p.add_argument("--require-signature", action="store_true", help="fail unless signed by a trusted key")
    p.add_argument("--keys", default="results/keys", metavar="DIR", help="trusted public keys (default results/keys)")
    p.set_defaults(func=main)


def _expand(items: list[str]) -> list[Path]:
    out: list[Path] = []
    for item in items:
        p = Path(item)
        out.extend(sorted(q for q in p.rglob("*.json") if q.is_file() and not q.is_symlink()) if p.is_dir() else [p])
    return out


def main(args: argparse.Namespace) -> int:
    from bench.errors import CheckFailed
    from bench.signing import trusted_keys, trusted_orgs, verify_document
    from bench.validation import validate_file
    from bench.validation.core import errors, read_text

    keys, orgs = trusted_keys(args.keys), trusted_orgs(args.keys)
    failed = 0
    for path in _expand(args.files):
        doc, findings = validate_file(path)
        for note in (f for f in findings if f.level != "error"):
            print(note.line(str(path)))
        findings = errors(findings)
        lines = [f.line(str(path)) for f in findings]
        signer = ""
        if doc is not None and not findings and (args.require_signature or doc.get("signature") is not None):
            try:
                kid = verify_document(doc, keys, read_text(path))
                signer = f", signed by a trusted key ({orgs.get(kid, 'no organisation named')})"
            except CheckFailed as exc:
                lines.append(f"{path}: {exc} [signature]")
        for line in lines:
            print(line)
        if lines:
            failed += 1
        else:
            kind = "declared (not measured, not verified)" if doc and doc.get("source") == "declared" else "measured"
            print(f"{path}: ok ({kind}{signer or ', unsigned'})")
    return 1 if failed else 0

"""`sitebench validate FILE|DIR...`: check result files; exit 1 on any finding."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.builtin import resolve
from bench.commands import help_of
from bench.errors import CheckFailed, UsageError
from bench.record import read_text
from bench.tables import printable
from bench.validation import errors, validate_file
from bench.validation.signing import trusted_keys, trusted_orgs, verify_document


def register(sub: Any) -> None:
    p = sub.add_parser("validate", help=help_of("validate"),
                       description="Check each FILE (or every *.json under DIR): read strictly (no key twice, no "
                       "NaN), type every field against the schema (bounded numbers and strings), recompute every "
                       "derived figure from the raw samples, run the plausibility checks, and check a signature "
                       "against the trusted keys whenever the file has one (or --require-signature). Prints one "
                       "line per problem naming the file and JSON path, then the verdict with the file's version "
                       "and power basis. Exit 1 when any file fails, 2 when there is nothing to check.")
    p.add_argument("files", nargs="+", metavar="FILE|DIR")
    p.add_argument("--require-signature", action="store_true", help="fail unless signed by a trusted key")
    p.add_argument("--keys", default="results/keys", metavar="DIR", help="trusted public keys (default results/keys)")
    p.set_defaults(func=main)


def expand(items: list[str]) -> list[Path]:
    """The files named (``builtin:declared/NAME`` as the shipped file), and every ``*.json`` under the directories named.

    Raises:
        UsageError: a name that does not exist, or nothing to check at all.
    """

    out: list[Path] = []
    for item in items:
        p = resolve(item)
        if p.is_dir():
            found = sorted(q for q in p.rglob("*.json") if q.is_file() and not q.is_symlink())
            if not found:
                raise UsageError(f"{p}: no *.json result file in this directory")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise UsageError(f"{p}: no such file or directory")
    return out


def safe(text: str) -> str:
    """A line any terminal or pipe can take: control and format characters and lone surrogates escaped."""

    return printable(text)


def basis(doc: Any) -> str:
    """What the file's power rests on: declared, MODELLED, measured, or no measured run at all."""
    if doc.declared:
        return "declared: not measured, not verified"
    ok = [r for r in doc.runs if r.power.avg_w is not None and (r.ok or r.throughput.samples)]
    if not ok:
        statuses = sorted({r.status for r in doc.runs}) or ["no runs"]
        return f"no measured run: {', '.join(statuses)}"
    busy = sum(1 for r in ok if r.contention is not None and r.contention.contended)
    contended = f", CONTENDED: {busy} of {len(ok)} run(s) on a busy machine" if busy else ""
    if any(r.power.modelled for r in ok):
        return ("MODELLED power" if all(r.power.modelled for r in ok) else "measured, some power MODELLED") + contended
    return "measured" + contended


def main(args: argparse.Namespace) -> int:
    paths = expand(args.files)
    keys, orgs = trusted_keys(args.keys), trusted_orgs(args.keys)
    failed = 0
    for path in paths:
        result = validate_file(path)
        lines = [f.line(str(path)) for f in result.findings]
        doc = result.doc
        signer = ", unsigned"
        text = read_text(path) if result.version is not None else ""
        if args.require_signature or (doc.signature is not None if doc is not None else '"signature"' in text):
            try:
                kid = verify_document(text, keys)
                signer = f", signed by {orgs.get(kid, 'a trusted key (no organisation named)')}"
            except CheckFailed as exc:
                lines.append(f"{path}: {exc} [signature]")
                signer = ", signature NOT verified"
        for line in lines:
            print(safe(line))
        bad = bool(errors(result.findings)) or doc is None or signer == ", signature NOT verified"
        failed += bad
        if not bad and doc is not None:
            print(safe(f"{path}: ok ({result.version}; {basis(doc)}{signer})"))
    return 1 if failed else 0

"""`sitebench recover JOURNAL [--out FILE]`: a result file from the journal of a run that was killed."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import bench.miners.record.recovery  # noqa: F401  (registers the miners journal)
from bench.commands import help_of
from bench.errors import UsageError
from bench.measure.recover import default_out, recover
from bench.record import check_writable, write_result

DESCRIPTION = """\
A run writes <out>.journal.jsonl as it measures: every power reading, every phase
marker, and each run's record the moment the run completes. When the run is
killed (SIGKILL, a crash, a power cut), recover rebuilds a valid result file from
it: completed runs exactly as recorded, the run in progress as "interrupted" with
the windows it completed. The journal is left where it is.

examples:
  sitebench recover results/runs/r.json.journal.jsonl
  sitebench recover r.json.20261125T101500Z.journal.jsonl --out r.json
"""


def register(sub: Any) -> None:
    p = sub.add_parser("recover", help=help_of("recover"),
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("journal", metavar="JOURNAL", help="the <out>.journal.jsonl a killed run left")
    p.add_argument("--out", "-o", metavar="FILE", help="result file (default: the run's own --out, or "
                   "<out>.recovered.json when that exists)")
    p.add_argument("--force", action="store_true", help="replace the --out file when it exists")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    journal = Path(args.journal)
    if not journal.is_file():
        raise UsageError(f"{journal}: no such journal")
    out = Path(args.out) if args.out else default_out(journal)
    check_writable(out, replace=args.force)
    doc, skipped = recover(journal)
    write_result(out, doc)
    status = ", ".join(f"{r.workload} {r.status}" for r in doc.runs) or "no runs"
    print(f"recovered {out}: {len(doc.runs)} run(s) ({status})"
          + (f"; {skipped} cut-short line(s) skipped" if skipped else ""))
    return 0

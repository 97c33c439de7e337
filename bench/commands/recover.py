"""`sitebench recover JOURNAL [--out FILE]`: a result file from the journal of a run that was killed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import bench.miners.fleet.recovery  # noqa: F401  (registers a shard's journal: its samples written again)
import bench.miners.record.recovery  # noqa: F401  (registers the miners journal)
import bench.power.knobs.open  # noqa: F401  (registers the machine's knobs for reopening)
from bench.commands import help_of
from bench.errors import UsageError
from bench.measure.journal import MAX_JOURNAL_BYTES, MAX_LINE_BYTES
from bench.measure.journalfile import Limits
from bench.measure.recover import default_out, recover, report
from bench.power.knobs.guard import pending, restore_journaled
from bench.record import check_writable, write_result

DESCRIPTION = f"""\
A run writes <out>.journal.jsonl as it measures: every power reading, every phase
marker, and each run's record the moment the run completes. When the run is
killed (SIGKILL, a crash, a power cut), recover rebuilds a valid result file from
it: completed runs exactly as recorded, the run in progress as "interrupted" with
the windows it completed. The journal is left where it is. A shard of a fleet
run (miners run --shard) comes back as a shard: its Parquet samples are written
again beside the file from the journal's polls, so it validates and merges.

Every line carries a sequence number and a checksum, so damage is known, not
guessed. A damaged line is reported by its line number; a completed run whose
record is damaged or missing is rebuilt from its windows, readings and markers
and says so (metrics.recovered). Journals from before checksums recover unchecked.
A line longer than --max-line-bytes ({MAX_LINE_BYTES} by default), nested deeper
than 32 levels or not strict JSON is damage; reading stops at --max-bytes
({MAX_JOURNAL_BYTES} by default) and the rest is reported.

A run that swept a knob (run --power-limit, miners run --power-target) journaled
each knob's original value before changing it. Every knob the journal shows
changed and not put back is restored first, one line each; a knob whose device
cannot be reached is named, with why.

exit codes: 0 the file was written, nothing was lost (a last line cut short
by the crash was never complete, and is not a loss) and every knob is back;
1 a line was damaged or missing, something was lost (one line each, then what
was kept and lost), a knob could not be restored, or the file is not a
journal; 2 usage error.

examples:
  sitebench recover results/runs/r.json.journal.jsonl
  sitebench recover r.json.20261125T101500Z.journal.jsonl --out r.json
"""


def _bytes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of bytes, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("expected at least 1 byte")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser("recover", help=help_of("recover"),
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("journal", metavar="JOURNAL", help="the <out>.journal.jsonl a killed run left")
    p.add_argument("--out", "-o", metavar="FILE", help="result file (default: the run's own --out, or "
                   "<out>.recovered.json when that exists)")
    p.add_argument("--force", action="store_true", help="replace the --out file when it exists")
    p.add_argument("--max-line-bytes", type=_bytes, default=MAX_LINE_BYTES, metavar="N",
                   help=f"longest journal line read (default {MAX_LINE_BYTES}, a result file's own limit)")
    p.add_argument("--max-bytes", type=_bytes, default=MAX_JOURNAL_BYTES, metavar="N",
                   help=f"most of the journal read (default {MAX_JOURNAL_BYTES})")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    journal = Path(args.journal)
    if not journal.is_file():
        raise UsageError(f"{journal}: no such journal")
    out = Path(args.out) if args.out else default_out(journal)
    check_writable(out, replace=args.force)
    rec = recover(journal, Limits(line_bytes=args.max_line_bytes, journal_bytes=args.max_bytes))
    not_restored = restore_knobs(rec.knob_lines)
    doc = rec.document_at(out, replace=args.force)
    write_result(out, doc)
    status = ", ".join(f"{r.workload} {r.status}" + (" (rebuilt after damage)" if how == "rebuilt" else "")
                       for r, how in zip(rec.document.runs, rec.outcomes)) or "no runs"
    print(f"recovered {out}: {len(rec.document.runs)} run(s) ({status})")
    if doc.shard is not None:
        print(f"shard {doc.shard.k}/{doc.shard.n} of run {doc.shard.run_id}: samples {doc.shard.samples.file} "
              f"({doc.shard.samples.rows} rows) written again from the journal's polls")
    for line in report(rec, str(journal)):
        print(line, file=sys.stderr)
    return 0 if rec.clean and not not_restored else 1


#: The most knobs one journal may ask to restore (a run changes a few: GPUs, packages, miners).
MAX_KNOBS = 4096


def restore_knobs(lines: list[dict[str, object]]) -> list[str]:
    """Put back every knob the journal's ``lines`` show changed and not restored: one line each on stdout
    (``restored: gpu.power_limit on gpu:0: restored to 700.0``); the failures, each naming the device it
    could not reach, on stderr. Returns the failures."""
    todo = pending(lines)
    refused = [f"{str(x.get('label'))[:200]}: not attempted (the journal names more than {MAX_KNOBS} knobs)"
               for x in todo[MAX_KNOBS:]]
    restored, failures = restore_journaled(todo[:MAX_KNOBS])
    for line in restored:
        print(f"restored: {line}")
    for line in [*failures, *refused]:
        print(f"NOT RESTORED: {line}", file=sys.stderr)
    return [*failures, *refused]

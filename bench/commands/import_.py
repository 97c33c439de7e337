"""`sitebench import FILE`: a vLLM bench serve result or a guidellm report as a sitebench.result/2 file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench import console
from bench.commands import help_of
from bench.commands.run import default_out
from bench.errors import UsageError
from bench.record import check_writable, write_result
from bench.report.terminal import per_mw_table, power_notes, runs_table
from bench.serve.protocol.counts import MAX_TOKENS_PER_EVENT
from bench.serve.record.formats import parse_start
from bench.serve.record.importer import DEFAULT_MAX_BYTES, import_file, open_log

DESCRIPTION = """\
Turn another tool's serving benchmark into a sitebench.result/2 file that size, plan,
compare, report and validate take: a vLLM `bench serve --save-result` JSON (one run) or a
guidellm report JSON (one run per benchmark). Each becomes a "serve" run as `sitebench serve`
writes it: the steady window found by the same rule, cut into equal slices, output tokens per
slice by token time, and the tool's own figures (vLLM's keys) in its metrics.

Bounds: the file is read only up to --max-bytes, as strict JSON; every request's token count
must agree with the token chunks the file timed (vLLM: output_lens against ttft + itls; guidellm:
output_tokens against token_iterations), at most --max-tokens-per-event tokens a chunk: a file
that breaks a bound is refused in one line.

Power: only from a log of a wall meter or PDU (--power-log, read like --meter csv:LOG), joined
by wall-clock time: the log's timestamps against the benchmark's (guidellm: Unix times; vLLM:
the file's date, whole seconds, the client's local time, so +-0.5 s unless --start gives the
exact start). --meter-options passes the csv meter's options: scope=wall|node, offset=S (the
logger's clock minus the benchmark client's), accuracy=F. Without a log the runs have no power
figure: an import's power is never modelled.

examples:
  sitebench import vllm-result.json --out r.json
  sitebench import vllm-result.json --power-log pdu.csv --meter-options scope=wall,offset=-1.5 \\
      --start 2026-11-25T13:45:01.250+00:00 --base-url http://gpu-node:8000 --out r.json
  sitebench import guidellm-report.json --power-log pdu.csv --out r.json
"""


def register(sub: Any) -> None:
    p = sub.add_parser("import", help=help_of("import"),
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="FILE", help="vLLM bench serve result JSON or guidellm report JSON")
    p.add_argument("--power-log", metavar="CSV", help="wall meter or PDU log (CSV with a header, or SPEC PTDaemon)")
    p.add_argument("--meter-options", metavar="OPTS", help="csv meter options: scope=wall|node,offset=S,accuracy=F")
    p.add_argument("--start", metavar="TIME", help="wall-clock start of a vLLM benchmark (Unix seconds or ISO 8601), "
                   "instead of the file's date")
    p.add_argument("--base-url", metavar="URL", help="the server benchmarked (names the run's device endpoint:HOST)")
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, metavar="N",
                   help=f"most bytes of FILE read (default {DEFAULT_MAX_BYTES}): a larger file is refused before it is read")
    p.add_argument("--max-tokens-per-event", type=int, default=MAX_TOKENS_PER_EVENT, metavar="K",
                   help=f"most tokens one streamed chunk is believed to carry (default {MAX_TOKENS_PER_EVENT}): a "
                   "request's token count above K x the chunks the file timed refuses the file")
    p.add_argument("--out", "-o", metavar="FILE", help="result file (default: results/runs/<time>-<host>.json)")
    p.add_argument("--force", action="store_true", help="replace the --out file when it exists")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else default_out()
    check_writable(out, replace=args.force)
    if args.meter_options and not args.power_log:
        raise UsageError("--meter-options: only with --power-log")
    if not Path(args.file).is_file():
        raise UsageError(f"{args.file}: no such file")
    for option, number in (("--max-bytes", args.max_bytes), ("--max-tokens-per-event", args.max_tokens_per_event)):
        if number < 1:
            raise UsageError(f"{option} {number}: must be at least 1")
    start = parse_start(args.start) if args.start else None
    meter = open_log(args.power_log, args.meter_options) if args.power_log else None
    doc, notes = import_file(args.file, meter=meter, start=start, base_url=args.base_url, max_bytes=args.max_bytes,
                             per_event=args.max_tokens_per_event)
    write_result(out, doc)
    err = console.err()
    for note in notes:
        err.print(f"[yellow]note:[/yellow] {note}")
    console.out().print(runs_table(doc.runs, title=f"imported from {Path(args.file).name}"))
    for line in power_notes(doc.runs):
        err.print(f"[yellow]power:[/yellow] {line}")
    table, _ = per_mw_table(doc, str(out))
    console.out().print(table)
    if meter is None:
        err.print("[yellow]note:[/yellow] no --power-log: the runs have no power figure (never modelled), "
                  "so nothing here sizes a site")
    err.print(f"result file: {out}")
    return 1 if any(not r.ok for r in doc.runs) else 0

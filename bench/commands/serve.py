"""`sitebench serve`: benchmark a live OpenAI-compatible inference server, with power."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from rich.progress import Progress

from bench.commands import help_of
from bench.commands.run import default_out
from bench.console import err, out
from bench.errors import UsageError
from bench.measure.soak import check_meters, from_options
from bench.measure.stopsignals import exit_code, stop_signals
from bench.power.discovery import Policy, open_meters
from bench.power.spec import grammar_help
from bench.record import check_writable
from bench.report.terminal import per_mw_table, power_notes, runs_table, soak_lines
from bench.serve.measure.metrics import parse_goodput
from bench.serve.measure.outcome import LoadPoint, ServeSettings, prepare_sync
from bench.serve.measure.trend import TokenTrend
from bench.serve.protocol.boundary import (
    DEFAULT_DEADLINE_S,
    DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_READ_TIMEOUT_S,
    Limits,
)
from bench.serve.protocol.counts import MAX_TOKENS_PER_EVENT
from bench.serve.record import render
from bench.serve.record.session import ServePlan, execute

#: A soak's window without --window (longer where the soak would have more than 100).
SOAK_WINDOW_S = 10.0

EXAMPLES = """\
examples:
  sitebench serve --base-url http://127.0.0.1:8000 --max-concurrency 16 --num-prompts 400
  sitebench serve --base-url http://gpu-node:8000 --endpoint chat --dataset prompts.jsonl \\
      --request-rate 4,8,16 --burstiness 0.5 --goodput ttft:500,tpot:50 \\
      --meter prometheus:http://gpu-node:9400/metrics,metric=DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION,period=1 \\
      --meter redfish:https://gpu-node-bmc/redfish/v1/Chassis/1
  sitebench serve --base-url http://127.0.0.1:8000 --max-concurrency 8 --json > vllm-keys.json
  sitebench serve --base-url http://gpu-node:8000 --max-concurrency 64 --soak 2h --window 60 \
      --meter prometheus:http://gpu-node:9400/metrics,metric=DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION

Every run writes a sitebench.result/2 file (--out, default results/runs/<time>-<host>.json): one
run per load point, workload "serve", unit "token", device endpoint:HOST[:PORT]; size, plan,
compare, report and validate take it. A comma-separated --request-rate or --max-concurrency is a
sweep: one run per point. Throughput and energy per token are taken over the steady window (load
full, queue not yet draining), cut into contiguous slices; use --max-concurrency with
--request-rate inf for a closed loop that has one. Ctrl-C, SIGTERM or SIGHUP end the point in
progress as "interrupted" and the file is still written; after a kill, sitebench recover
<out>.journal.jsonl rebuilds it.

A soak (--soak 2h, 90m, 45s) sends the prompts over and over for that long once the load has filled
(a closed loop needs --max-concurrency), cuts the steady window into windows of --window seconds
(default 10, or longer so there are at most 100), and gives the token rate's and tokens per joule's
drift per hour with a 95% interval and a verdict against --drift-threshold (%/h, default 1).
"""


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help=help_of("serve"),
                       description="Stream requests to a live server (vLLM, SGLang, TensorRT-LLM, TGI, transformers "
                       "serve...), measure TTFT/TPOT/ITL/latency/throughput as vLLM's bench serve defines them, and "
                       "joules per token over the steady-state window.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-url", required=True, help="the server, e.g. http://127.0.0.1:8000 (a trailing /v1 is fine)")
    p.add_argument("--model", help="model name (default: the first one /v1/models lists)")
    p.add_argument("--endpoint", choices=("completions", "chat"), default="completions",
                   help="/v1/completions (default) or /v1/chat/completions")
    p.add_argument("--dataset", default="random:in=1024,out=128",
                   help="random:in=N,out=M (default random:in=1024,out=128) or a JSONL file of {\"prompt\" | "
                   "\"messages\", \"output_tokens\"} lines")
    p.add_argument("--num-prompts", type=int, help="requests per point (default 1000 random; a file: all its lines)")
    p.add_argument("--request-rate", default="inf", help="requests/s, or inf (default): all at once; R1,R2,... sweeps")
    p.add_argument("--burstiness", type=float, default=1.0,
                   help="gamma shape of the arrivals: 1 Poisson (default), <1 burstier, >1 more regular")
    p.add_argument("--max-concurrency", help="most requests in flight (default: no cap); C1,C2,... sweeps")
    p.add_argument("--warmup", type=int, default=0, help="warm-up requests before each point, not measured (default 0)")
    p.add_argument("--goodput", metavar="SLO", help="service level objectives in ms, e.g. ttft:500,tpot:50 (also e2el)")
    p.add_argument("--tokenizer", metavar="DIR", help="a local tokenizer to count tokens when the server reports no usage")
    p.add_argument("--seed", type=int, default=0, help="seed of prompts and arrivals (default 0)")
    p.add_argument("--timeout", type=float, default=DEFAULT_READ_TIMEOUT_S, metavar="S",
                   help=f"longest wait for the next bytes of a response (default {DEFAULT_READ_TIMEOUT_S:g} s)")
    p.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE_S, metavar="S",
                   help=f"longest one request may take, its answer read to the end (default {DEFAULT_DEADLINE_S:g} s): "
                   "a stream that never ends, or trickles, fails there")
    p.add_argument("--max-response-bytes", type=int, default=DEFAULT_MAX_RESPONSE_BYTES, metavar="N",
                   help=f"most bytes of one streamed answer (default {DEFAULT_MAX_RESPONSE_BYTES})")
    p.add_argument("--max-event-bytes", type=int, default=DEFAULT_MAX_EVENT_BYTES, metavar="N",
                   help=f"most bytes of one SSE line or event (default {DEFAULT_MAX_EVENT_BYTES})")
    p.add_argument("--max-tokens-per-event", type=int, default=MAX_TOKENS_PER_EVENT, metavar="K",
                   help=f"most tokens one streamed chunk is believed to carry (default {MAX_TOKENS_PER_EVENT}; raise it "
                   "for an engine set to stream every N tokens): a usage above K x the chunks streamed is refused")
    p.add_argument("--meter", action="append", metavar="SPEC",
                   help="power meter of the server (default: this machine's meters when the server is on loopback, "
                   f"else none; a remote server refuses meters of this machine): {grammar_help()}")
    p.add_argument("--sample-hz", dest="rate", type=float, default=10.0, metavar="HZ",
                   help="power sampling rate (default 10)")
    p.add_argument("--soak", metavar="DURATION",
                   help="send for this long once the load has filled (2h, 90m, 45s): drift per hour of tokens/s and "
                        "tokens/J with its interval and verdict")
    p.add_argument("--window", type=float, metavar="S",
                   help=f"seconds per soak window (with --soak; default {SOAK_WINDOW_S:g}, or longer so there are at "
                        "most 100)")
    p.add_argument("--drift-threshold", type=float, metavar="PCT",
                   help="a soak is stable when its drift's 95%% interval lies within +-PCT %%/h (default 1)")
    p.add_argument("--json", action="store_true", help="print the result as JSON with vLLM's keys (a list for a sweep)")
    p.add_argument("--out", "-o", metavar="FILE", help="result file (default: results/runs/<time>-<host>.json)")
    p.add_argument("--force", action="store_true", help="replace the --out file when it exists")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    p.set_defaults(func=main)


def _floats(text: str, option: str) -> list[float]:
    try:
        values = [math.inf if v.strip().lower() == "inf" else float(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"{option} {text}: expected numbers or inf, comma-separated") from None
    if not all(v > 0 for v in values):
        raise UsageError(f"{option} {text}: must be positive (or inf)")
    return values


def _ints(text: str | None, option: str) -> list[int | None]:
    if text is None:
        return [None]
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"{option} {text}: expected positive integers, comma-separated") from None
    if not all(v >= 1 for v in values):
        raise UsageError(f"{option} {text}: must be at least 1")
    return list(values)


def _check(args: argparse.Namespace) -> Path:
    """Options that need no server; the result file's path, checked writable."""
    if args.num_prompts is not None and args.num_prompts < 1:
        raise UsageError(f"--num-prompts {args.num_prompts}: must be at least 1")
    if args.warmup < 0:
        raise UsageError(f"--warmup {args.warmup}: must not be negative")
    if not args.burstiness > 0:
        raise UsageError(f"--burstiness {args.burstiness:g}: must be positive")
    for option, value in (("--timeout", args.timeout), ("--deadline", args.deadline), ("--sample-hz", args.rate)):
        if not 0 < value < math.inf:
            raise UsageError(f"{option} {value:g}: must be a positive number of seconds (or Hz)")
    for option, number in (("--max-response-bytes", args.max_response_bytes), ("--max-event-bytes", args.max_event_bytes),
                           ("--max-tokens-per-event", args.max_tokens_per_event)):
        if number < 1:
            raise UsageError(f"{option} {number}: must be at least 1")
    path = Path(args.out) if args.out else default_out()
    check_writable(path, replace=args.force)
    return path


def main(args: argparse.Namespace) -> int:
    path = _check(args)
    rates = _floats(args.request_rate, "--request-rate")
    caps = _ints(args.max_concurrency, "--max-concurrency")
    points = [LoadPoint(r, c) for c in caps for r in rates]
    if args.window is not None and args.soak is None:
        raise UsageError("--window: only with --soak DURATION (a point's windows are slices of its steady window)")
    soak = from_options(args.soak, args.window, None, args.drift_threshold, SOAK_WINDOW_S)
    if soak is not None and any(math.isinf(p.rate) and p.max_concurrency is None for p in points):
        raise UsageError("--soak with --request-rate inf needs --max-concurrency: a soak keeps that many requests in "
                         "flight for its whole length")
    settings = ServeSettings(args.base_url, model=args.model, endpoint=args.endpoint, dataset=args.dataset,
                             num_prompts=args.num_prompts, warmup=args.warmup, seed=args.seed,
                             burstiness=args.burstiness, tokenizer=args.tokenizer,
                             goodput=parse_goodput(args.goodput),
                             limits=Limits(read_timeout_s=args.timeout, deadline_s=args.deadline,
                                           max_response_bytes=args.max_response_bytes,
                                           max_event_bytes=args.max_event_bytes),
                             per_event=args.max_tokens_per_event, soak=soak)
    with stop_signals():  # a stop signal before the load starts: nothing measured, exit 128 + signal
        opened = open_meters(args.meter, Policy.server(args.base_url))
        try:
            if soak is not None:
                check_meters(soak, opened.meters, args.rate, option=f"--soak (--sample-hz {args.rate:g})")
            setup = prepare_sync(settings)  # the server, the probe and the dataset: bad input stops here
        except BaseException:
            opened.close()
            raise
    meters, notes = opened.meters, opened.notes
    for note in notes:
        err().print(f"[yellow]note:[/yellow] {note}")
    plan = ServePlan(settings, points, path, meters, args.rate, notes,
                     notes[0] if notes and not meters else "no power meter works here")
    with Progress(console=err(), transient=True, disable=args.quiet) as bars:
        def progress(point: LoadPoint, total: int) -> Any:
            task = bars.add_task(point.label, total=None if soak is not None else total)
            if soak is None:
                return lambda rec: bars.advance(task)
            trend = TokenTrend(soak.window_s, soak.threshold)  # a soak's bar shows its drift as it goes

            def advance(rec: Any) -> None:
                bars.advance(task)
                if (text := trend.add(rec)) is not None:
                    bars.update(task, description=f"{point.label} {text}")

            return advance

        result = execute(plan, setup, progress)
    measurements, doc = result.measurements, result.doc
    if args.json:
        docs = [render.vllm_json(m) for m in measurements]
        print(json.dumps(docs[0] if len(docs) == 1 else docs, indent=1, allow_nan=False))
    else:
        _tables(measurements, doc, str(result.out))
    err().print(f"result file: {result.out}")
    if result.stopped is not None:
        err().print("[red]interrupted[/red]: the result file holds every point measured so far")
        return exit_code(result.stopped)
    for run in doc.runs:
        if not run.ok:
            err().print(f"[red]failed:[/red] {run.device} {run.params.get('request_rate')} req/s, "
                        f"concurrency {run.params.get('max_concurrency')}: {run.error}")
    return 1 if any(not r.ok for r in doc.runs) else 0


def _tables(measurements: list[Any], doc: Any, path: str) -> None:
    """The vLLM-style figures of each point, the sweep, then the run and per-MW tables of `sitebench run`."""
    for m in measurements:
        out().print(render.summary_table(m))
        out().print(render.latency_table(m))
        for line in render.notes(m):
            err().print(f"[yellow]note:[/yellow] {line}")
    if len(measurements) > 1:
        out().print(render.sweep_table(measurements))
    out().print(runs_table(doc.runs, title=f"sitebench serve from {doc.system.hostname}"))
    for line in power_notes(doc.runs):
        err().print(f"[yellow]power:[/yellow] {line}")
    for line in soak_lines(doc.runs):
        out().print(f"soak: {line}", markup=False, highlight=False)
    table, modelled = per_mw_table(doc, path)
    out().print(table)
    if modelled:
        err().print("[yellow]warning:[/yellow] power was MODELLED (utilisation x TDP), not measured: "
                    "MW figures are estimates, use a real meter (--meter) before sizing a site")

"""`sitebench run`: run workloads while sampling power, write a result file, print sizing."""

from __future__ import annotations

import argparse
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import console, devices
from bench.commands import help_of
from bench.errors import UsageError
from bench.measure.stopsignals import exit_code
from bench.power.discovery import Policy, open_meters
from bench.power.spec import grammar_help
from bench.power.thermal.spec import grammar_help as thermal_help
from bench.power.thermal.spec import open_thermal
from bench.record import check_writable
from bench.report import write_report
from bench.report.terminal import per_mw_table, power_notes, runs_table, soak_lines
from bench.run.all_devices import run_all_devices
from bench.run.ranks import env_fleet, join, rank_device
from bench.run.session import RunPlan, execute
from bench.run.soak import check_capacity, plan_soak, soak_timing
from bench.run.suite import build_specs, timing_for
from bench.run.sweep import plan_sweep
from bench.validation.signing import check_private_key

DESCRIPTION = """\
Run workloads on one device while sampling power, then write a sitebench.result/2
file and print what one MW buys. Each workload is verified against an
independent reference before it is timed; one that fails is never timed.

Phases per workload: idle baseline, setup, verify, warm-up, REPEATS measured
windows of WINDOW seconds (power and throughput from the same windows), idle tail.

examples:
  sitebench run                                   CPU suite, ci preset
  sitebench run --workload sha256d --preset full  qualification size
  sitebench run --workload llm-decode --param batch=4 --repeats 5
  sitebench run -w llm-decode --param batch=1,4,16 batch sweep: one run per value
  sitebench run --meter rapl --meter model --out r.json
  sitebench run --meter nvml --meter redfish:https://bmc/redfish/v1/Chassis/1 --sample-hz 20
  sitebench run -d cuda:0 -w llm-decode --power-limit 300,400,500,max   a run per GPU power limit
  sitebench run --power-limit 60:120:20 --settle 2   CPU package limit (RAPL), 60 to 120 W
  sitebench run -d cuda --sm-clocks 1200,1500,unlocked                    locked SM clocks
  sitebench run -d cuda:0 -w llm-decode --preset full --soak 2h            drift per hour, throttled time

A sweep (--power-limit, --sm-clocks) changes the machine: it needs root or
CAP_SYS_ADMIN, checks every point against the device's own range before
changing anything, journals the original value, and puts it back at the end,
on Ctrl-C, SIGTERM, SIGHUP and any error; after a SIGKILL, sitebench recover
JOURNAL puts it back.

A soak (--soak 2h, 90m, 45s) measures each run in consecutive windows for that
long (--window S each; default the preset's, or longer so there are at most 100)
and gives its throughput and efficiency drift per hour with a 95% interval, a
verdict against --drift-threshold (stable, drifting or inconclusive), and the time
each GPU spent throttled with the reasons.
"""


def register(sub: Any) -> None:
    p = sub.add_parser("run", help=help_of("run"),
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", "-w", action="append", metavar="NAME",
                   help="workload to run (repeatable; default: the built-in suite for the device)")
    p.add_argument("--device", "-d", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    p.add_argument("--preset", "-p", default="ci", help="parameter and timing preset: ci or full (default: ci)")
    p.add_argument("--param", action="append", default=[], metavar="[WORKLOAD.]KEY=VALUE",
                   help="override a workload parameter (repeatable); a comma-separated numeric value "
                        "is a sweep, one run per value (a point that fails is recorded and the sweep goes on)")
    p.add_argument("--idle", type=float, metavar="S", help="idle baseline seconds before each workload")
    p.add_argument("--warmup", type=float, metavar="S", help="warm-up seconds")
    p.add_argument("--window", type=float, metavar="S", help="seconds per measured window")
    p.add_argument("--repeats", type=int, metavar="N", help="number of measured windows")
    p.add_argument("--soak", metavar="DURATION",
                   help="measure each run in consecutive windows for this long (2h, 90m, 45s, 1h30m): drift per "
                        "hour with its interval and verdict, time throttled and why")
    p.add_argument("--drift-threshold", type=float, metavar="PCT",
                   help="a soak is stable when its drift's 95%% interval lies within +-PCT %%/h (default 1)")
    p.add_argument("--meter", action="append", metavar="SPEC",
                   help=f"power meter to use (default: every meter that works here): {grammar_help()}")
    p.add_argument("--thermal", action="append", metavar="SPEC",
                   help=f"temperature source read beside power, per window: {thermal_help()}")
    p.add_argument("--sample-hz", "--rate", dest="rate", type=float, default=10.0, metavar="HZ",
                   help="power sampling rate (default: 10; raised where a counter would wrap between polls)")
    p.add_argument("--out", "-o", metavar="FILE", help="result file (default: results/runs/<time>-<host>.json)")
    p.add_argument("--force", action="store_true", help="replace the --out file (and its --report) when it exists")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    p.add_argument("--sign", metavar="KEY", help="sign the result file with this Ed25519 private key (sitebench keygen)")
    p.add_argument("--report", action="store_true",
                   help="also write a self-contained HTML report next to the result file (its name with .html)")
    p.add_argument("--power-limit", metavar="W,W,..|LOW:HIGH:STEP",
                   help="sweep the power limit: the GPU's on --device cuda*, the CPU package limit (RAPL) on cpu; "
                        "one run per point and workload; words: max, min, stock (the device's default); "
                        "the original limit is put back at the end")
    p.add_argument("--sm-clocks", metavar="MHZ,..|LOW:HIGH:STEP",
                   help="sweep locked GPU SM clocks (MHz; 'unlocked' lets the GPU choose); put back at the end")
    p.add_argument("--settle", type=float, metavar="S",
                   help="seconds to wait after each change before the warm-up (default: the knob's own)")
    p.add_argument("--all-devices", action="store_true",
                   help="one process per local GPU (torchrun --standalone), one shared window; needs CUDA GPUs")
    p.set_defaults(func=main)


def default_out() -> Path:
    """``results/runs/<UTC time>-<host>.json`` under the current directory."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out, n = Path("results") / "runs" / f"{stamp}-{socket.gethostname()}.json", 1
    while out.exists():  # two runs in one second: the second gets its own file
        n += 1
        out = out.with_name(f"{stamp}-{socket.gethostname()}-{n}.json")
    return out


def plan(args: argparse.Namespace) -> RunPlan:
    """Everything checked before anything is measured: options, workloads, meters, the output path."""
    if not args.rate > 0:
        raise UsageError(f"--sample-hz {args.rate}: must be positive")
    timing = timing_for(args.preset, idle_s=args.idle, warmup_s=args.warmup, window_s=args.window,
                        repeats=args.repeats)
    soak = plan_soak(args.soak, args.window, args.repeats, args.drift_threshold, timing)
    if soak is not None:
        timing = soak_timing(timing, soak)
    if args.sign:
        check_private_key(args.sign)
    fleet = None
    if env_fleet():
        args.device = rank_device(args.device)
        fleet = join(args.device)
    device = devices.resolve(args.device)
    specs = build_specs(args.workload, args.param, args.preset, device)
    sweep = plan_sweep(device, args.power_limit, args.sm_clocks, args.settle)
    out = Path(args.out) if args.out else default_out()
    if fleet is not None and fleet.rank:
        out = out.with_name(f"{out.name}.rank{fleet.rank}")  # only this rank's journal; rank 0 writes the file
    check_writable(out, replace=args.force)
    if args.report:
        check_writable(out.with_suffix(".html"), "--report", replace=args.force)
    opened = open_meters(args.meter, Policy.here(device))
    try:
        if soak is not None:
            check_capacity(soak, timing, opened.meters, args.rate)
        thermal = open_thermal(args.thermal)
    except BaseException:
        opened.close()
        raise
    if soak is not None:
        specs = [replace(s, soak=soak) for s in specs]
    return RunPlan(specs, timing, args.preset, out, opened.meters, opened.unavailable, args.rate, args.quiet, args.sign,
                   fleet, sweep, thermal=thermal.sources, soak=soak)


def main(args: argparse.Namespace) -> int:
    if args.all_devices:
        return run_all_devices()
    p = plan(args)
    err = console.err()
    if not p.meters:
        err.print("[yellow]warning:[/yellow] no power meter works here; power figures will be missing")
    for u in p.unavailable:
        if "permission denied" in u.reason:
            err.print(f"[yellow]warning:[/yellow] meter {u.name} unavailable: {u.reason}")
    result = execute(p)
    doc = result.doc
    if doc is None:
        return exit_code(result.stopped) if result.stopped else 1 if result.not_restored else 0
    out = console.out()
    out.print(runs_table(doc.runs, title=f"sitebench {args.preset} run on {doc.system.hostname}"))
    for line in power_notes(doc.runs):
        err.print(f"[yellow]power:[/yellow] {line}")
    for line in soak_lines(doc.runs):
        out.print(f"soak: {line}", markup=False)
    table, modelled = per_mw_table(doc, str(result.out))
    out.print(table)
    if modelled:
        err.print("[yellow]warning:[/yellow] power was MODELLED (utilisation x TDP), not measured: "
                  "MW figures are estimates, use a real meter (--meter) before sizing a site")
    err.print(f"result file: {result.out}")
    if args.report:
        err.print(f"report: {write_report([(str(result.out), doc)], result.out.with_suffix('.html'))}")
    if result.stopped is not None:
        err.print("[red]interrupted[/red]: the result file holds every run measured so far")
        return exit_code(result.stopped)
    failed = [r for r in doc.runs if not r.ok or not r.verified]
    for r in failed:
        err.print(f"[red]failed:[/red] {r.workload} on {r.device}: {r.error}")
    for r in doc.runs:
        for note in r.setting.notes if r.setting is not None and r.setting.over_limit else []:
            if note.startswith("OVER LIMIT"):
                err.print(f"{r.workload} on {r.device}: {note}", markup=False, style="yellow")
    return 1 if failed or result.not_restored else 0

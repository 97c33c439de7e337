"""`sitebench run`: run workloads while sampling power, write a result file, print sizing."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import socket
import time
from pathlib import Path
from typing import Any

from bench.errors import UsageError

DESCRIPTION = """\
Run workloads on one device while sampling power, then write a sitebench.result/1
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
"""


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run workloads, sample power, write a result file",
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
    p.add_argument("--meter", action="append", metavar="NAME[:ARG]",
                   help="power meter to use (repeatable; default: every meter that works here): rapl, "
                        "nvml[:0,1], ipmi[:USER@HOST], redfish:URL[,insecure], csv:LOG[,scope=node][,offset=S], "
                        "model; `sitebench list` says which work here")
    p.add_argument("--sample-hz", "--rate", dest="rate", type=float, default=10.0, metavar="HZ",
                   help="power sampling rate (default: 10; raised where a counter would wrap between polls)")
    p.add_argument("--out", "-o", metavar="FILE", help="result file (default: results/runs/<time>-<host>.json)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    p.add_argument("--sign", metavar="KEY", help="sign the result file with this Ed25519 private key (sitebench keygen)")
    p.add_argument("--report", action="store_true",
                   help="also write a self-contained HTML report next to the result file (<out>.html)")
    p.add_argument("--all-devices", action="store_true",
                   help="one process per local GPU (torchrun --standalone), one shared window; needs CUDA GPUs")
    p.set_defaults(func=main)


def _parse_params(items: list[str], names: list[str]) -> dict[str, dict[str, str]]:
    per: dict[str, dict[str, str]] = {n: {} for n in names}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise UsageError(f"--param {item!r}: expected [WORKLOAD.]KEY=VALUE")
        target, dot, key = key.rpartition(".")
        if dot and target not in per:
            raise UsageError(f"--param {item!r}: workload {target!r} is not in this run")
        for name in ([target] if dot else names):
            per[name][key] = value
    return per


def _timing(args: argparse.Namespace) -> Any:
    from bench.runner import TIMINGS

    if args.preset not in TIMINGS:
        raise UsageError(f"--preset {args.preset!r}: expected one of {', '.join(TIMINGS)}")
    timing = TIMINGS[args.preset]
    changes = {k: getattr(args, a) for k, a in
               (("idle_s", "idle"), ("warmup_s", "warmup"), ("window_s", "window"), ("repeats", "repeats"))
               if getattr(args, a) is not None}
    for key, value in changes.items():
        if value < 0 or (key in ("window_s", "repeats") and value <= 0):
            raise UsageError(f"--{key.removesuffix('_s')} {value}: must be positive")
    return dataclasses.replace(timing, **changes)


def default_out() -> Path:
    """``results/runs/<UTC time>-<host>.json`` under the current directory."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return Path("results") / "runs" / f"{stamp}-{socket.gethostname()}.json"


def build_specs(args: argparse.Namespace, device: str) -> list[Any]:
    """Workload instances with their parameters, checked before anything runs."""
    from bench.registry import all_workload_classes, create_workload
    from bench.runner import RunSpec
    from bench.workload import device_kind

    if args.workload:
        workloads = [create_workload(n) for n in args.workload]
    else:
        workloads = [c() for c in all_workload_classes() if getattr(c, "default_suite", False)]
    kind = device_kind(device)
    for wl in workloads:
        if kind not in wl.devices:
            raise UsageError(f"workload {wl.name!r} does not run on {device} (supports: {', '.join(wl.devices)})")
    params = _parse_params(args.param, [w.name for w in workloads])
    for item in args.param:
        key = item.partition("=")[0].rpartition(".")[2]
        if not any(key in w.presets.get(args.preset, {}) for w in workloads):
            raise UsageError(f"--param {item!r}: no workload in this run has a parameter {key!r}")
    specs = []
    for wl in workloads:
        own = {k: v for k, v in params[wl.name].items() if k in wl.presets.get(args.preset, {})}
        points = sweep_points(own, wl.presets.get(args.preset, {}))
        for i, point in enumerate(points):
            instance = wl if i == 0 else type(wl)()
            try:
                chosen = instance.params_for(args.preset, point)
            except ValueError as exc:
                raise UsageError(f"--param for {wl.name}: {exc}") from None
            try:
                instance.preflight(device, chosen)
            except UsageError as exc:
                if len(points) == 1:
                    raise UsageError(f"{wl.name}: {exc}") from None
                specs.append(RunSpec(instance, device, chosen, args.preset, failed=f"refused before running: {exc}"))
                continue
            specs.append(RunSpec(instance, device, chosen, args.preset))
    return specs


def sweep_points(overrides: dict[str, str], preset: dict[str, Any]) -> list[dict[str, str]]:
    """One override set per sweep point.

    A comma-separated value of a numeric parameter (``batch=1,4,16``) is a
    sweep; several swept parameters give every combination.
    """
    swept = {k: v.split(",") for k, v in overrides.items()
             if "," in v and isinstance(preset.get(k), (int, float)) and not isinstance(preset.get(k), bool)}
    for key, values in swept.items():
        if any(not v.strip() for v in values):
            raise UsageError(f"--param {key}={overrides[key]}: empty value in the sweep")
    fixed = {k: v for k, v in overrides.items() if k not in swept}
    return [{**fixed, **dict(zip(swept, combo))} for combo in itertools.product(*swept.values())]


def main(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from bench import console, devices, system
    from bench.power.discovery import discover
    from bench.power.sampler import Sampler
    from bench.resultfile import Journal, check_writable, new_document, write_result
    from bench.runner import Interrupted, run_suite, timing_dict
    from bench.tables import per_mw_table, power_notes, runs_table

    if args.rate <= 0:
        raise UsageError(f"--sample-hz {args.rate}: must be positive")
    timing = _timing(args)
    if getattr(args, "sign", None):
        from bench.signing import check_private_key
        check_private_key(args.sign)
    if getattr(args, "all_devices", False):
        from bench.fleet.node import run_all_devices
        return run_all_devices()
    from bench.fleet.dist import env_fleet
    fleet = None
    if env_fleet():
        from bench.fleet.dist import join, rank_device
        args.device = rank_device(args.device)
        fleet = join(args.device)
    device = devices.resolve(args.device)
    specs = build_specs(args, device)
    out = Path(args.out) if args.out else default_out()
    if fleet is not None and fleet.rank:
        out = out.with_name(f"{out.name}.rank{fleet.rank}")  # only this rank's journal; rank 0 writes the file
    check_writable(out)
    meters, unavailable = discover(args.meter, device=device)
    err = console.err()
    if not meters:
        err.print("[yellow]warning:[/yellow] no power meter works here; power figures will be missing")
    for u in unavailable:
        if "permission denied" in u.reason:
            err.print(f"[yellow]warning:[/yellow] meter {u.name} unavailable: {u.reason}")

    journal = Journal(out.with_name(out.name + ".journal.jsonl"))
    sampler = Sampler(meters, rate_hz=args.rate, journal=journal)
    for note in sampler.notes:
        err.print(f"[yellow]note:[/yellow] {note}")
    doc = new_document(
        system.describe(),
        settings={"preset": args.preset, "timing": timing_dict(timing), "sample_rate_hz": sampler.rate_hz,
                  "sampler_notes": sampler.notes,
                  "meters_unavailable": [{"name": u.name, "reason": u.reason} for u in unavailable]},
    )
    progress = Progress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.fields[phase]:<10}"),
                        TimeElapsedColumn(), console=err, disable=args.quiet, transient=False)

    def progress_for(spec: Any) -> Any:
        task = progress.add_task(f"{spec.workload.name} @ {spec.device}", total=1.0, phase="")
        last = [0.0]
        order = ["idle", "setup", "verify", "warmup"] + [f"window-{i}" for i in range(timing.repeats)] + ["tail"]

        def update(phase: str, fraction: float) -> None:
            now = time.monotonic()
            if now - last[0] < 0.1 and fraction < 1.0:
                return
            last[0] = now
            i = order.index(phase) if phase in order else 0
            progress.update(task, completed=(i + fraction) / len(order), phase=phase)

        return update

    interrupted = False
    sampler.start()
    try:
        with progress:
            runs = run_suite(specs, timing, sampler, progress_for)
    except Interrupted as exc:
        runs, interrupted = exc.runs, True
    finally:
        sampler.stop()
    doc["runs"] = runs
    if fleet is not None:
        fleet_doc = fleet.collect(doc)
        if fleet_doc is None:
            journal.close(remove=True)
            return 0
        doc = fleet_doc
        runs = doc["runs"]
    if getattr(args, "sign", None):
        from bench.signing import sign_document
        sign_document(doc, args.sign)
    write_result(out, doc)
    journal.close(remove=True)

    console.out().print(runs_table(runs, title=f"sitebench {args.preset} run on {doc['system']['hostname']}"))
    for note in power_notes(runs):
        err.print(f"[yellow]power:[/yellow] {note}")
    table, modelled = per_mw_table(runs)
    console.out().print(table)
    if modelled:
        err.print("[yellow]warning:[/yellow] power was MODELLED (utilisation x TDP), not measured: "
                  "MW figures are estimates, use a real meter (--meter) before sizing a site")
    err.print(f"result file: {out}")
    if getattr(args, "report", False):
        from bench.report import write_report
        err.print(f"report: {write_report([(str(out), doc)], out.with_suffix('.html'))}")
    if interrupted:
        err.print("[red]interrupted[/red]: the result file holds every run measured so far")
        return 130
    failed = [r for r in runs if r["status"] != "ok" or not r["verified"]]
    for r in failed:
        err.print(f"[red]failed:[/red] {r['workload']} on {r['device']}: {r.get('error')}")
    return 1 if failed else 0

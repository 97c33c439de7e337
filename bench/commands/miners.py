"""`sitebench miners scan|run`: find ASIC miners on the LAN and measure them through their APIs."""

from __future__ import annotations

import argparse
from typing import Any

from rich.markup import escape

from bench import console, units
from bench.commands import help_of
from bench.drift import DEFAULT_THRESHOLD
from bench.errors import UsageError
from bench.measure.soak import from_options
from bench.miners.fleet import summary as shard
from bench.miners.measure import eventloop
from bench.miners.measure.outcome import Plan
from bench.miners.measure.plausible import MAX_RATE_TOLERANCE, RATE_TOLERANCE
from bench.miners.protocol.scan import scan, targets
from bench.miners.protocol.transport import DEFAULT_TIMEOUT_S, READ_TIMEOUT_S, Limits
from bench.miners.protocol.write import PASSWORD_ENV
from bench.miners.record.session import Request, run_miners
from bench.miners.view.table import run_table
from bench.power.discovery import Policy, open_meters
from bench.power.knobs.points import parse_points
from bench.power.meters.outlets import read_map
from bench.record import check_writable
from bench.report.terminal import soak_lines

DESCRIPTION = """\
Qualify ASIC miners (Antminer stock/Braiins OS/LuxOS, Whatsminer API v2 and v3,
Avalon) over their read-only LAN APIs: cgminer-family JSON on TCP 4028, Whatsminer
API v3 on 4433. Nothing is ever written to a miner.

  scan  find miners in addresses and CIDR ranges (a range wider than /16 needs
        --force): make, model, firmware, hash rate, reported power, how reached.
  run   measure miners into a result file: hashes from each miner's counter over
        contiguous windows after its warm-up, verified against its pool shares and
        hardware errors, and bounded by its model's nameplate (+35%); power from its
        PDU outlet (--outlets), else its firmware's own figure (firmware_estimate,
        refused when implausible for the model), else nameplate J/TH x the measured
        rate (MODELLED). Read-only unless --power-target is given.

  run --power-target 2400,2800,stock   sweep each miner's power target (or its
        firmware's modes): one run per miner per point, each after --settle
        seconds, with the setting asked for and read back in the record; every
        original is journaled before the first change and put back at the end, on
        Ctrl-C, SIGTERM, SIGHUP and any error (after SIGKILL: sitebench recover).
        Needs the miners' API password in SITEBENCH_MINER_PASSWORD; every point is
        checked against each miner's own range before anything changes.

Whatever a miner sends is bounded: a reply over 1 MiB or nested over 32 levels
is refused, a request ends after --timeout however the bytes trickle, and a
miner silent for --read-timeout is cut off; each is one failure for that miner.

examples:
  sitebench miners scan 10.0.0.0/24
  sitebench miners scan 10.0.1.5 10.0.1.6:4028 --json
  sitebench miners run 10.0.1.5 10.0.1.6 --out miners.json
  sitebench miners run --hosts rack7.txt --outlets rack7-outlets.csv --window 300 --repeats 3
  sitebench miners run 10.0.1.5 --meter snmp:pdu-7,outlet=12
  sitebench miners run --hosts rack7.txt --soak 12h --window 600 --thermal snmp:pdu-7
  SITEBENCH_MINER_PASSWORD=... sitebench miners run 10.0.1.5 --power-target 2400,2800,3200,stock
"""



def register(sub: Any) -> None:
    p = sub.add_parser("miners", help=help_of("miners"),
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="miners_command", metavar="ACTION")
    scan = actions.add_parser("scan", help="find miners in addresses and CIDR ranges",
                              description="Probe every address (bounded concurrency, a per-address timeout); "
                              "print each miner found and why named addresses are not miners. Exit 0 when a "
                              "miner was found, 1 when none, 2 for bad input.")
    scan.add_argument("targets", nargs="+", metavar="CIDR|HOST[:PORT]", help="addresses, host names or ranges")
    scan.add_argument("--json", action="store_true", help="print a JSON list, one object per address probed")
    scan.add_argument("--force", action="store_true", help="allow ranges wider than /16")
    scan.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                      help=f"seconds per address, every request included (default {DEFAULT_TIMEOUT_S:g})")
    scan.add_argument("--read-timeout", type=float, default=READ_TIMEOUT_S, metavar="S",
                      help=f"seconds a miner may stay silent mid-request (default {READ_TIMEOUT_S:g}, at most --timeout)")
    scan.add_argument("--concurrency", type=int, default=256, metavar="N",
                      help="addresses probed at once (default 256)")
    scan.set_defaults(func=main_scan)
    run = actions.add_parser("run", help="measure miners into a result file",
                             description="Measure each miner (warm-up, then --repeats contiguous windows of "
                             "--window seconds from its hash counter), verify it (pool shares, hardware errors, its "
                             "model's nameplate) and write one run per miner to --out. Exit 0 when every miner was "
                             "measured and verified, 1 when one was not, 2 for bad input, 128+N when signal N "
                             "stopped it (the file is still written).")
    run.add_argument("hosts", nargs="*", metavar="HOST[:PORT]|CIDR", help="miners to measure")
    run.add_argument("--hosts", dest="hosts_file", metavar="FILE", help="a file of miners, one per line (# comments)")
    run.add_argument("--outlets", metavar="MAP.csv", help="each miner's PDU outlet: 'miner, PDU[:port], outlet"
                     "[, mib=apc, period=1]' per line (options as in --meter snmp:...); the community comes from "
                     "SNMP_COMMUNITY")
    run.add_argument("--meter", metavar="SPEC", help="the wall meter of a single miner (e.g. snmp:PDU,outlet=N)")
    run.add_argument("--thermal", action="append", metavar="SPEC",
                     help="the room's air beside the miners, as run --thermal reads it: a rack PDU's environmental "
                     "probe, snmp:PDU[:PORT][,role=inlet][,community=...] (APC, Raritan, ServerTech; or a BMC's "
                     "redfish:URL / ipmi:HOST), repeatable; its channels lead each miner's thermal block, per window, "
                     "so a soak's derating fit has the air's temperature (hwmon, this machine's CPUs, is refused)")
    run.add_argument("--warmup", type=float, default=600.0, metavar="S",
                     help="longest warm-up before the windows (default 600; ends earlier when the rate settles)")
    run.add_argument("--window", type=float, default=300.0, metavar="S", help="seconds per window (default 300)")
    run.add_argument("--repeats", type=int, metavar="N", help="windows per miner (default 3)")
    run.add_argument("--soak", metavar="DURATION", help="measure each miner in consecutive --window windows for this "
                     "long (2h, 90m, 45s): hash rate and J/TH drift per hour with its interval and verdict")
    run.add_argument("--drift-threshold", type=float, metavar="PCT",
                     help="a soak is stable when its drift's 95%% interval lies within +-PCT %%/h (default 1)")
    run.add_argument("--period", type=float, default=5.0, metavar="S", help="seconds between polls (default 5)")
    run.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                     help=f"seconds per request, however the reply comes (default {DEFAULT_TIMEOUT_S:g}; a poll gets at most "
                     "0.9 x --period in all)")
    run.add_argument("--read-timeout", type=float, default=READ_TIMEOUT_S, metavar="S",
                     help=f"seconds a miner may stay silent mid-request (default {READ_TIMEOUT_S:g}, at most --timeout)")
    run.add_argument("--rate-tolerance", type=float, default=RATE_TOLERANCE, metavar="F",
                     help=f"how far over its model's nameplate a miner's measured rate may be before its window is "
                     f"refused as implausible (default {RATE_TOLERANCE:g}: +{RATE_TOLERANCE * 100:.0f}%%; at most "
                     f"{MAX_RATE_TOLERANCE:g}; recorded in each run)")
    run.add_argument("--force", action="store_true", help="allow ranges wider than /16; replace the --out file when it exists")
    run.add_argument("--out", "-o", metavar="FILE", help="result file (default results/miners/<time>-miners.json)")
    run.add_argument("--shard", metavar="K/N", help="measure shard K of N of the hosts (every N-th in hash order, "
                     "K from 0; 'auto': from the Slurm job array or Kubernetes Indexed Job, which is also used when "
                     "--shard is left out: JOB_COMPLETION_INDEX with SITEBENCH_SHARDS set to the Job's completions); "
                     "samples go to Parquet beside --out, for sitebench merge")
    run.add_argument("--run-id", metavar="ID", help="the id the shards of one fleet run share (default "
                     "SITEBENCH_RUN_ID, else slurm-SLURM_ARRAY_JOB_ID)")
    run.add_argument("--samples", choices=("auto", "json", "parquet"), default="auto",
                     help="where the per-poll samples go: auto (default) = Parquet for a shard, else the JSON file")
    run.add_argument("--power-target", metavar="LIST", dest="power_target",
                     help="SWEEP each miner's power target: W values, 'stock'/'max'/'min', LOW:HIGH:STEP, or the "
                     "firmware's modes, comma-separated (e.g. 2400,2800,3200,stock); every original is put back "
                     f"(password from {PASSWORD_ENV})")
    run.add_argument("--settle", type=float, metavar="S",
                     help="seconds to wait after each change before the warm-up (default: the knob's own, minutes "
                     "for miners)")
    run.add_argument("--set-power-target", type=int, metavar="W", dest="set_power_target",
                     help="deprecated: --power-target W (the target is now put back after the run)")
    run.set_defaults(func=main_run)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _row(result: Any) -> dict[str, Any]:
    ident, poll = result.identity, result.poll
    row: dict[str, Any] = {"address": result.target.host if result.target.port is None
                           else f"{result.target.host}:{result.target.port}",
                           "found": ident is not None, "seconds": round(result.seconds, 3)}
    if ident is None:
        return {**row, "error": result.error}
    rates = poll.rates_hs
    return {**row, "make": ident.make, "model": ident.model, "firmware": ident.firmware, "serial": ident.serial,
            "protocol": ident.protocol, "family": ident.family, "port": ident.port,
            "hashrate_hs": rates.get("5s", rates.get("realtime", rates.get("av"))), "power_w": poll.power_w,
            "power_source": poll.power_source, "chips": poll.chips, "chips_expected": poll.chips_expected,
            "boards": len(poll.boards), "elapsed_s": poll.elapsed_s}


def _reached(row: dict[str, Any]) -> str:
    api = {"cgminer": "cgminer API", "whatsminer-v3": "Whatsminer API v3"}.get(row["protocol"], row["protocol"])
    if row["family"] == "whatsminer" and row["protocol"] == "cgminer":
        api = "Whatsminer API v2"
    return f"{api} :{row['port']}"


def main_scan(args: argparse.Namespace) -> int:
    import json
    import time

    from rich.table import Table


    t0 = time.monotonic()
    if not args.read_timeout > 0:
        raise UsageError("--read-timeout must be positive")
    results = eventloop.run(scan(args.targets, force=args.force, concurrency=args.concurrency,
                                 timeout_s=args.timeout, limits=Limits(read_timeout_s=args.read_timeout)))
    seconds = time.monotonic() - t0
    rows = [_row(r) for r in results]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0 if any(r["found"] for r in rows) else 1
    table = Table(title=f"Miners found ({len(rows)} addresses in {seconds:.1f} s)", title_justify="left")
    for col in ("address", "make", "model", "firmware", "hash rate", "power", "chips", "reached through"):
        table.add_column(col, justify="right" if col in ("hash rate", "power", "chips") else "left")
    failures = []
    for r, res in zip(rows, results):
        if r["found"]:
            chips = "-" if r["chips"] is None else f"{r['chips']}" + (f"/{r['chips_expected']}" if r["chips_expected"] else "")
            power = units.watts(r["power_w"]) + ("" if r["power_w"] is None else " (firmware)")
            table.add_row(r["address"], r["make"], r["model"], r["firmware"], units.rate(r["hashrate_hs"], "hash"),
                          power, chips, _reached(r))
        elif res.target.named or not (res.refused or "no answer" in (r["error"] or "")):
            error = str(r["error"])
            failures.append(f"  {error}" if error.startswith(res.target.host) else f"  {r['address']}: {error}")
    found = sum(r["found"] for r in rows)
    refused = sum(1 for res in results if res.refused)
    console.out().print(table)
    console.out().print(f"{found} miner(s); {refused} address(es) refused the connection, "
                        f"{len(rows) - found - refused} did not answer or are not miners"
                        + ("; why these are not miners:" if failures else ""))
    for line in failures:
        console.out().print(line, markup=False)
    return 0 if found else 1


def _specs(args: argparse.Namespace) -> list[str]:
    specs = list(args.hosts)
    if args.hosts_file:
        from pathlib import Path

        try:
            text = Path(args.hosts_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--hosts {args.hosts_file}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
        specs += [w for line in text.splitlines() for w in line.split("#", 1)[0].split()]
    if not specs:
        raise UsageError("no miner given: name them (HOST[:PORT] or CIDR) or give --hosts FILE")
    return specs


def request(args: argparse.Namespace) -> Any:
    """Everything checked before anything is asked of a miner: hosts, numbers, --out, the outlet map, meters."""
    import time
    from pathlib import Path


    specs = _specs(args)
    targets(specs, force=args.force)  # every spec checked now (a range over /16 needs --force)
    soak = from_options(args.soak, args.window, args.repeats, args.drift_threshold, args.window)
    args.repeats = soak.windows if soak is not None else 3 if args.repeats is None else args.repeats
    if not (args.period > 0 and args.window >= 2 * args.period and args.warmup >= 0 and args.repeats >= 1
            and args.timeout > 0 and args.read_timeout > 0):
        raise UsageError("need --period > 0, --window >= 2 x --period, --warmup >= 0, --repeats >= 1, --timeout > 0, "
                         "--read-timeout > 0")
    if not 0 <= args.rate_tolerance <= MAX_RATE_TOLERANCE:
        raise UsageError(f"--rate-tolerance {args.rate_tolerance:g}: must be 0..{MAX_RATE_TOLERANCE:g} (a 2x lie must "
                         "not pass)")
    fleet = shard.from_args(args, specs)  # None: not a shard of a fleet run
    specs = fleet.specs if fleet is not None else specs
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = Path(args.out) if args.out else shard.default_out(fleet.run_id, fleet.shard) if fleet is not None \
        else Path("results") / "miners" / f"{stamp}-miners.json"
    check_writable(out, replace=args.force)
    req = Request(specs, Plan(period_s=args.period, warmup_s=args.warmup, window_s=args.window, repeats=args.repeats,
                              rate_tolerance=args.rate_tolerance, aligned=fleet is not None,
                              soak_s=soak.requested_s if soak else None,
                              drift_threshold=soak.threshold if soak else DEFAULT_THRESHOLD),
                  out, force=args.force, timeout_s=args.timeout, limits=Limits(read_timeout_s=args.read_timeout),
                  sink=shard.bind(fleet, out, force=args.force) if fleet is not None else None)
    if args.outlets and args.meter:
        raise UsageError("--outlets gives every miner its meter: leave out --meter")
    if args.outlets:

        req.outlet_map = read_map(args.outlets)
    if args.meter:

        if len(specs) != 1 or "/" in specs[0]:
            raise UsageError("--meter measures one miner: for several, map their outlets with --outlets MAP.csv")
        opened = open_meters({specs[0]: args.meter}, Policy.wall("miner"))
        if specs[0] in opened.failed:
            opened.close()
            raise UsageError(f"--meter: {opened.failed[specs[0]]}")
        req.wall_meter = opened.by_machine[specs[0]]
    if args.set_power_target is not None:
        if args.power_target is not None:
            raise UsageError("--set-power-target is the old spelling of --power-target: give one of them")
        console.err().print(f"[yellow]note:[/yellow] --set-power-target is deprecated: use --power-target "
                            f"{args.set_power_target} (the target is now put back after the run)", highlight=False)
        args.power_target = str(args.set_power_target)
    if args.settle is not None and (args.power_target is None or not 0 <= args.settle <= 86400):
        raise UsageError("--settle needs --power-target, and 0..86400 seconds")
    if args.power_target is not None:
        req.points, req.settle_s = parse_points("--power-target", args.power_target), args.settle
    if args.thermal:
        req.thermal = _room(args.thermal, fleet is not None, req.wall_meter)
    return req


def _room(specs: list[str], sharded: bool, opened: Any) -> list[Any]:
    """The ``--thermal`` sources, opened last (nothing else is left open when one cannot be)."""
    from bench.power.thermal.spec import ThermalSpec, open_thermal

    try:
        if sharded:
            raise UsageError("--thermal: a shard's result leaves temperatures to its samples, which hold no probe "
                             "readings: read the room's air in an unsharded miners run")
        for spec in specs:
            if spec.strip() != "none" and ThermalSpec.parse(spec, where="--thermal").name == "hwmon":
                raise UsageError(f"--thermal {spec}: hwmon reads this machine's CPU packages, not the miners' air: "
                                 "name the rack PDU's probe (snmp:PDU) or a BMC")
        return open_thermal(specs).sources
    except BaseException:
        if opened is not None:
            opened.close()
        raise


def main_run(args: argparse.Namespace) -> int:

    req = request(args)
    for line in req.sink.said if req.sink is not None else []:
        console.err().print(line, highlight=False, markup=False)
    try:
        outcome = eventloop.run(run_miners(req))
    except BaseException:
        if req.sink is not None:
            req.sink.abort()
        raise
    doc = outcome.doc
    console.out().print(run_table(doc))
    for line in soak_lines(doc.runs):
        console.out().print(f"soak: {line}", markup=False, highlight=False)
    err = console.err()
    err.print(f"result file: {outcome.out}", highlight=False)
    for line in outcome.not_restored:
        err.print(f"[red]NOT PUT BACK[/red]: {escape(line)}", highlight=False)
    if outcome.not_restored:
        err.print(f"the journal is kept: sitebench recover {outcome.out}.journal.jsonl tries again", highlight=False)
    if outcome.signum is not None:
        err.print("[red]interrupted[/red]: the result file holds every miner measured so far")
        return 128 + outcome.signum
    failed = [r for r in doc.runs if not r.ok or not r.verified]
    return 1 if failed or outcome.not_restored else 0

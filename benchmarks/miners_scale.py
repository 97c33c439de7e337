"""Scale benchmark: simulated miners on loopback, one poller over all of them, then the fleet in shards and merged.

The miners (stock Antminers, real TCP on 127.28.x.y:4028) run in separate processes (``--sim-processes``),
each in a session of its own, as is each shard (Linux's autogroup scheduler shares the CPU between sessions:
the simulator, standing for the miners' own hardware, does not take the poller's share); with ``--priority``
(the default; root) their sessions and this one get an autogroup nice of -10, as if each had the core of its
own that a Slurm task or a pod gets, so a shared machine's other work does not starve them (the figures are
CPU time, which priority does not change). Every figure is sitebench's own:

1. **One poller** (in this process): a scan, then ``--miners`` polled every ``--period`` for
   ``--poll-seconds``: this process's CPU over that time (as a share of one core, user and system), the
   samples the schedule owed against those recorded (a timeout or refusal is a recorded failure; a lost
   sample is one never recorded; a late one is a tick the loop could not start within a period).
   Target (issue 27): 10,000 miners at 5 s under one core, none lost, none failed.
2. **Shards** (``--shards N``, 0 to skip): N ``sitebench miners run --shard K/N`` processes over the same
   miners (short warm-up and windows, ``--window``), as a Slurm array or an Indexed Job runs them: each
   poller's CPU from psutil between its first and last poll, its samples lost (ticks without a row, failed
   rows) from its Parquet file, Parquet bytes per miner-hour, and ``sitebench merge``'s wall time and peak
   memory (its own, through wait4).
3. **570,000 miners** (2,000 MW of 3.5 kW miners): pollers needed and storage per qualification hour,
   from the figures above, with the arithmetic printed.

Not a test. ``--event-loop asyncio`` measures asyncio's own loop where uvloop is installed.
Run: .venv/bin/python benchmarks/miners_scale.py [--miners 10000] [--shards 4] [--period 5] [--poll-seconds 60]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.miners.measure import eventloop
from bench.miners.measure.poller import Poller
from bench.miners.protocol.scan import scan
from bench.record import load
from bench.record.samples import batches
from bench.testing.miners import addresses

#: The site the extrapolation is for: 2,000 MW of S21-class miners at 3.5 kW each.
SITE_MINERS = 570_000
#: Miners one poller is planned for (issue 27's target), and the core it may use.
PER_POLLER = 10_000
#: A qualification run at the defaults: at most 600 s of warm-up, then 3 windows of 300 s.
QUALIFICATION_S = 600 + 3 * 300


def prioritise(pid: int) -> bool:
    """Give the session of ``pid`` an autogroup nice of -10 (root only); False where that cannot be done."""
    try:
        Path(f"/proc/{pid}/autogroup").write_text("-10")
    except OSError:
        return False
    return True


def raise_open_files() -> None:
    """Up to the hard limit: the simulator holds a listening socket per miner."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@contextmanager
def simulated(first: str, count: int, processes: int, priority: bool) -> Iterator[list[str]]:
    """``count`` simulated miners from ``first``, served by ``processes`` processes (uvloop where installed)."""
    hosts = addresses(first, count)
    per = -(-count // processes)
    code = ("import sys\ntry:\n    import uvloop; uvloop.install()\nexcept ImportError:\n    pass\n"
            "from bench.testing.miners import main; main(sys.argv[1:])")
    procs = []
    try:
        for i in range(0, count, per):
            chunk = hosts[i:i + per]
            procs.append(subprocess.Popen([sys.executable, "-c", code, "--first", chunk[0], "--count", str(len(chunk))],
                                          stdout=subprocess.PIPE, text=True, start_new_session=True))
        for p in procs:
            if priority:
                prioritise(p.pid)
            assert p.stdout is not None
            line = p.stdout.readline()
            if not line.startswith("serving"):
                raise SystemExit(f"the simulated fleet did not start: {line!r}")
        yield hosts
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)


def one_poller(hosts: list[str], args: argparse.Namespace) -> dict[str, float]:
    """Part 1: scan, then poll every miner from this process; the figures printed and returned."""

    async def go() -> tuple[int, float, Poller, tuple[float, float]]:
        t0 = time.monotonic()
        found = await scan(hosts, timeout_s=5.0, concurrency=512)
        clients = [r.client for r in found if r.client is not None]
        ticks = max(int(args.poll_seconds / args.period), 1)
        poller = Poller(clients, args.period)
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        await poller.run(ticks=ticks)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        return ticks, time.monotonic() - t0, poller, (r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime)

    ticks, _, poller, (user, system) = eventloop.run(go())
    stats, miners = poller.stats, len(poller.clients)
    owed, recorded = ticks * miners, sum(len(s) for s in poller.samples.values())
    reasons: dict[str, int] = {}
    for samples in poller.samples.values():
        for s in samples:
            if hasattr(s, "reason"):
                key = s.reason.split(": ", 1)[-1][:60]
                reasons[key] = reasons.get(key, 0) + 1
    per_poll = stats.cpu_seconds / max(stats.ok + stats.failed, 1)
    print(f"one poller ({eventloop.name()}): {miners} miners every {args.period:g} s for {stats.seconds:.1f} s: "
          f"{recorded} of {owed} samples recorded ({stats.ok} ok, {stats.failed} failed, {stats.late} late), "
          f"lost {owed - recorded}")
    print(f"  CPU {stats.cpu_seconds:.2f} s (user {user:.2f}, system {system:.2f}) = "
          f"{100 * stats.cpu_fraction:.1f}% of one core = {per_poll * 1e6:.0f} us a poll; max lag {stats.max_lag_s * 1e3:.0f} ms")
    for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:3]:
        print(f"  {n} x {reason}")
    ok = stats.cpu_fraction < 1.0 and owed == recorded and stats.failed == 0
    print(f"  {'PASS' if ok else 'FAIL'}: under one core ({100 * stats.cpu_fraction:.1f}%), "
          f"none lost ({owed - recorded}), none failed ({stats.failed})")
    return {"miners": miners, "cpu_fraction": stats.cpu_fraction, "per_poll_s": per_poll, "lost": owed - recorded,
            "failed": stats.failed, "ok": float(ok)}


@dataclass
class Shard:
    k: int
    proc: psutil.Popen
    out: Path
    trace: list[tuple[float, float]]  # (wall, CPU seconds)
    maxrss_kb: int = 0
    code: int = -1


def cpu_between(trace: list[tuple[float, float]], start: float, end: float) -> float:
    """CPU seconds between two wall times, interpolated in the sampled trace."""
    def at(w: float) -> float:
        for (w0, c0), (w1, c1) in zip(trace, trace[1:]):
            if w0 <= w <= w1:
                return c0 + (c1 - c0) * (w - w0) / (w1 - w0) if w1 > w0 else c0
        return trace[0][1] if w < trace[0][0] else trace[-1][1]
    return at(end) - at(start)


def samples_of(path: Path) -> tuple[dict[str, list[int]], int, int, float, float, dict[str, int]]:
    """Per miner its ticks, then failed rows, rows, first and last poll's wall time, failure reasons (streamed)."""
    ticks: dict[str, list[int]] = {}
    failed = rows = 0
    first, last = math.inf, 0.0
    reasons: dict[str, int] = {}
    for batch in batches(path, columns=["miner", "kind", "tick", "wall", "reason"]):
        cols = batch.to_pydict()
        for miner, kind, tick, wall, reason in zip(cols["miner"], cols["kind"], cols["tick"], cols["wall"], cols["reason"]):
            if kind == "outlet":
                continue
            rows += 1
            ticks.setdefault(miner, []).append(tick)
            first, last = min(first, wall), max(last, wall)
            if kind == "failed":
                failed += 1
                key = str(reason).split(": ", 1)[-1][:60]
                reasons[key] = reasons.get(key, 0) + 1
    return ticks, failed, rows, first, last, reasons


def shards(hosts: list[str], args: argparse.Namespace, work: Path) -> dict[str, float]:
    """Part 2: the shards as separate ``miners run`` processes, then ``merge``; the figures printed and returned."""
    listing = work / "hosts.txt"
    listing.write_text("\n".join(hosts) + "\n")
    env = {**os.environ, eventloop.LOOP_ENV: args.event_loop}
    run = [sys.executable, "-m", "bench", "miners", "run", "--hosts", str(listing), "--run-id", "scale",
           "--period", str(args.period), "--warmup", str(args.warmup), "--window", str(args.window),
           "--repeats", str(args.repeats), "--timeout", "2"]
    started = []
    for k in range(args.shards):
        out = work / f"shard-{k}.json"
        log = (work / f"shard-{k}.log").open("w")
        started.append(Shard(k, psutil.Popen([*run, "--shard", f"{k}/{args.shards}", "--out", str(out)], env=env,
                                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True), out, []))
        if args.priority:
            prioritise(started[-1].proc.pid)
    running = {s.proc.pid: s for s in started}
    while running:
        for s in list(running.values()):
            try:
                t = s.proc.cpu_times()
                s.trace.append((time.time(), t.user + t.system + t.children_user + t.children_system))
            except psutil.NoSuchProcess:
                pass
            pid, status, usage = os.wait4(s.proc.pid, os.WNOHANG)
            if pid:
                s.code, s.maxrss_kb = os.waitstatus_to_exitcode(status), usage.ru_maxrss
                del running[pid]
        time.sleep(0.5)
    print(f"{args.shards} shards ({eventloop.name() if args.event_loop == 'uvloop' else 'asyncio'}), "
          f"{len(hosts) / args.shards:.0f} miners each, polled every {args.period:g} s:")
    total_bytes = total_json = 0
    miner_hours = 0.0
    worst_cpu = 0.0
    lost_all = failed_all = 0
    for s in started:
        if not s.out.is_file():
            print(f"  shard {s.k}: exit {s.code}, no result: {(work / f'shard-{s.k}.log').read_text()[-500:]}")
            continue
        doc = load(s.out)
        info = doc.shard
        assert info is not None
        verdicts: dict[str, int] = {}
        for r in doc.runs:
            why = "measured and verified" if r.ok and r.verified else (r.error or r.status)[:70]
            verdicts[why] = verdicts.get(why, 0) + 1
        parquet = s.out.parent / info.samples.file
        ticks, failed, rows, first, last, reasons = samples_of(parquet)
        missing = sum(max(t) + 1 - len(set(t)) for t in ticks.values())
        cpu = cpu_between(s.trace, first, last)
        span = max(last - first, 1e-9)
        hours = sum((max(t) + 1) * args.period for t in ticks.values()) / 3600
        size = parquet.stat().st_size
        total_bytes, total_json, miner_hours = total_bytes + size, total_json + s.out.stat().st_size, miner_hours + hours
        worst_cpu = max(worst_cpu, cpu / span)
        lost_all, failed_all = lost_all + missing, failed_all + failed
        print(f"  shard {s.k}: exit {s.code}; {len(ticks)} miners, {rows} samples over {span:.0f} s "
              f"({failed} failed, {missing} lost); poll CPU {cpu:.1f} s = {100 * cpu / span:.1f}% of one core; "
              f"peak RSS {s.maxrss_kb / 1024:.0f} MB; Parquet {size / 1e6:.2f} MB = {size / hours:,.0f} B per miner-hour")
        for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:2]:
            print(f"    {n} x {reason}")
        print("    runs: " + "; ".join(f"{n} {why}" for why, n in sorted(verdicts.items(), key=lambda kv: -kv[1])[:3]))
    per_hour = total_bytes / miner_hours if miner_hours else 0.0
    fleet = work / "fleet.json"
    t0 = time.monotonic()
    merge = subprocess.Popen([sys.executable, "-m", "bench", "merge", *(str(s.out) for s in started), "--out", str(fleet)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _pid, status, usage = os.wait4(merge.pid, 0)
    merge_s = time.monotonic() - t0
    said = [line for line in (merge.stdout.read() if merge.stdout else "").splitlines()
            if line.startswith((f"{fleet}:", "fleet.json:", "sitebench merge: error", "incomplete"))]
    print(f"  merge: exit {os.waitstatus_to_exitcode(status)} in {merge_s:.2f} s, peak RSS {usage.ru_maxrss / 1024:.0f} MB; "
          f"{'; '.join(said)[:400]}")
    return {"worst_cpu": worst_cpu, "per_miner_hour": per_hour, "json_per_miner": total_json / max(len(hosts), 1),
            "merge_s": merge_s, "merge_mb": usage.ru_maxrss / 1024, "lost": lost_all, "failed": failed_all,
            "miners": len(hosts)}


def extrapolate(poller: dict[str, float], sharded: dict[str, float] | None, args: argparse.Namespace) -> None:
    """Part 3: what 570,000 miners need, from the measured figures, with the arithmetic."""
    print(f"{SITE_MINERS:,} miners (2,000 MW / 3.5 kW), polled every {args.period:g} s:")
    per_poll = poller["per_poll_s"]
    capacity = args.period / per_poll
    print(f"  one core: {args.period:g} s / {per_poll * 1e6:.0f} us of CPU a poll = {capacity:,.0f} miners at 100% of a core "
          f"(measured: {poller['miners']:,.0f} miners at {100 * poller['cpu_fraction']:.1f}%)")
    pollers = math.ceil(SITE_MINERS / PER_POLLER)
    print(f"  pollers: {SITE_MINERS:,} / {PER_POLLER:,} miners each = {pollers} pollers, one core each "
          f"(a Slurm array --array=0-{pollers - 1}, or an Indexed Job of {pollers} completions)")
    if sharded is None:
        return
    per_hour = sharded["per_miner_hour"]
    print(f"  samples: {per_hour:,.0f} B per miner-hour (Parquet) x {SITE_MINERS:,} = "
          f"{per_hour * SITE_MINERS / 1e9:.2f} GB per qualification hour; a qualification at the defaults "
          f"({QUALIFICATION_S} s) = {per_hour * SITE_MINERS * QUALIFICATION_S / 3600 / 1e9:.2f} GB")
    print(f"  results: {sharded['json_per_miner']:,.0f} B of shard JSON per miner x {SITE_MINERS:,} = "
          f"{sharded['json_per_miner'] * SITE_MINERS / 1e9:.2f} GB (these runs' short windows)")
    scale = SITE_MINERS / sharded["miners"]
    print(f"  merge: {sharded['merge_s']:.2f} s for {sharded['miners']:,.0f} miners x {scale:,.1f} = "
          f"{sharded['merge_s'] * scale / 60:.1f} min if linear in miners (MODELLED); memory holds one shard: "
          f"{sharded['merge_mb']:.0f} MB peak for {sharded['miners'] / args.shards:,.0f} miners a shard")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--miners", type=int, default=10_000)
    p.add_argument("--shards", type=int, default=4, help="shards for part 2 (0: skip it)")
    p.add_argument("--first", default="127.28.0.1")
    p.add_argument("--period", type=float, default=5.0)
    p.add_argument("--poll-seconds", type=float, default=60.0, help="part 1's polling time")
    p.add_argument("--warmup", type=float, default=90.0, help="part 2's longest warm-up (ends when the rate settles)")
    p.add_argument("--window", type=float, default=30.0, help="part 2's windows")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--sim-processes", type=int, default=2)
    p.add_argument("--event-loop", choices=("uvloop", "asyncio"), default="uvloop")
    p.add_argument("--no-priority", dest="priority", action="store_false",
                   help="leave the simulator's and the pollers' sessions at the usual priority")
    args = p.parse_args()
    os.environ[eventloop.LOOP_ENV] = args.event_loop
    raise_open_files()
    if args.priority and not prioritise(os.getpid()):
        args.priority = False
    print(f"machine: {os.cpu_count()} CPUs, load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{'simulator and pollers at autogroup nice -10' if args.priority else 'usual priority'}")
    with simulated(args.first, args.miners, args.sim_processes, args.priority) as hosts:
        poller = one_poller(hosts, args)
        sharded = None
        if args.shards > 0:
            with tempfile.TemporaryDirectory() as tmp:
                sharded = shards(hosts, args, Path(tmp))
    extrapolate(poller, sharded, args)
    print(json.dumps({"poller": poller, "shards": sharded}))
    return 0 if poller["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Scale benchmark: 1,000 simulated miners on loopback, a scan of 1,024 addresses, polling every 5 s, the records.

The miners (stock Antminer replies, real TCP on 127.1.x.y:4028) run in a separate process, so the
figures are sitebench's own: the scan's wall time, the CPU time of this process while polling
(as a share of one core) and the samples the schedule owed against those recorded (a timeout or a
refused poll is a recorded failure; a lost sample is one never recorded). Targets (issue 17): scan
in 10 s or less, polling under 25% of one core, no lost samples. Then every miner's run record is built
from its samples (two windows of a fifth of the polling time after its warm-up, power MODELLED from the
nameplate) and the result file is written and validated: the seconds each takes and the file's size
(the format's limit is 64 MB). Not a test.
Run: .venv/bin/python benchmarks/miners_scale.py [--miners 1000] [--addresses 1024] [--period 5] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import time

from bench.miners.measure.poller import Poller
from bench.miners.protocol.scan import scan
from bench.testing.miners import addresses


def raise_open_files() -> None:
    """Up to the hard limit: a thousand connections at once need more than the usual 1,024 descriptors."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_fleet(first: str, count: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "bench.testing.miners", "--first", first, "--count", str(count)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("serving"):
        proc.kill()
        raise SystemExit(f"the simulated fleet did not start: {line!r}")
    return proc


async def run(args: argparse.Namespace) -> int:
    hosts = addresses(args.first, args.addresses)
    t0, c0 = time.monotonic(), time.process_time()
    results = await scan(hosts, timeout_s=args.timeout, concurrency=args.concurrency)
    scan_s, scan_cpu = time.monotonic() - t0, time.process_time() - c0
    clients = [r.client for r in results if r.client is not None]
    print(f"scan: {len(hosts)} addresses in {scan_s:.2f} s ({scan_cpu:.2f} s CPU): {len(clients)} miners, "
          f"{sum(r.refused for r in results)} refused, {sum(r.error is not None and not r.refused for r in results)} other")
    ticks = int(args.seconds / args.period)
    poller = Poller(clients, args.period)
    stats = await poller.run(ticks=ticks)
    owed = ticks * len(clients)
    recorded = sum(len(s) for s in poller.samples.values())
    print(f"poll: {len(clients)} miners every {args.period:g} s for {stats.seconds:.1f} s: {recorded} of {owed} samples "
          f"recorded ({stats.ok} ok, {stats.failed} failed, {stats.late} late), lost {owed - recorded}; "
          f"CPU {stats.cpu_seconds:.2f} s = {100 * stats.cpu_fraction:.1f}% of one core; max lag {stats.max_lag_s * 1e3:.0f} ms")
    ok = scan_s <= 10 and stats.cpu_fraction < 0.25 and owed == recorded and stats.failed == 0
    records(poller, args, t0)
    print(f"{'PASS' if ok else 'FAIL'}: scan <= 10 s ({scan_s:.2f} s), polling < 25% of one core "
          f"({100 * stats.cpu_fraction:.1f}%), no lost samples ({owed - recorded} lost, {stats.failed} failed)")
    return 0 if ok else 1


def records(poller: Poller, args: argparse.Namespace, t_ref: float) -> None:
    """Build every miner's record, write the file and validate it; print what each step cost."""
    import tempfile
    from pathlib import Path

    from bench.miners.measure.outcome import Plan, analyse
    from bench.miners.record.runrecord import miner_run
    from bench.record import System, new_document, write_result
    from bench.validation import errors, validate_file

    window = args.seconds / 5
    plan = Plan(period_s=args.period, warmup_s=args.seconds, window_s=window, repeats=2, span_s=window,
                miners=len(poller.clients))  # as `sitebench miners run`: the pool check's confidence, shared
    t0 = time.monotonic()
    runs = [miner_run(analyse(c.identity, poller.samples[c.identity.address], plan), plan, t_ref)
            for c in poller.clients]
    built = time.monotonic() - t0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "miners.json"
        t1 = time.monotonic()
        write_result(path, new_document(System(hostname="bench"), runs))
        wrote, size = time.monotonic() - t1, path.stat().st_size
        t2 = time.monotonic()
        found = errors(validate_file(path).findings)
        checked = time.monotonic() - t2
    ok = sum(r.ok and r.verified for r in runs)
    print(f"records: {len(runs)} runs ({ok} ok and verified) built in {built:.2f} s; file {size / 1e6:.1f} MB "
          f"written in {wrote:.2f} s, validated in {checked:.2f} s ({len(found)} finding(s))")
    for f in found[:5]:
        print(f"  {f.line('miners.json')}")
    for r in [r for r in runs if not (r.ok and r.verified)][:5]:
        print(f"  {r.device}: {r.status}, {r.error}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--miners", type=int, default=1000)
    p.add_argument("--addresses", type=int, default=1024)
    p.add_argument("--first", default="127.1.0.1")
    p.add_argument("--period", type=float, default=5.0)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--concurrency", type=int, default=256)
    args = p.parse_args()
    raise_open_files()
    fleet = start_fleet(args.first, args.miners)
    try:
        return asyncio.run(run(args))
    finally:
        fleet.terminate()
        fleet.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())

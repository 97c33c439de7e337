"""Overhead benchmark: a workload's throughput with the power sampler at 10 Hz vs without, one run.

Rounds alternate (off, on, on, off, ...) so drift cancels; the loss is the median over pairs of
1 - on/off, in wall-clock units/s and in units per CPU-second of this process (which counts the
sampler thread's own CPU time and is less disturbed by other load on a shared machine). It also
times one sampler tick (every meter read once) to give the sampler's cost directly. The issue's bar
is a loss under 1%. Not a test.
Run: .venv/bin/python benchmarks/sampler_overhead.py [--workload sha256d] [--seconds 3] [--pairs 6]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.power.discovery import discover
from bench.power.sampler import Sampler
from bench.registry import create_workload
from bench.workload import Workload, synchronize

#: Pair losses spreading wider than this cannot resolve a 1% loss.
NOISY_SPREAD = 0.05


def throughput(workload: Workload, device: str, seconds: float) -> tuple[float, float]:
    """Units per wall second and per CPU second of this process, over at least ``seconds`` of whole steps."""
    done, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        done += workload.step()
    synchronize(device)
    return done / (time.perf_counter() - t0), done / (time.process_time() - c0)


def poll_cost_s(meters: list, rate: float, n: int = 30) -> float:
    """Wall seconds one sampler tick spends reading every meter (median of ``n`` ticks at ``rate``)."""
    costs = []
    for _ in range(n):
        t0 = time.perf_counter()
        for m in meters:
            m.read()
        costs.append(time.perf_counter() - t0)
        time.sleep(1.0 / rate)  # meters that cache between close reads must do their real work
    return statistics.median(costs)


def _loss(off: list[float], on: list[float]) -> tuple[float, float, float]:
    losses = [1 - b / a for a, b in zip(off, on)]
    return statistics.median(losses), min(losses), max(losses)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", default="sha256d", help="workload to measure (default: sha256d)")
    ap.add_argument("--device", default="cpu", help="device (default: cpu)")
    ap.add_argument("--preset", default="ci", help="parameter preset (default: ci)")
    ap.add_argument("--rate", type=float, default=10.0, help="sampling rate in Hz (default: 10)")
    ap.add_argument("--seconds", type=float, default=3.0, help="seconds per round (default: 3)")
    ap.add_argument("--pairs", type=int, default=6, help="off/on pairs (default: 6)")
    ap.add_argument("--meter", action="append", help="meters to sample (default: every meter that works here)")
    args = ap.parse_args()

    wl = create_workload(args.workload)
    wl.setup(args.device, wl.params_for(args.preset))
    wl.verify()
    throughput(wl, args.device, 1.0)  # warm-up: compile, caches, clocks
    meters, _ = discover(args.meter)
    print(f"{args.workload} on {args.device} ({args.preset}), sampler at {args.rate:g} Hz over "
          f"{', '.join(m.name for m in meters) or 'no meter'}; {args.pairs} pairs of {args.seconds:g} s rounds")
    off: list[tuple[float, float]] = []
    on: list[tuple[float, float]] = []
    for i in range(args.pairs):
        for sampled in ((False, True) if i % 2 == 0 else (True, False)):
            if sampled:
                sampler = Sampler(meters, rate_hz=args.rate)
                sampler.start()
                on.append(throughput(wl, args.device, args.seconds))
                sampler.stop(close_meters=False)  # the meters serve the next round too
            else:
                off.append(throughput(wl, args.device, args.seconds))
        print(f"pair {i}: off {off[-1][0]:.4g} {wl.unit}/s ({off[-1][1]:.4g}/CPU-s)  "
              f"on {on[-1][0]:.4g} {wl.unit}/s ({on[-1][1]:.4g}/CPU-s)")
    cost = poll_cost_s(meters, args.rate)
    for m in meters:
        m.close()
    wl.teardown()
    wall, cpu = _loss([a for a, _ in off], [a for a, _ in on]), _loss([c for _, c in off], [c for _, c in on])
    print(f"without sampler: median {statistics.median(a for a, _ in off):.4g} {wl.unit}/s")
    print(f"with sampler:    median {statistics.median(a for a, _ in on):.4g} {wl.unit}/s")
    print(f"loss, wall clock:   {wall[0]:+.2%} (median of pairs; spread {wall[1]:+.2%} .. {wall[2]:+.2%})")
    print(f"loss, per CPU-second: {cpu[0]:+.2%} (median of pairs; spread {cpu[1]:+.2%} .. {cpu[2]:+.2%})")
    print(f"one sampler tick reads every meter in {cost * 1e6:.0f} us: {cost * args.rate:.3%} of one core "
          f"at {args.rate:g} Hz")
    # a saturating workload loses at most the CPU the sampler takes: the tick cost is a direct bound
    bound = cost * args.rate
    noisy = wall[2] - wall[1] > NOISY_SPREAD
    ok = bound < 0.01 and (noisy or wall[0] < 0.01)
    if noisy:
        print(f"note: the pairs spread over {wall[2] - wall[1]:.0%}, wider than the 1% being measured "
              "(a shared or busy machine): the throughput loss is not resolved here; the verdict rests "
              "on the tick cost. Rerun on an idle machine for a resolved figure.")
    print(f"{'PASS' if ok else 'FAIL'}: loss under 1%")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

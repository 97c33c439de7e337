"""Peer benchmark: sitebench CPU sha256d vs a hashlib loop vs hashcat -b -m 1400, same machine, one run.

Prints R = sitebench sha256d H/s / (hashcat mode-1400 H/s / 2): parity in compressions, since a
double hash of an 80-byte header with midstate costs two compressions. sitebench and hashcat are
measured back to back in each of ``--rounds`` rounds (on a shared machine both move with the
load) and R is the median of the rounds' ratios. Not a test.
Run: .venv/bin/python benchmarks/sha256_peer.py [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import time


def sitebench_rate(seconds: float) -> float:
    """sitebench's CPU sha256d kernel (kernel_simd), H/s over ``seconds`` (after a compile/warm-up call)."""
    from workloads.hashing.kernels.cpu.kernel_cpu import scan
    prefix = os.urandom(76)
    scan(prefix, 0, 1 << 16, 0)
    n, start, t0 = 0, 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        scan(prefix, start, 1 << 22, 0)
        start += 1 << 22
        n += 1 << 22
    return n / (time.perf_counter() - t0)


def hashlib_rate(seconds: float) -> float:
    """A plain single-threaded hashlib double-SHA-256 loop, H/s."""
    prefix = os.urandom(76)
    sha = hashlib.sha256
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for i in range(10000):
            sha(sha(prefix + i.to_bytes(4, "little")).digest()).digest()
        n += 10000
    return n / (time.perf_counter() - t0)


def hashcat_rate() -> float | None:
    """hashcat mode-1400 benchmark H/s summed over devices, or None when hashcat is absent/fails."""
    exe = shutil.which("hashcat")
    if exe is None:
        return None
    proc = subprocess.run([exe, "-b", "-m", "1400", "--machine-readable", "--force"],
                          capture_output=True, text=True, timeout=600)
    total = 0.0
    for line in proc.stdout.splitlines():
        parts = line.split(":")
        if len(parts) >= 6 and parts[1] == "1400":
            total += float(parts[5])
    return total or None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="seconds per sitebench/hashlib figure")
    ap.add_argument("--rounds", type=int, default=3,
                    help="sitebench and hashcat measured back to back this many times (shared machines vary)")
    a = ap.parse_args()
    from workloads.hashing.kernels.cpu.kernel_simd import kernel

    k = kernel()
    print(f"cores                      : {len(os.sched_getaffinity(0))} ({k.cpu}, {k.vf} x 32-bit SIMD lanes)")
    print(f"hashlib loop (1 thread)    : {hashlib_rate(a.seconds) / 1e6:10.2f} MH/s")
    ratios = []
    for i in range(a.rounds):
        sb = sitebench_rate(a.seconds)
        hc = hashcat_rate()
        line = f"round {i + 1}: sitebench sha256d (SIMD) {sb / 1e6:7.2f} MH/s"
        if hc is None:
            print(line + "; hashcat mode 1400 not available (install hashcat and pocl-opencl-icd)")
            continue
        ratios.append(sb / (hc / 2))
        print(line + f", hashcat -b -m 1400 {hc / 1e6:7.2f} MH/s (one compression per hash), R = {ratios[-1]:.3f}")
    if ratios:
        print(f"R = sitebench / (hashcat/2), median of {len(ratios)} rounds: {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

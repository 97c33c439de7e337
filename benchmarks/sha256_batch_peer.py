"""Peer benchmark: sitebench batch SHA-256 (CPU) vs ``openssl speed -evp sha256 -multi <cores>``.

For each message length (64 B, 1 KiB, 16 KiB by default) both hash buffers of that length on
every core, in alternating rounds (the order flips each round, since a shared machine moves
both with its load), and the ratio sitebench / OpenSSL in messages/s is the median of the
rounds' ratios. sitebench runs the kernel the ``sha256`` workload would (the race of
batch_cpu.best_kernel) over ~8 MiB of messages per call, one thread per core. Not a test.
Run: .venv/bin/python benchmarks/sha256_batch_peer.py [--seconds 3] [--rounds 5] [--lengths 64,1024,16384]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import time

import numpy as np


def sitebench_rate(length: int, seconds: float) -> float:
    """Messages/s of ``length`` bytes through the sha256 workload's CPU kernel on every core."""
    from workloads.hashing.kernels.cpu.batch_cpu import best_kernel

    kernel, _ = best_kernel(length)
    rows = max(64, (8 << 20) // max(64, length))
    msgs = np.frombuffer(os.urandom(rows * length), np.uint8).reshape(rows, length)
    out = np.empty((rows, 32), np.uint8)
    kernel.run_into(msgs, out)  # warm-up
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        kernel.run_into(msgs, out)
        n += rows
    return n / (time.perf_counter() - t0)


def openssl_rate(length: int, seconds: float, cores: int) -> float | None:
    """Messages/s of ``openssl speed -evp sha256 -multi cores -bytes length``, or None without openssl."""
    exe = shutil.which("openssl")
    if exe is None:
        return None
    proc = subprocess.run([exe, "speed", "-mr", "-seconds", str(max(1, round(seconds))), "-bytes", str(length),
                           "-multi", str(cores), "-evp", "sha256"], capture_output=True, text=True, timeout=600,
                          check=False)
    totals = [line for line in proc.stdout.splitlines() if line.startswith("+F:")]
    if proc.returncode != 0 or not totals:
        return None
    return float(totals[-1].rsplit(":", 1)[1]) / length


def main() -> int:
    """Print each round's figures, then the median ratio per length."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="seconds per figure (openssl rounds to whole seconds)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds per length")
    ap.add_argument("--lengths", default="64,1024,16384", help="message lengths in bytes, comma-separated")
    a = ap.parse_args()
    from workloads.hashing.host.cpu import cores
    from workloads.hashing.kernels.cpu.batch_cpu import best_kernel

    ncores = cores()
    lengths = [int(x) for x in a.lengths.split(",") if x]
    version = subprocess.run(["openssl", "version"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"cores: {ncores}; openssl: {version}")
    table = []
    for length in lengths:
        kernel, race = best_kernel(length)
        print(f"{length} B: sitebench kernel {kernel.code_path} (race: {race})")
        sb, ossl, ratios = [], [], []
        for r in range(a.rounds):
            pair: dict[str, float | None] = {}
            for who in (("sitebench", "openssl") if r % 2 == 0 else ("openssl", "sitebench")):
                pair[who] = (sitebench_rate(length, a.seconds) if who == "sitebench"
                             else openssl_rate(length, a.seconds, ncores))
            s, o = pair["sitebench"], pair["openssl"]
            assert s is not None
            sb.append(s)
            line = f"  round {r + 1}: sitebench {s / 1e6:9.3f} M msg/s ({s * length / 1e9:6.2f} GB/s)"
            if o is None:
                print(line + "; openssl speed not available")
                continue
            ossl.append(o)
            ratios.append(s / o)
            print(line + f", openssl {o / 1e6:9.3f} M msg/s ({o * length / 1e9:6.2f} GB/s), ratio {s / o:.2f}")
        table.append((length, statistics.median(sb), statistics.median(ossl) if ossl else None,
                      statistics.median(ratios) if ratios else None))
    print(f"\n{'length':>8} | {'sitebench M msg/s':>17} | {'openssl M msg/s':>15} | ratio (median of rounds)")
    for length, s, o, ratio in table:
        print(f"{length:>6} B | {s / 1e6:17.3f} | {(o or 0) / 1e6:15.3f} | "
              + (f"{ratio:.2f}" if ratio is not None else "n/a"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

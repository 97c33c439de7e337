"""Hashing ceilings: measured OpenSSL compression rate (CPU), integer lanes over instructions (GPU)."""

from __future__ import annotations

import functools
import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor


def _per_core_rate(seconds: float = 0.2) -> float:
    buf = b"\0" * (1 << 20)
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        hashlib.sha256(buf).digest()
        n += 1
    return n * len(buf) / 64 / (time.perf_counter() - t0)


@functools.lru_cache(maxsize=1)
def cpu_compressions_per_s() -> float:
    """Measured OpenSSL SHA-256 compressions/s, ~0.2 s per core, all cores (hashlib releases the GIL)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    with ThreadPoolExecutor(cores) as pool:
        return float(sum(pool.map(lambda _: _per_core_rate(), range(cores))))


# No x86 core issues more than 4 SIMD integer instructions per clock (Zen 3/4: 4 vector ALU pipes;
# recent Intel: 3), and turbo clocks are at most 1.5x what /proc/cpuinfo shows where sysfs has none.
VECTOR_OPS_PER_CLOCK = 4
TURBO_HEADROOM = 1.5


def cpu_max_hz() -> float | None:
    """Highest clock a core may reach: sysfs cpuinfo_max_freq, else /proc/cpuinfo MHz x TURBO_HEADROOM."""
    import glob
    import re

    freqs = []
    for path in glob.glob("/sys/devices/system/cpu/cpu[0-9]*/cpufreq/cpuinfo_max_freq"):
        try:
            freqs.append(float(open(path).read()) * 1e3)
        except (OSError, ValueError):
            pass
    if freqs:
        return max(freqs)
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        return None
    mhz = [float(m) for m in re.findall(r"^cpu MHz\s*:\s*([0-9.]+)", text, re.M)]
    return max(mhz) * 1e6 * TURBO_HEADROOM if mhz else None


@functools.lru_cache(maxsize=1)
def cpu_simd_sha256d_ceiling() -> float | None:
    """Issue bound of the SIMD sha256d kernel: cores x max clock x 4 vector ops/clock x lanes / ops per group."""
    from workloads.hashing.kernel_simd import cores, kernel
    from workloads.hashing.simd_ir import vector_ops

    hz = cpu_max_hz()
    if hz is None:
        return None
    vf = kernel().vf
    return cores() * hz * VECTOR_OPS_PER_CLOCK * vf / vector_ops(vf)


def compressions_sha256(length: int) -> int:
    """SHA-256 compressions for a message of ``length`` bytes: ceil((L + 9) / 64)."""
    return (length + 9 + 63) // 64


# Integer-ALU SASS instructions per double hash of the Triton sha256d kernel compiled for sm_90
# (Triton 3.9, ptxas of its wheel): SHF 1179, LOP3 634, IADD3 401, VIADD 40, ISETP 5, PRMT 2,
# LEA 2 = 2263; IMAD (209, FMA pipe) is left out so the figure stays an upper bound.
# Recount with ``python -m workloads.hashing.sass_count``.
GPU_INSTR_PER_SHA256D = 2263


def gpu_int_ops_per_s(name: str) -> float | None:
    """Datasheet integer throughput of a GPU by name: SMs x int32 lanes per SM per clock x boost clock."""
    from bench.hardware import gpu_row

    row = gpu_row(name)
    try:
        return float(row["sms"]) * float(row["int32_lanes_per_sm_per_clk"]) * float(row["boost_ghz"]) * 1e9
    except (TypeError, KeyError, ValueError):
        return None


def gpu_sha256d_ceiling(name: str) -> float | None:
    """Double hashes/s a GPU could do at one integer instruction per lane per clock, or None if unknown."""
    ops = gpu_int_ops_per_s(name)
    return None if ops is None else ops / GPU_INSTR_PER_SHA256D

"""Hashing ceilings: the machine's measured OpenSSL SHA-256 compression rate (CPU)."""

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


def compressions_sha256(length: int) -> int:
    """SHA-256 compressions for a message of ``length`` bytes: ceil((L + 9) / 64)."""
    return (length + 9 + 63) // 64

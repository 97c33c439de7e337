"""CPU batch SHA-256: the compiled kernels (SHA-NI, multi-buffer SIMD), one thread per core, and the choice.

Each kernel is LLVM IR (:mod:`shani_ir`, :mod:`simd_batch_ir`) compiled for the host by llvmlite,
as the sha256d kernel is. A call hashes N equal-length messages: the rows are split into one
contiguous piece per core, run through ctypes (which releases the GIL) on a persistent pool, so
there is no Python per message and nothing is allocated per message. :func:`best_kernel` races
the kernels this CPU can run on messages of the workload's length and keeps the fastest; the
numba scalar kernel (:mod:`kernel_batch`) is the fallback where nothing compiles.
``python -m workloads.hashing.kernels.cpu.batch_cpu`` prints each kernel's clocks per compression.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from workloads.hashing.host.clock_probe import measured_hz
from workloads.hashing.host.cpu import cores, has_sha_ni, host, host_vf
from workloads.hashing.kernels.cpu import shani_ir, simd_batch_ir
from workloads.hashing.spec.sha256_consts import compressions_sha256

#: Messages a SHA-NI call works on at once; 4 hides the instruction's 4-cycle latency on Zen 3
#: (measured here: 2, 3, 5 and 6 streams were slower at 64 B and at 1 KiB).
SHA_NI_INTERLEAVE = 4
_SIG = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p)
#: Compressions below which a call stays on one thread (a pool hand-off costs tens of microseconds).
MIN_BLOCKS_PER_THREAD = 512
PIECES_PER_THREAD = 4


class BatchKernel:
    """One compiled batch kernel: ``kind`` is ``"sha-ni"`` or ``"simd"``.

    ``param``: streams interleaved (SHA-NI) or lanes (SIMD). ``emulate`` (SHA-NI only) compiles
    the kernel with the three SHA instructions replaced by IR written from their SDM definition,
    so its data flow runs on CPUs without SHA-NI (tests; far slower).
    """

    def __init__(self, kind: str, param: int, emulate: bool = False) -> None:
        import llvmlite.binding as llvm

        if kind == "sha-ni":
            ir = shani_ir.module(param, emulate=emulate)
            self.code_path = f"cpu:sha-ni x{param} interleave" + (" (emulated)" if emulate else "")
        elif kind == "simd":
            ir = simd_batch_ir.module(param)
            isa = {16: "avx512", 8: "avx2"}.get(host_vf(), "sse")
            self.code_path = f"cpu:simd {isa} {param}-lane"
        else:
            raise ValueError(f"unknown kernel kind {kind!r}")
        self.kind, self.group = kind, param
        cpu, _, features = host()
        tm = llvm.Target.from_default_triple().create_target_machine(cpu=cpu, features=features, opt=3)
        mod = llvm.parse_assembly(ir)
        mod.verify()
        self._engine = llvm.create_mcjit_compiler(mod, tm)
        self._engine.finalize_object()
        self._fn = _SIG(self._engine.get_function_address("sha256_batch"))

    def run_into(self, msgs: np.ndarray, out: np.ndarray, threads: int | None = None) -> None:
        """SHA-256 of each row of ``msgs`` ((N, L) uint8, C-contiguous) into ``out`` ((N, 32) uint8).

        The rows go in ``PIECES_PER_THREAD`` pieces per thread (whole groups each), taken in turn
        by the calling thread and the pool's, so a core slowed by another process takes fewer.
        """
        n, length = msgs.shape
        if n == 0:
            return
        blocks = n * ((length + 9 + 63) // 64)
        threads = max(1, min(threads or cores(), blocks // MIN_BLOCKS_PER_THREAD, -(-n // self.group)))
        per = -(-n // (threads * PIECES_PER_THREAD if threads > 1 else 1))
        per += -per % self.group  # whole groups per piece: only the last piece has a partial one
        base, obase = msgs.ctypes.data, out.ctypes.data
        pieces = [(i, min(per, n - i)) for i in range(0, n, per)]
        if threads == 1 or len(pieces) == 1:
            for i, count in pieces:
                self._fn(base + i * length, count, length, length, obase + 32 * i)
            return
        order = itertools.count()

        def worker() -> None:
            while (k := next(order)) < len(pieces):  # next() on a count is atomic under the GIL
                i, count = pieces[k]
                self._fn(base + i * length, count, length, length, obase + 32 * i)

        futures = [_pool().submit(worker) for _ in range(threads - 1)]
        worker()
        for f in futures:
            f.result()

    def __call__(self, msgs: np.ndarray) -> np.ndarray:
        """(N, 32) uint8 digests of the rows of ``msgs`` (hashlib's bytes)."""
        msgs = np.ascontiguousarray(msgs, dtype=np.uint8)
        out = np.empty((msgs.shape[0], 32), dtype=np.uint8)
        self.run_into(msgs, out)
        return out


@functools.lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    """The process's worker threads (cores - 1: the caller runs one piece itself)."""
    return ThreadPoolExecutor(max(1, cores() - 1), thread_name_prefix="sha256-batch")


@functools.cache
def kernel(kind: str, param: int, emulate: bool = False) -> BatchKernel:
    """The compiled kernel (once per process)."""
    return BatchKernel(kind, param, emulate)


def candidates() -> list[tuple[str, int]]:
    """Kernels this CPU can run, best guess first: SHA-NI if present, then SIMD at the host's width."""
    out = [("sha-ni", SHA_NI_INTERLEAVE)] if has_sha_ni() else []
    return out + [("simd", host_vf())]


def _single_thread_rate(k: BatchKernel, msgs: np.ndarray, out: np.ndarray) -> float:
    t0 = time.perf_counter()
    k.run_into(msgs, out, threads=1)
    return msgs.shape[0] / (time.perf_counter() - t0)


@functools.cache
def best_kernel(length: int) -> tuple[BatchKernel, str]:
    """The fastest kernel on this CPU for ``length``-byte messages, and how it was chosen.

    Each candidate hashes the same ~256 KiB of random messages on one thread, alternately, three
    times; the best time of each decides. Returns (kernel, a one-line summary of the race).
    """
    kernels = [kernel(kind, p) for kind, p in candidates()]
    if len(kernels) == 1:
        return kernels[0], f"{kernels[0].code_path}: the only compiled kernel for this CPU"
    rows = max(64, (256 << 10) // max(64, length))
    msgs = np.frombuffer(os.urandom(rows * length), np.uint8).reshape(rows, length)
    out = np.empty((rows, 32), np.uint8)
    best = {k.code_path: 0.0 for k in kernels}
    for _ in range(3):
        for k in kernels:
            best[k.code_path] = max(best[k.code_path], _single_thread_rate(k, msgs, out))
    winner = max(kernels, key=lambda k: best[k.code_path])
    summary = "; ".join(f"{name} {rate / 1e6:.2f} M/s per core" for name, rate in best.items())
    return winner, summary


def clocks_per_compression(k: BatchKernel, length: int, seconds: float = 2.0) -> tuple[float, float]:
    """(best, median) clocks of this core per compression over calls of ~1 MiB of ``length``-byte
    messages on one thread: best is the kernel undisturbed, median what a busy host leaves it."""
    hz = measured_hz()
    if hz is None:
        raise RuntimeError("llvmlite cannot compile for this host")
    rows = max(64, (1 << 20) // max(64, length))
    msgs = np.frombuffer(os.urandom(rows * length), np.uint8).reshape(rows, length)
    out = np.empty((rows, 32), np.uint8)
    times: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < 3:
        t0 = time.perf_counter()
        k.run_into(msgs, out, threads=1)
        times.append(time.perf_counter() - t0)
    per = hz / (rows * compressions_sha256(length))
    return min(times) * per, float(np.median(times)) * per


def main(argv: list[str] | None = None) -> int:
    """Print each kernel's clocks per compression on one core, per message length."""
    import argparse

    def lengths(text: str) -> list[int]:
        try:
            out = [int(x) for x in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected byte counts such as 0,64,1024") from None
        if any(x < 0 or x > 1 << 20 for x in out):
            raise argparse.ArgumentTypeError(f"{text!r}: each length must be 0..{1 << 20}")
        return out

    ap = argparse.ArgumentParser(description="Clocks per SHA-256 compression of each CPU batch kernel, one core")
    ap.add_argument("--lengths", type=lengths, default=[0, 64, 1024], help="message lengths in bytes, comma-separated")
    ap.add_argument("--seconds", type=float, default=2.0, help="seconds of calls per kernel and length")
    a = ap.parse_args(argv)
    for kind, param in candidates():
        k = kernel(kind, param)
        for length in a.lengths:
            best, median = clocks_per_compression(k, length, a.seconds)
            print(f"{k.code_path:28s} {length:6d} B: {best:6.1f} clocks/compression best, {median:6.1f} median")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Hashing ceilings: issue bounds of the CPU kernels (SHA-NI, SIMD), integer lanes over SASS instructions (GPU)."""

from __future__ import annotations

import functools
import glob
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

from bench.hardware import gpu_row
from workloads.hashing.host.clock_probe import measured_hz
from workloads.hashing.host.cpu import cores, has_sha_ni, host_vf
from workloads.hashing.kernels.cpu.kernel_simd import kernel
from workloads.hashing.kernels.cpu.simd_batch_ir import compression_ops
from workloads.hashing.kernels.cpu.simd_ir import vector_ops
from workloads.hashing.spec.sha256_consts import compressions_sha256


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
    n = cores()
    with ThreadPoolExecutor(n) as pool:
        return float(sum(pool.map(lambda _: _per_core_rate(), range(n))))


# No x86 core issues more than 4 SIMD integer instructions per clock (Zen 3/4: 4 vector ALU pipes;
# recent Intel: 3).
VECTOR_OPS_PER_CLOCK = 4

# SHA-NI issue bound. A compression is 32 SHA256RNDS2 (two rounds each); at one per clock,
# interleaved messages can at best take 32 clocks per compression. Sources:
# LLVM 14's znver3 scheduling model (llvm-mca -mcpu=znver3) documents
# SHA256RNDS2 at latency 4 and reciprocal throughput 2 clocks (SHA256MSG1 0.75, SHA256MSG2 2).
# Measured on this project's Zen 3 VM (AMD EPYC, family 19h model 1; clock from a dependent
# integer-add chain; python -m workloads.hashing.host.clock_probe): 8 independent SHA256RNDS2 chains
# run at 1.03-1.09 clocks each (latency 4.4-5.3 in the ABEF/CDGH ping-pong of the rounds;
# SHA256MSG2 2.9-3.0). The documented 2 is no bound there: our kernel compresses padding-only
# blocks (0-byte messages) in 57-60 clocks, under 2 x 32. So the ceiling takes 1 per clock, which
# bounds every core whose SHA256RNDS2 throughput is documented or measured at 1 or slower. On that
# VM a SHA256MSG2 beside the SHA256RNDS2 chains adds 2.3-3.4 clocks (clock_probe's msg2_beside_rnds2):
# they share a unit, so data blocks cost about 71 clocks there; the ceiling does not fit itself to that.
SHA_NI_CLOCKS_PER_COMPRESSION = 32


def cpu_max_hz() -> float | None:
    """Highest clock a core runs at: the larger of sysfs cpuinfo_max_freq and the measured clock.

    The measured clock (a dependent integer-add chain, best of many short runs: what a core runs
    at now, turbo included) stands alone in VMs, which have no cpufreq in sysfs.
    """
    freqs = []
    for path in glob.glob("/sys/devices/system/cpu/cpu[0-9]*/cpufreq/cpuinfo_max_freq"):
        try:
            with open(path) as f:
                freqs.append(float(f.read()) * 1e3)
        except (OSError, ValueError):
            pass
    measured = measured_hz()
    if measured:
        freqs.append(measured)
    return max(freqs) if freqs else None


@functools.lru_cache(maxsize=1)
def cpu_simd_sha256d_ceiling() -> float | None:
    """Issue bound of the SIMD sha256d kernel: cores x max clock x 4 vector ops/clock x lanes / ops per group."""
    hz = cpu_max_hz()
    if hz is None:
        return None
    vf = kernel().vf
    return cores() * hz * VECTOR_OPS_PER_CLOCK * vf / vector_ops(vf)


def cpu_sha256_compressions_per_s() -> float | None:
    """Issue bound of batch SHA-256 on this CPU in compressions/s: the larger of the SHA-NI bound
    (cores x clock / 32, where the CPU has SHA-NI) and the SIMD kernel's (cores x clock x 4 vector
    instructions per clock x lanes / vector instructions per compression, a rotate counted as one)."""
    hz = cpu_max_hz()
    if hz is None:
        return None
    vf = host_vf()
    simd = cores() * hz * VECTOR_OPS_PER_CLOCK * vf / compression_ops(vf)
    sha = cores() * hz / SHA_NI_CLOCKS_PER_COMPRESSION if has_sha_ni() else 0.0
    return max(simd, sha)


# Integer-ALU SASS instructions per double hash of the Triton sha256d kernel compiled for sm_90
# (Triton 3.9, ptxas of its wheel): SHF 1179, LOP3 634, IADD3 401, VIADD 40, ISETP 5, PRMT 2,
# LEA 2 = 2263; IMAD (209, FMA pipe) is left out so the figure stays an upper bound.
# Recount with ``python -m workloads.hashing.kernels.gpu.sass_count``.
GPU_INSTR_PER_SHA256D = 2263
# Integer-ALU SASS instructions per compression of the Triton batch sha256 kernel compiled for
# sm_90 (Triton 3.9, ptxas of its wheel), counted in the body of its block loop (one compression
# per thread): SHF 672, LOP3 352, IADD3 270, VIADD 2, ISETP 2, LEA 1 = 1299; IMAD (131, FMA pipe)
# left out as above. Recount with ``python -m workloads.hashing.kernels.gpu.sass_count``.
GPU_INSTR_PER_COMPRESSION = 1299


def gpu_name(device: str) -> str | None:
    """The CUDA device's name as the driver reports it, or None without a GPU."""
    import torch

    if not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_name(int(device.split(":", 1)[1]) if ":" in device else 0)


def gpu_int_ops_per_s(name: str) -> float | None:
    """Datasheet integer throughput of a GPU by name: SMs x int32 lanes per SM per clock x boost clock."""
    row = gpu_row(name)
    if row is None:
        return None
    try:
        return float(row["sms"]) * float(row["int32_lanes_per_sm_per_clk"]) * float(row["boost_ghz"]) * 1e9
    except (TypeError, KeyError, ValueError):
        return None


def gpu_sha256_ceiling(name: str, length: int) -> float | None:
    """Messages/s of ``length`` bytes a GPU could hash at one integer instruction per lane per clock."""
    ops = gpu_int_ops_per_s(name)
    return None if ops is None else ops / (GPU_INSTR_PER_COMPRESSION * compressions_sha256(length))


def gpu_sha256d_ceiling(name: str) -> float | None:
    """Double hashes/s a GPU could do at one integer instruction per lane per clock, or None if unknown."""
    ops = gpu_int_ops_per_s(name)
    return None if ops is None else ops / GPU_INSTR_PER_SHA256D

"""What this CPU can do: its LLVM name and feature flags (SHA-NI, AVX2, AVX-512) and the cores we may use.

llvmlite (numba's own LLVM) reads the flags, so what it reports is what the compiled kernels
target. Nothing here imports a kernel: the kernels, the clock probe and the ceilings all ask here.
"""

from __future__ import annotations

import functools
import os


@functools.lru_cache(maxsize=1)
def host() -> tuple[str, dict[str, bool], str]:
    """(LLVM CPU name, feature flags, features string for the target machine) of this host."""
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    try:
        features = llvm.get_host_cpu_features()
    except RuntimeError:  # LLVM cannot read them on some hosts: baseline code for the CPU name
        return llvm.get_host_cpu_name(), {}, ""
    return llvm.get_host_cpu_name(), {k: bool(v) for k, v in features.items()}, features.flatten()


def has_sha_ni() -> bool:
    """Whether this CPU has the SHA extensions (``sha256rnds2`` and friends)."""
    return host()[1].get("sha", False)


def host_vf() -> int:
    """SIMD lanes of 32 bits in this CPU's widest integer vectors: 16 (AVX-512), 8 (AVX2), else 4."""
    flags = host()[1]
    return 16 if flags.get("avx512f") else 8 if flags.get("avx2") else 4


def cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

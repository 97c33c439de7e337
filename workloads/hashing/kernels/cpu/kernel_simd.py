"""CPU sha256d kernel: the IR of simd_ir JIT-compiled by llvmlite for this CPU, run on every core.

llvmlite ships with numba (its own LLVM, no compiler on the target). The vector width follows
the host: 16 lanes with AVX-512, 8 with AVX2, else 4. Compiling takes about a second, once
per process. Calls go through ctypes, which releases the GIL, so one thread per core works.
"""

from __future__ import annotations

import ctypes
import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from workloads.hashing.host.cpu import cores
from workloads.hashing.kernels.cpu.simd_ir import module

_SIG = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p,
                        ctypes.c_void_p, ctypes.c_int32)


class SimdKernel:
    """The compiled kernel for the host CPU (the process's one: :func:`kernel`).

    ``vf`` overrides the vector width (LLVM splits or widens it to the host's registers), so a
    machine without AVX-512 can still check the 16-lane code.
    """

    def __init__(self, vf: int | None = None) -> None:
        import llvmlite.binding as llvm

        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        try:
            features = llvm.get_host_cpu_features()
        except RuntimeError:  # LLVM cannot read them on some hosts: baseline code for the CPU name
            features = None
        flags = features or {}
        self.vf = vf or (16 if flags.get("avx512f") else 8 if flags.get("avx2") else 4)
        self.cpu = llvm.get_host_cpu_name()
        tm = llvm.Target.from_default_triple().create_target_machine(
            cpu=self.cpu, features=features.flatten() if features is not None else "", opt=3)
        mod = llvm.parse_assembly(module(self.vf))
        mod.verify()
        self._engine = llvm.create_mcjit_compiler(mod, tm)
        self._engine.finalize_object()
        self._fn = _SIG(self._engine.get_function_address("sha256d_h7"))

    def run(self, params: np.ndarray, start: int, count: int, keep: bool = False
            ) -> tuple[np.ndarray, np.ndarray | None]:
        """(hits as uint8 per nonce, H7 per nonce or None) for nonces start..start+count-1.

        ``params``: the 22 words of :func:`~workloads.hashing.spec.sha256_consts.header_params`.
        """
        params = np.ascontiguousarray(params, dtype=np.uint32)
        if count <= 0:
            return np.zeros(0, np.uint8), (np.zeros(0, np.uint32) if keep else None)
        groups = -(-count // self.vf)
        hits = np.zeros(groups * self.vf, dtype=np.uint8)
        h7 = np.zeros(groups * self.vf if keep else 0, dtype=np.uint32)
        per = -(-groups // cores())
        pieces = [(g, min(per, groups - g)) for g in range(0, groups, per)]

        def piece(g0: int, n: int) -> None:
            self._fn(params.ctypes.data, start + g0 * self.vf, n, hits.ctypes.data + g0 * self.vf,
                     h7.ctypes.data + 4 * g0 * self.vf if keep else 0, int(keep))

        if len(pieces) == 1:
            piece(*pieces[0])
        else:
            with ThreadPoolExecutor(len(pieces)) as pool:
                list(pool.map(lambda p: piece(*p), pieces))
        return hits[:count], (h7[:count] if keep else None)


@functools.lru_cache(maxsize=1)
def kernel() -> SimdKernel:
    """The process's compiled kernel (compiled on first use)."""
    return SimdKernel()

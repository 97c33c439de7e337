"""sha256d over a nonce range on the CPU: ``scan`` (the SIMD kernel in kernel_simd)."""

from __future__ import annotations

import numpy as np

from workloads.hashing.kernels.cpu.kernel_simd import kernel
from workloads.hashing.spec.reference import is_hit, target_top_word
from workloads.hashing.spec.sha256_consts import header_params


def scan(prefix76: bytes, start: int, count: int, target: int, keep_h7: bool = False
         ) -> tuple[np.ndarray, np.ndarray | None]:
    """Double SHA-256 of ``prefix76 + nonce`` for nonces start..start+count-1 (< 2^32).

    The SIMD kernel (kernel_simd) flags every nonce whose top hash word passes the target's top
    word; hashlib decides the full 256-bit comparison for those few.

    Returns:
        (hit nonces as a sorted uint32 array, H7 of the second hash per nonce when ``keep_h7``, else None).
    """
    if len(prefix76) != 76:
        raise ValueError("prefix must be 76 bytes")
    if start < 0 or count < 0 or start + count > 2 ** 32:
        raise ValueError("nonce range must lie within 0..2^32-1")
    if count == 0:
        return np.zeros(0, np.uint32), (np.zeros(0, np.uint32) if keep_h7 else None)
    params = np.array(header_params(prefix76, target_top_word(target)), dtype=np.uint32)
    flags, h7 = kernel().run(params, start, count, keep_h7)
    found = [n for n in (np.flatnonzero(flags) + start).tolist() if is_hit(prefix76, n, target)]
    return np.array(found, dtype=np.uint32), h7

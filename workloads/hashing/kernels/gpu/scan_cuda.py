"""sha256d over a nonce range on a GPU: the Triton kernel's candidates, judged in full on the host."""

from __future__ import annotations

import numpy as np

from workloads.hashing.spec.reference import is_hit, target_top_word

SLICE = 1 << 30  # nonces per launch; a launch's candidate buffer holds CAP of them
CAP = 4096


def scan_cuda(prefix76: bytes, start: int, count: int, target: int, device: str = "cuda") -> np.ndarray:
    """Hit nonces (sorted uint32) in start..start+count-1 (< 2^32), kernel on ``device``.

    The kernel returns every nonce whose top hash word passes the target's top word; hashlib
    decides the full 256-bit comparison for those few. A launch with more candidates than its
    buffer holds (an easy target) is split in halves and run again.
    """
    if len(prefix76) != 76:
        raise ValueError("prefix must be 76 bytes")
    if start < 0 or count < 0 or start + count > 2 ** 32:
        raise ValueError("nonce range must lie within 0..2^32-1")
    from workloads.hashing.kernels.gpu.kernel_triton import candidates

    top = target_top_word(target)
    pending = [(lo, min(SLICE, start + count - lo)) for lo in range(start, start + count, SLICE)]
    hits: list[int] = []
    while pending:
        lo, n = pending.pop()
        found, total = candidates(prefix76, lo, n, top, device, cap=CAP)
        if total > CAP:
            half = n // 2
            pending += [(lo, half), (lo + half, n - half)]
            continue
        hits += [nonce for nonce in found if is_hit(prefix76, nonce, target)]
    return np.array(sorted(hits), dtype=np.uint32)

"""numba CPU kernel: SHA-256 of N independent equal-length messages, parallel over messages."""

from __future__ import annotations

import hashlib

import numpy as np

from workloads.hashing.kernel_cpu import HAVE_NUMBA

if HAVE_NUMBA:
    from numba import njit, prange

    from workloads.hashing.kernel_cpu import _IV64, _compress

    @njit(parallel=True, fastmath=False, cache=True)
    def _batch(msgs, out):
        n, length = msgs.shape
        nblocks = (length + 9 + 63) // 64
        bitlen = np.uint64(length) * np.uint64(8)
        for m in prange(n):
            w = np.empty(64, dtype=np.uint64)
            st = _IV64.copy()
            nxt = np.empty(8, dtype=np.uint64)
            for b in range(nblocks):
                for k in range(16):
                    v = np.uint64(0)
                    for q in range(4):
                        pos = b * 64 + k * 4 + q
                        if pos < length:
                            byte = np.uint64(msgs[m, pos])
                        elif pos == length:
                            byte = np.uint64(0x80)
                        elif pos >= nblocks * 64 - 8:
                            byte = (bitlen >> np.uint64(8 * (nblocks * 64 - 1 - pos))) & np.uint64(0xFF)
                        else:
                            byte = np.uint64(0)
                        v = (v << np.uint64(8)) | byte
                    w[k] = v
                _compress(st, w, nxt)
                for k in range(8):
                    st[k] = nxt[k]
            for k in range(8):
                out[m, k] = st[k]


def sha256_batch(msgs: np.ndarray) -> np.ndarray:
    """SHA-256 of each row of a (N, L) uint8 array; returns (N, 32) uint8 digests (hashlib's bytes)."""
    msgs = np.ascontiguousarray(msgs, dtype=np.uint8)
    if not HAVE_NUMBA:
        return np.stack([np.frombuffer(hashlib.sha256(r.tobytes()).digest(), np.uint8) for r in msgs])
    out = np.zeros((msgs.shape[0], 8), dtype=np.uint64)
    _batch(msgs, out)
    return out.astype(">u4").view(np.uint8).reshape(-1, 32)

"""Scalar numba kernel: SHA-256 of N equal-length messages, parallel over messages.

The fallback of the ``sha256`` workload where no compiled kernel (batch_cpu) runs, and a third
implementation in the tests. uint32 values live masked in uint64.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from workloads.hashing.spec.sha256_numpy import IV, K

_M = np.uint64(0xFFFFFFFF)
_K64 = K.astype(np.uint64)
_IV64 = IV.astype(np.uint64)


@njit(cache=True, inline="always")
def _rotr(x, n):  # x: uint64 holding a 32-bit value
    return ((x >> np.uint64(n)) | (x << np.uint64(32 - n))) & _M


@njit(cache=True)
def _compress(state, w, out):
    """Compress 16 words in w[0:16] (w has room for 64) from ``state`` into ``out``."""
    for i in range(16, 64):
        x = w[i - 15]
        y = w[i - 2]
        s0 = _rotr(x, 7) ^ _rotr(x, 18) ^ (x >> np.uint64(3))
        s1 = _rotr(y, 17) ^ _rotr(y, 19) ^ (y >> np.uint64(10))
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & _M
    a, b, c, d = state[0], state[1], state[2], state[3]
    e, f, g, h = state[4], state[5], state[6], state[7]
    for i in range(64):
        s1 = _rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)
        ch = (e & f) ^ ((~e & _M) & g)
        t1 = (h + s1 + ch + _K64[i] + w[i]) & _M
        s0 = _rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)
        maj = (a & b) ^ (a & c) ^ (b & c)
        h, g, f, e = g, f, e, (d + t1) & _M
        d, c, b, a = c, b, a, (t1 + s0 + maj) & _M
    out[0] = (state[0] + a) & _M
    out[1] = (state[1] + b) & _M
    out[2] = (state[2] + c) & _M
    out[3] = (state[3] + d) & _M
    out[4] = (state[4] + e) & _M
    out[5] = (state[5] + f) & _M
    out[6] = (state[6] + g) & _M
    out[7] = (state[7] + h) & _M


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


def sha256_batch_scalar(msgs: np.ndarray) -> np.ndarray:
    """SHA-256 of each row of a (N, L) uint8 array; returns (N, 32) uint8 digests (hashlib's bytes)."""
    msgs = np.ascontiguousarray(msgs, dtype=np.uint8)
    out = np.zeros((msgs.shape[0], 8), dtype=np.uint64)
    _batch(msgs, out)
    return out.astype(">u4").view(np.uint8).reshape(-1, 32)

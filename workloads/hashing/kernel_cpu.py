"""sha256d over a nonce range on the CPU: ``scan`` (SIMD kernel in kernel_simd, hashlib fallback).

Also the scalar numba compression used by the batch kernel (uint32 values masked in uint64).
"""

from __future__ import annotations

import numpy as np

try:
    from numba import njit
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    HAVE_NUMBA = False
try:
    import llvmlite.binding  # noqa: F401  (ships with numba)
    HAVE_SIMD = True
except ImportError:  # pragma: no cover - exercised only without llvmlite
    HAVE_SIMD = False

from workloads.hashing.reference import header_hash, is_hit, target_top_word
from workloads.hashing.sha256_consts import header_params
from workloads.hashing.sha256_numpy import IV, K

_M = np.uint64(0xFFFFFFFF)

if HAVE_NUMBA:
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
        a = state[0]; b = state[1]; c = state[2]; d = state[3]
        e = state[4]; f = state[5]; g = state[6]; h = state[7]
        for i in range(64):
            s1 = _rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)
            ch = (e & f) ^ ((~e & _M) & g)
            t1 = (h + s1 + ch + _K64[i] + w[i]) & _M
            s0 = _rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)
            maj = (a & b) ^ (a & c) ^ (b & c)
            h = g; g = f; f = e; e = (d + t1) & _M
            d = c; c = b; b = a; a = (t1 + s0 + maj) & _M
        out[0] = (state[0] + a) & _M; out[1] = (state[1] + b) & _M
        out[2] = (state[2] + c) & _M; out[3] = (state[3] + d) & _M
        out[4] = (state[4] + e) & _M; out[5] = (state[5] + f) & _M
        out[6] = (state[6] + g) & _M; out[7] = (state[7] + h) & _M

    _K64 = K.astype(np.uint64)
    _IV64 = IV.astype(np.uint64)


def scan(prefix76: bytes, start: int, count: int, target: int, keep_h7: bool = False
         ) -> tuple[np.ndarray, np.ndarray | None]:
    """Double SHA-256 of ``prefix76 + nonce`` for nonces start..start+count-1 (< 2^32).

    The SIMD kernel (kernel_simd) flags every nonce whose top hash word passes the target's top
    word; hashlib decides the full 256-bit comparison for those few. Without llvmlite the whole
    range goes through hashlib.

    Returns:
        (hit nonces as a sorted uint32 array, H7 of the second hash per nonce when ``keep_h7``, else None).
    """
    if len(prefix76) != 76:
        raise ValueError("prefix must be 76 bytes")
    if start < 0 or count < 0 or start + count > 2 ** 32:
        raise ValueError("nonce range must lie within 0..2^32-1")
    if count == 0:
        return np.zeros(0, np.uint32), (np.zeros(0, np.uint32) if keep_h7 else None)
    if not HAVE_SIMD:
        return _scan_fallback(prefix76, start, count, target, keep_h7)
    from workloads.hashing.kernel_simd import kernel

    params = np.array(header_params(prefix76, target_top_word(target)), dtype=np.uint32)
    flags, h7 = kernel().run(params, start, count, keep_h7)
    found = [n for n in (np.flatnonzero(flags) + start).tolist() if is_hit(prefix76, n, target)]
    return np.array(found, dtype=np.uint32), h7


def _scan_fallback(prefix76: bytes, start: int, count: int, target: int, keep: bool
                   ) -> tuple[np.ndarray, np.ndarray | None]:
    found, h7 = [], []
    for n in range(start, start + count):
        d = header_hash(prefix76, n)
        if int.from_bytes(d, "little") <= target:
            found.append(n)
        if keep:
            h7.append(int.from_bytes(d[28:], "big"))
    return np.array(found, dtype=np.uint32), (np.array(h7, dtype=np.uint32) if keep else None)

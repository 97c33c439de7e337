"""sha256d over a nonce range: ``scan`` (numba lane kernel in kernel_lanes, hashlib fallback).

Also the scalar numba compression used by the batch kernel.

All arithmetic is uint32 and masked; hashlib is the reference (see tests).
"""

from __future__ import annotations

import numpy as np

try:
    from numba import njit, prange
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    HAVE_NUMBA = False

from workloads.hashing.sha256_numpy import IV, K, compress, words_be

_M = np.uint64(0xFFFFFFFF)
CHUNK = 4096

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


def _target_words(target: int) -> np.ndarray:
    return np.array([(target >> (32 * (7 - k))) & 0xFFFFFFFF for k in range(8)], dtype=np.uint64)


def scan(prefix76: bytes, start: int, count: int, target: int, keep_digests: bool = False
         ) -> tuple[np.ndarray, np.ndarray | None]:
    """Double SHA-256 of ``prefix76 + nonce`` for nonces start..start+count-1 (< 2^32).

    Returns:
        (hit nonces as uint32 array, (count, 32) uint8 digests in hashlib's byte order or None).
    """
    if len(prefix76) != 76:
        raise ValueError("prefix must be 76 bytes")
    if start < 0 or count < 0 or start + count > 2 ** 32:
        raise ValueError("nonce range must lie within 0..2^32-1")
    if not HAVE_NUMBA:
        return _scan_fallback(prefix76, start, count, target, keep_digests)
    from workloads.hashing.kernel_lanes import sha256d_lanes
    mid = compress(IV, words_be(prefix76[:64]).reshape(16, 1))[:, 0].astype(np.uint32)
    tail = words_be(prefix76[64:76]).astype(np.uint32)
    digests = np.zeros((count if keep_digests else 0, 8), dtype=np.uint32)
    hits = np.zeros(count, dtype=np.uint8)
    sha256d_lanes(mid, tail, np.int64(start), np.int64(count), _target_words(target).astype(np.uint32),
                  digests, hits)
    found = (np.nonzero(hits)[0] + start).astype(np.uint32)
    if not keep_digests:
        return found, None
    return found, digests.astype(">u4").view(np.uint8).reshape(count, 32)


def _scan_fallback(prefix76: bytes, start: int, count: int, target: int, keep: bool
                   ) -> tuple[np.ndarray, np.ndarray | None]:
    from workloads.hashing.reference import header_hash
    found, out = [], []
    for n in range(start, start + count):
        d = header_hash(prefix76, n)
        if int.from_bytes(d, "little") <= target:
            found.append(n)
        if keep:
            out.append(np.frombuffer(d, dtype=np.uint8))
    return np.array(found, dtype=np.uint32), (np.stack(out) if keep and out else
                                               (np.zeros((0, 32), np.uint8) if keep else None))

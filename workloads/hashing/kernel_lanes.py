"""numba sha256d kernel vectorised across LANES nonces (uint32 lane arrays LLVM turns into SIMD).

uint32 values are widened by numba's integer promotion; every right shift reads a value just
loaded from a uint32 array, so the garbage above bit 31 never reaches the low word.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from workloads.hashing.sha256_numpy import IV, K

LANES = 16
_K32 = K.copy()
_IV32 = IV.copy()


@njit(cache=True, inline="always")
def _r(x, n):
    return (x >> np.uint32(n)) | (x << np.uint32(32 - n))


@njit(cache=True)
def _comp(st, W, A, E, out):
    """Compress W[0:16, lanes] from st (8, lanes) into out; A/E are (68, lanes) round buffers."""
    for i in range(16, 64):
        for l in range(LANES):
            x = W[i - 15, l]
            y = W[i - 2, l]
            W[i, l] = (W[i - 16, l] + (_r(x, 7) ^ _r(x, 18) ^ (x >> np.uint32(3))) + W[i - 7, l]
                       + (_r(y, 17) ^ _r(y, 19) ^ (y >> np.uint32(10))))
    for l in range(LANES):
        A[3, l] = st[0, l]; A[2, l] = st[1, l]; A[1, l] = st[2, l]; A[0, l] = st[3, l]
        E[3, l] = st[4, l]; E[2, l] = st[5, l]; E[1, l] = st[6, l]; E[0, l] = st[7, l]
    for i in range(64):
        k = _K32[i]
        for l in range(LANES):
            e = E[i + 3, l]; f = E[i + 2, l]; g = E[i + 1, l]; h = E[i, l]
            a = A[i + 3, l]; b = A[i + 2, l]; c = A[i + 1, l]; d = A[i, l]
            t1 = h + (_r(e, 6) ^ _r(e, 11) ^ _r(e, 25)) + ((e & f) ^ (~e & g)) + k + W[i, l]
            E[i + 4, l] = d + t1
            A[i + 4, l] = t1 + (_r(a, 2) ^ _r(a, 13) ^ _r(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))
    for l in range(LANES):
        out[0, l] = st[0, l] + A[67, l]; out[1, l] = st[1, l] + A[66, l]
        out[2, l] = st[2, l] + A[65, l]; out[3, l] = st[3, l] + A[64, l]
        out[4, l] = st[4, l] + E[67, l]; out[5, l] = st[5, l] + E[66, l]
        out[6, l] = st[6, l] + E[65, l]; out[7, l] = st[7, l] + E[64, l]


@njit(cache=True, inline="always")
def _bswap(x):
    return (((x & np.uint32(0xFF)) << np.uint32(24)) | ((x & np.uint32(0xFF00)) << np.uint32(8))
            | ((x >> np.uint32(8)) & np.uint32(0xFF00)) | (x >> np.uint32(24)))


@njit(parallel=True, fastmath=False, cache=True)
def sha256d_lanes(mid, tail, start, count, target, digests, hits):
    """Nonces start..start+count-1 in groups of LANES; hits[j] = 1 where hash <= target.

    ``target``: 8 uint32 words, most significant first. ``digests`` (count, 8) is filled when it has rows.
    """
    ngroups = (count + LANES - 1) // LANES
    keep = digests.shape[0] > 0
    for gi in prange(ngroups):
        W = np.zeros((64, LANES), np.uint32)
        A = np.empty((68, LANES), np.uint32)
        E = np.empty((68, LANES), np.uint32)
        s0 = np.empty((8, LANES), np.uint32)
        s1 = np.empty((8, LANES), np.uint32)
        s2 = np.empty((8, LANES), np.uint32)
        for l in range(LANES):
            n = np.uint32((start + gi * LANES + l) & 0xFFFFFFFF)
            for k in range(8):
                s0[k, l] = mid[k]
            W[0, l] = tail[0]; W[1, l] = tail[1]; W[2, l] = tail[2]
            W[3, l] = _bswap(n)
            W[4, l] = np.uint32(0x80000000)
            W[15, l] = np.uint32(640)
        _comp(s0, W, A, E, s1)
        for l in range(LANES):
            for k in range(8):
                W[k, l] = s1[k, l]
                s0[k, l] = _IV32[k]
            W[8, l] = np.uint32(0x80000000)
            for k in range(9, 15):
                W[k, l] = 0
            W[15, l] = np.uint32(256)
        _comp(s0, W, A, E, s2)
        for l in range(LANES):
            j = gi * LANES + l
            if j >= count:
                break
            if keep:
                for k in range(8):
                    digests[j, k] = s2[k, l]
            # Early exit: the most significant word (byte-swapped s2[7]) decides almost always.
            ok = 1
            for k in range(8):
                v = _bswap(np.uint32(s2[7 - k, l]))
                if v < target[k]:
                    break
                if v > target[k]:
                    ok = 0
                    break
            hits[j] = ok

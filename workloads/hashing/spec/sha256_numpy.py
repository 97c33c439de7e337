"""SHA-256 compression vectorised across lanes with numpy uint32 arrays.

A portable implementation independent of hashlib, used where no compiled
kernel is available and as a second implementation in tests.
"""

from __future__ import annotations

import numpy as np

K = np.array([
    0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
    0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
    0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
    0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
    0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
    0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
    0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
    0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
], dtype=np.uint32)

IV = np.array([0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19],
              dtype=np.uint32)


def _rotr(x: np.ndarray, n: int) -> np.ndarray:
    return (x >> np.uint32(n)) | (x << np.uint32(32 - n))


def compress(state: np.ndarray, block: np.ndarray) -> np.ndarray:
    """One compression of 16-word blocks.

    Args:
        state: (8, N) or (8,) uint32 chaining values.
        block: (16, N) uint32 message words (big-endian words of the block).

    Returns:
        (8, N) uint32 new chaining values.
    """
    n = block.shape[1]
    state = np.broadcast_to(state.reshape(8, -1), (8, n)) if state.ndim == 1 or state.shape[1] == 1 else state
    w = [block[i] for i in range(16)]
    with np.errstate(over="ignore"):
        for i in range(16, 64):
            s0 = _rotr(w[i - 15], 7) ^ _rotr(w[i - 15], 18) ^ (w[i - 15] >> np.uint32(3))
            s1 = _rotr(w[i - 2], 17) ^ _rotr(w[i - 2], 19) ^ (w[i - 2] >> np.uint32(10))
            w.append(w[i - 16] + s0 + w[i - 7] + s1)
        a, b, c, d, e, f, g, h = (state[i].copy() for i in range(8))
        for i in range(64):
            s1 = _rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)
            ch = (e & f) ^ (~e & g)
            t1 = h + s1 + ch + K[i] + w[i]
            s0 = _rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)
            maj = (a & b) ^ (a & c) ^ (b & c)
            h, g, f, e, d, c, b, a = g, f, e, d + t1, c, b, a, t1 + s0 + maj
        return np.stack([a, b, c, d, e, f, g, h]) + state


def words_be(data: bytes) -> np.ndarray:
    """Bytes (a multiple of 4 long) as big-endian uint32 words."""
    return np.frombuffer(data, dtype=">u4").astype(np.uint32)


def sha256d_headers(prefix76: bytes, nonces: np.ndarray) -> np.ndarray:
    """Double SHA-256 of 80-byte headers ``prefix76 + nonce (little-endian)``.

    Returns:
        (N, 32) uint8 digests, in the byte order hashlib returns.
    """
    n = nonces.size
    mid = compress(IV, words_be(prefix76[:64]).reshape(16, 1))
    tail = words_be(prefix76[64:76])
    nonce_be = nonces.astype(np.uint32).byteswap()
    block = np.zeros((16, n), dtype=np.uint32)
    block[0:3] = tail[:, None]
    block[3] = nonce_be
    block[4] = 0x80000000
    block[15] = 640
    first = compress(mid, block)
    block2 = np.zeros((16, n), dtype=np.uint32)
    block2[0:8] = first
    block2[8] = 0x80000000
    block2[15] = 256
    second = compress(IV, block2)
    return np.ascontiguousarray(second.T).astype(">u4").view(np.uint8).reshape(n, 32)

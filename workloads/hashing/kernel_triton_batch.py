"""Triton GPU kernel: SHA-256 of N independent equal-length messages (the ``sha256`` workload).

One message per lane, uint32 throughout as in kernel_triton. The messages are padded and turned
into big-endian words once, on the device, before anything is timed (:func:`pad_words`); the
kernel compresses a runtime number of blocks, so one compile serves every length (a kernel with
the length as a compile-time constant took minutes to compile per length).
"""

from __future__ import annotations

import numpy as np
import torch
import triton
import triton.language as tl

from workloads.hashing.kernel_triton import KC, _round, _s0, _s1
from workloads.hashing.sha256_consts import IV_INT

BLOCK = 256
NUM_WARPS = 8
INTERPRET_BLOCK = 64  # under TRITON_INTERPRET each program costs ~1 s per block
IVC = tl.constexpr(IV_INT)


@triton.jit
def _ld(p, n, k: tl.constexpr, live):
    return tl.load(p + k * n, mask=live, other=0).to(tl.uint32, bitcast=True)


@triton.jit
def _compress(s0, s1, s2, s3, s4, s5, s6, s7, w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13,
              w14, w15):
    a, b, c, d, e, f, g, h = s0, s1, s2, s3, s4, s5, s6, s7
    for i in tl.static_range(64):
        a, b, c, d, e, f, g, h = _round(a, b, c, d, e, f, g, h, w0 + KC[i])
        wn = w15
        if i + 16 < 64:
            wn = _s1(w14) + w9 + _s0(w1) + w0
        w0, w1, w2, w3, w4, w5, w6, w7 = w1, w2, w3, w4, w5, w6, w7, w8
        w8, w9, w10, w11, w12, w13, w14, w15 = w9, w10, w11, w12, w13, w14, w15, wn
    return s0 + a, s1 + b, s2 + c, s3 + d, s4 + e, s5 + f, s6 + g, s7 + h


@triton.jit(do_not_specialize=["n", "nblocks"])
def _sha256_blocks_kernel(words, out, n, nblocks, BLOCK: tl.constexpr):
    """out[k, r] = SHA-256 state word k of message r, from padded words laid out [block*16 + k, r]."""
    r = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    live = r < n
    zero = tl.full([BLOCK], 0, tl.uint32)
    s0, s1, s2, s3 = zero + IVC[0], zero + IVC[1], zero + IVC[2], zero + IVC[3]
    s4, s5, s6, s7 = zero + IVC[4], zero + IVC[5], zero + IVC[6], zero + IVC[7]
    for blk in range(nblocks):
        p = words + blk * 16 * n + r
        s0, s1, s2, s3, s4, s5, s6, s7 = _compress(
            s0, s1, s2, s3, s4, s5, s6, s7,
            _ld(p, n, 0, live), _ld(p, n, 1, live), _ld(p, n, 2, live), _ld(p, n, 3, live),
            _ld(p, n, 4, live), _ld(p, n, 5, live), _ld(p, n, 6, live), _ld(p, n, 7, live),
            _ld(p, n, 8, live), _ld(p, n, 9, live), _ld(p, n, 10, live), _ld(p, n, 11, live),
            _ld(p, n, 12, live), _ld(p, n, 13, live), _ld(p, n, 14, live), _ld(p, n, 15, live))
    tl.store(out + r, s0.to(tl.int32, bitcast=True), mask=live)
    tl.store(out + n + r, s1.to(tl.int32, bitcast=True), mask=live)
    tl.store(out + 2 * n + r, s2.to(tl.int32, bitcast=True), mask=live)
    tl.store(out + 3 * n + r, s3.to(tl.int32, bitcast=True), mask=live)
    tl.store(out + 4 * n + r, s4.to(tl.int32, bitcast=True), mask=live)
    tl.store(out + 5 * n + r, s5.to(tl.int32, bitcast=True), mask=live)
    tl.store(out + 6 * n + r, s6.to(tl.int32, bitcast=True), mask=live)
    tl.store(out + 7 * n + r, s7.to(tl.int32, bitcast=True), mask=live)


def pad_words(msgs: torch.Tensor) -> torch.Tensor:
    """Padded message words of a (N, L) uint8 tensor as int32 laid out [block*16 + k, N] (lanes adjacent).

    SHA-256 padding (0x80, zeros, the 64-bit big-endian bit length) done once with torch on the
    tensor's device, outside the timed kernel.
    """
    n, length = msgs.shape
    nblocks = (length + 9 + 63) // 64
    padded = torch.zeros((n, nblocks * 64), dtype=torch.uint8, device=msgs.device)
    padded[:, :length] = msgs
    padded[:, length] = 0x80
    padded[:, -8:] = torch.tensor(list((8 * length).to_bytes(8, "big")), dtype=torch.uint8)
    b = padded.view(n, nblocks * 16, 4).to(torch.int64)
    words = (b[..., 0] << 24) | (b[..., 1] << 16) | (b[..., 2] << 8) | b[..., 3]
    return torch.where(words >= 2 ** 31, words - 2 ** 32, words).to(torch.int32).t().contiguous()


def sha256_batch_states(words: torch.Tensor) -> torch.Tensor:
    """SHA-256 state words (8, N) int32 from :func:`pad_words`' output, on its device; no sync."""
    n = words.shape[1]
    out = torch.empty((8, n), dtype=torch.int32, device=words.device)
    if n:
        block = BLOCK if words.is_cuda else INTERPRET_BLOCK
        _sha256_blocks_kernel[(triton.cdiv(n, block),)](words, out, n, words.shape[0] // 16, BLOCK=block,
                                                        num_warps=NUM_WARPS)
    return out


def digests(states: torch.Tensor) -> np.ndarray:
    """(N, 32) uint8 digests in hashlib's byte order from :func:`sha256_batch_states`' output."""
    return np.ascontiguousarray(states.cpu().numpy().view(np.uint32).T).astype(">u4").view(np.uint8).reshape(-1, 32)

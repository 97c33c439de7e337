"""Triton GPU kernel: SHA-256 of N independent equal-length messages (the ``sha256`` workload).

One message per lane, uint32 throughout as in kernel_triton. The messages are padded and turned
into big-endian words once, on the device, before anything is timed (:func:`pad_words`); the
kernel compresses a runtime number of blocks, so one compile serves every length (a kernel with
the length as a compile-time constant took minutes to compile per length).

Word offsets are 64-bit (:func:`_word_offset`): a batch of N messages of B blocks spans 16 x B x N
words, past 2^31 for 1 KiB messages from N = 8M, where 32-bit offsets wrapped and read out of bounds.
"""

from __future__ import annotations

import numpy as np
import torch
import triton
import triton.language as tl

from workloads.hashing.kernels.gpu.kernel_triton import KC, _round, _s0, _s1, on_device
from workloads.hashing.spec.sha256_consts import IV_INT

BLOCK = 256
NUM_WARPS = 8
INTERPRET_BLOCK = 64  # under TRITON_INTERPRET each program costs ~1 s per block
IVC = tl.constexpr(IV_INT)


@triton.jit
def _word_offset(blk, k, n64, r):
    """Offset of word ``k`` of block ``blk`` of messages ``r`` in the [block*16 + k, N] layout.

    ``n64`` is N as int64, and every product has it as a factor, so nothing is computed in int32.
    """
    return n64 * 16 * blk + n64 * k + r


@triton.jit
def _ld(words, blk, n64, k: tl.constexpr, r, live):
    return tl.load(words + _word_offset(blk, k, n64, r), mask=live, other=0).to(tl.uint32, bitcast=True)


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
    n64 = n.to(tl.int64)
    for blk in range(nblocks):
        s0, s1, s2, s3, s4, s5, s6, s7 = _compress(
            s0, s1, s2, s3, s4, s5, s6, s7,
            _ld(words, blk, n64, 0, r, live), _ld(words, blk, n64, 1, r, live), _ld(words, blk, n64, 2, r, live),
            _ld(words, blk, n64, 3, r, live), _ld(words, blk, n64, 4, r, live), _ld(words, blk, n64, 5, r, live),
            _ld(words, blk, n64, 6, r, live), _ld(words, blk, n64, 7, r, live), _ld(words, blk, n64, 8, r, live),
            _ld(words, blk, n64, 9, r, live), _ld(words, blk, n64, 10, r, live), _ld(words, blk, n64, 11, r, live),
            _ld(words, blk, n64, 12, r, live), _ld(words, blk, n64, 13, r, live), _ld(words, blk, n64, 14, r, live),
            _ld(words, blk, n64, 15, r, live))
    tl.store(out + r, s0.to(tl.int32, bitcast=True), mask=live)
    tl.store(out + n64 + r, s1.to(tl.int32, bitcast=True), mask=live)
    tl.store(out + 2 * n64 + r, s2.to(tl.int32, bitcast=True), mask=live)
    tl.store(out + 3 * n64 + r, s3.to(tl.int32, bitcast=True), mask=live)
    tl.store(out + 4 * n64 + r, s4.to(tl.int32, bitcast=True), mask=live)
    tl.store(out + 5 * n64 + r, s5.to(tl.int32, bitcast=True), mask=live)
    tl.store(out + 6 * n64 + r, s6.to(tl.int32, bitcast=True), mask=live)
    tl.store(out + 7 * n64 + r, s7.to(tl.int32, bitcast=True), mask=live)


PAD_CHUNK = 1 << 20  # rows padded at a time: bounds pad_words' int64 intermediates


def pad_words(msgs: torch.Tensor) -> torch.Tensor:
    """Padded message words of a (N, L) uint8 tensor as int32 laid out [block*16 + k, N] (lanes adjacent).

    SHA-256 padding (0x80, zeros, the 64-bit big-endian bit length) done once with torch on the
    tensor's device, outside the timed kernel, ``PAD_CHUNK`` rows at a time so the temporaries
    stay small beside the result.
    """
    n, length = msgs.shape
    nblocks = (length + 9 + 63) // 64
    out = torch.empty((nblocks * 16, n), dtype=torch.int32, device=msgs.device)
    tail = torch.tensor(list((8 * length).to_bytes(8, "big")), dtype=torch.uint8, device=msgs.device)
    for lo in range(0, n, PAD_CHUNK):
        rows = msgs[lo:lo + PAD_CHUNK]
        m = rows.shape[0]
        padded = torch.zeros((m, nblocks * 64), dtype=torch.uint8, device=msgs.device)
        padded[:, :length] = rows
        padded[:, length] = 0x80
        padded[:, -8:] = tail
        b = padded.view(m, nblocks * 16, 4).to(torch.int64)
        words = (b[..., 0] << 24) | (b[..., 1] << 16) | (b[..., 2] << 8) | b[..., 3]
        out[:, lo:lo + m] = torch.where(words >= 2 ** 31, words - 2 ** 32, words).to(torch.int32).t()
    return out


def sha256_batch_states(words: torch.Tensor) -> torch.Tensor:
    """SHA-256 state words (8, N) int32 from :func:`pad_words`' output, on its device; no sync."""
    n = words.shape[1]
    out = torch.empty((8, n), dtype=torch.int32, device=words.device)
    if n:
        block = BLOCK if words.is_cuda else INTERPRET_BLOCK
        with on_device(words):
            _sha256_blocks_kernel[(triton.cdiv(n, block),)](words, out, n, words.shape[0] // 16, BLOCK=block,
                                                            num_warps=NUM_WARPS)
    return out


def digests(states: torch.Tensor) -> np.ndarray:
    """(N, 32) uint8 digests in hashlib's byte order from :func:`sha256_batch_states`' output."""
    return np.ascontiguousarray(states.cpu().numpy().view(np.uint32).T).astype(">u4").view(np.uint8).reshape(-1, 32)

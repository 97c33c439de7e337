"""Triton GPU kernel: Bitcoin double SHA-256 over a nonce range, the miners' way.

uint32 arithmetic throughout (Triton's ``>>`` on int32 is arithmetic, so every value the
kernel shifts is a ``tl.uint32`` tensor and rotates are logical). Folded work:

- the midstate of the first 64 header bytes, rounds 0-2 of the second block (they read only
  header words) and the nonce-free part of round 3 are computed once on the host
  (:func:`header_params`);
- message words that are padding constants are folded: K[i] + W[i] is one constant for rounds
  4-15 of the first hash and 8-15 of the second, and schedule terms that read constant words
  are host constants or vanish (W16/W17 of the first hash are header constants);
- round 0 of the second hash starts from the IV and reduces to two additions;
- only H7 of the second hash is needed for the test, and H7 = IV7 + e after round 60, so
  rounds 61-63 are skipped and rounds 57-60 compute e alone.

The early test: Bitcoin reads the digest as a little-endian 256-bit integer, so its most
significant 32 bits are the digest's last four bytes, i.e. byte-swapped H7. A nonce is a
*candidate* when bswap(H7) <= the target's top word; candidates are appended with an atomic
counter to a fixed-size buffer and the host decides the full 256-bit comparison with hashlib.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
import triton
import triton.language as tl

from workloads.hashing.spec.sha256_consts import (
    IV_INT,
    K_INT,
    M32,
    W1_PAD,
    W2_PAD,
    folded_kw,
    header_params,
    round_parts,
    small_s0,
    small_s1,
)

BLOCK = 256  # nonces per program: one per thread at 8 warps, 40 registers on sm_90
NUM_WARPS = 8
INTERPRET_BLOCK = 4096  # under TRITON_INTERPRET each program costs ~2 s whatever its size

KC = tl.constexpr(K_INT)
KW1 = tl.constexpr(folded_kw(W1_PAD, 4, 16))
KW2 = tl.constexpr(folded_kw(W2_PAD, 8, 16))
S0_640 = tl.constexpr(small_s0(640))
S0_256 = tl.constexpr(small_s0(256))
S1_256 = tl.constexpr(small_s1(256))
S0_PAD = tl.constexpr(small_s0(0x80000000))
# Round 0 of the second hash from the IV: a1 = W0 + IV_A1, e1 = W0 + IV_E1.
_T1, _T2 = round_parts(IV_INT, K_INT[0])
IV_A1 = tl.constexpr((_T1 + _T2) & M32)
IV_E1 = tl.constexpr((IV_INT[3] + _T1) & M32)
IVC = tl.constexpr(IV_INT)


def on_device(t: torch.Tensor) -> contextlib.AbstractContextManager[object]:
    """Context in which a Triton launch on ``t``'s tensors runs on ``t``'s GPU.

    Triton launches on the current CUDA device, so a kernel given tensors on ``cuda:1`` while the
    current device is 0 would run on the wrong GPU; CPU tensors (the interpreter) need nothing.
    """
    return torch.cuda.device(t.device) if t.is_cuda else contextlib.nullcontext()


@triton.jit
def _rotr(x, n: tl.constexpr):
    return (x >> n) | (x << (32 - n))


@triton.jit
def _s0(w):
    return _rotr(w, 7) ^ _rotr(w, 18) ^ (w >> 3)


@triton.jit
def _s1(w):
    return _rotr(w, 17) ^ _rotr(w, 19) ^ (w >> 10)


@triton.jit
def _t1(e, f, g, h, kw):
    return h + (_rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)) + (g ^ (e & (f ^ g))) + kw


@triton.jit
def _round(a, b, c, d, e, f, g, h, kw):
    t1 = _t1(e, f, g, h, kw)
    t2 = (_rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)) + ((a & b) | (c & (a | b)))
    return t1 + t2, a, b, c, d + t1, e, f, g


@triton.jit
def _bswap(x):
    return (x >> 24) | ((x >> 8) & 0xFF00) | ((x & 0xFF00) << 8) | (x << 24)


@triton.jit
def _ld(params, i: tl.constexpr):
    return tl.load(params + i).to(tl.uint32, bitcast=True)


@triton.jit
def _schedule_rounds(a, b, c, d, e, f, g, h, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13,
                     x14, x15, FULL: tl.constexpr, LAST: tl.constexpr):
    """Rounds 16..LAST-1 from the window x0..x15 = W16..W31; rounds from FULL on compute e only."""
    for i in tl.static_range(16, LAST):
        if i < FULL:
            a, b, c, d, e, f, g, h = _round(a, b, c, d, e, f, g, h, x0 + KC[i])
        else:
            t1 = _t1(e, f, g, h, x0 + KC[i])
            h = g
            g = f
            f = e
            e = d + t1
            d = c
            c = b
            b = a
        if i + 16 < LAST:
            xn = _s1(x14) + x9 + _s0(x1) + x0
            x0, x1, x2, x3, x4, x5, x6, x7 = x1, x2, x3, x4, x5, x6, x7, x8
            x8, x9, x10, x11, x12, x13, x14, x15 = x9, x10, x11, x12, x13, x14, x15, xn
        else:
            x0, x1, x2, x3, x4, x5, x6, x7 = x1, x2, x3, x4, x5, x6, x7, x8
            x8, x9, x10, x11, x12, x13, x14 = x9, x10, x11, x12, x13, x14, x15
    return a, b, c, d, e, f, g, h


@triton.jit(do_not_specialize=["start", "count"])
def _sha256d_kernel(params, start, count, hits, n_hits, h7_out, CAP: tl.constexpr, KEEP: tl.constexpr,
                    BLOCK: tl.constexpr):
    """Candidates of nonces start + [pid*BLOCK, (pid+1)*BLOCK) into hits[atomic n_hits]."""
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    live = offs < count
    nonce = (start + offs).to(tl.uint32)
    w3 = _bswap(nonce)

    # ---- first hash, second block: state after round 3 from host constants + W3 ----
    zero = tl.full([BLOCK], 0, tl.uint32)
    a = _ld(params, 8) + w3
    e = _ld(params, 9) + w3
    b = zero + _ld(params, 10)
    c = zero + _ld(params, 11)
    d = zero + _ld(params, 12)
    f = zero + _ld(params, 13)
    g = zero + _ld(params, 14)
    h = zero + _ld(params, 15)
    for i in tl.static_range(4, 16):
        a, b, c, d, e, f, g, h = _round(a, b, c, d, e, f, g, h, KW1[i])
    w16 = zero + _ld(params, 16)
    w17 = zero + _ld(params, 17)
    w18 = _ld(params, 18) + _s0(w3)
    w19 = _ld(params, 19) + w3
    w20 = _s1(w18) + 0x80000000
    w21 = _s1(w19)
    w22 = _s1(w20) + 640
    w23 = _s1(w21) + w16
    w24 = _s1(w22) + w17
    w25 = _s1(w23) + w18
    w26 = _s1(w24) + w19
    w27 = _s1(w25) + w20
    w28 = _s1(w26) + w21
    w29 = _s1(w27) + w22
    w30 = _s1(w28) + w23 + S0_640
    w31 = _s1(w29) + w24 + _ld(params, 20)
    a, b, c, d, e, f, g, h = _schedule_rounds(a, b, c, d, e, f, g, h, w16, w17, w18, w19, w20, w21, w22, w23,
                                              w24, w25, w26, w27, w28, w29, w30, w31, 64, 64)
    v0 = a + _ld(params, 0)
    v1 = b + _ld(params, 1)
    v2 = c + _ld(params, 2)
    v3 = d + _ld(params, 3)
    v4 = e + _ld(params, 4)
    v5 = f + _ld(params, 5)
    v6 = g + _ld(params, 6)
    v7 = h + _ld(params, 7)

    # ---- second hash: one block of the 32-byte first hash, from the IV ----
    a = v0 + IV_A1
    e = v0 + IV_E1
    b = zero + IVC[0]
    c = zero + IVC[1]
    d = zero + IVC[2]
    f = zero + IVC[4]
    g = zero + IVC[5]
    h = zero + IVC[6]
    a, b, c, d, e, f, g, h = _round(a, b, c, d, e, f, g, h, v1 + KC[1])
    a, b, c, d, e, f, g, h = _round(a, b, c, d, e, f, g, h, v2 + KC[2])
    a, b, c, d, e, f, g, h = _round(a, b, c, d, e, f, g, h, v3 + KC[3])
    a, b, c, d, e, f, g, h = _round(a, b, c, d, e, f, g, h, v4 + KC[4])
    a, b, c, d, e, f, g, h = _round(a, b, c, d, e, f, g, h, v5 + KC[5])
    a, b, c, d, e, f, g, h = _round(a, b, c, d, e, f, g, h, v6 + KC[6])
    a, b, c, d, e, f, g, h = _round(a, b, c, d, e, f, g, h, v7 + KC[7])
    for i in tl.static_range(8, 16):
        a, b, c, d, e, f, g, h = _round(a, b, c, d, e, f, g, h, KW2[i])
    x16 = _s0(v1) + v0
    x17 = _s0(v2) + v1 + S1_256
    x18 = _s1(x16) + _s0(v3) + v2
    x19 = _s1(x17) + _s0(v4) + v3
    x20 = _s1(x18) + _s0(v5) + v4
    x21 = _s1(x19) + _s0(v6) + v5
    x22 = _s1(x20) + _s0(v7) + v6 + 256
    x23 = _s1(x21) + x16 + v7 + S0_PAD
    x24 = _s1(x22) + x17 + 0x80000000
    x25 = _s1(x23) + x18
    x26 = _s1(x24) + x19
    x27 = _s1(x25) + x20
    x28 = _s1(x26) + x21
    x29 = _s1(x27) + x22
    x30 = _s1(x28) + x23 + S0_256
    x31 = _s1(x29) + x24 + _s0(x16) + 256
    a, b, c, d, e, f, g, h = _schedule_rounds(a, b, c, d, e, f, g, h, x16, x17, x18, x19, x20, x21, x22, x23,
                                              x24, x25, x26, x27, x28, x29, x30, x31, 57, 61)
    h7 = e + IVC[7]
    if KEEP:
        tl.store(h7_out + offs, h7.to(tl.int32, bitcast=True), mask=live)
    cand = live & (_bswap(h7) <= _ld(params, 21))
    slot = tl.atomic_add(n_hits + tl.full([BLOCK], 0, tl.int32), 1, mask=cand)
    tl.store(hits + slot, nonce.to(tl.int32, bitcast=True), mask=cand & (slot < CAP))


def candidates(prefix76: bytes, start: int, count: int, target_top: int, device: str,
               h7: torch.Tensor | None = None, cap: int = 4096) -> tuple[list[int], int]:
    """Run the kernel once: (candidate nonces, sorted, at most ``cap``; how many there were in all).

    ``h7``: optional int32 tensor of ``count`` elements on ``device`` that receives H7 of every nonce
    (a test hook; the production launch compiles without the store).
    """
    words = np.array(header_params(prefix76, target_top), dtype=np.uint32).view(np.int32)
    params = torch.from_numpy(words.copy()).to(device)
    hits = torch.empty(cap, dtype=torch.int32, device=device)
    n_hits = torch.zeros(1, dtype=torch.int32, device=device)
    keep = h7 is not None
    block = BLOCK if params.is_cuda else INTERPRET_BLOCK
    with on_device(params):
        _sha256d_kernel[(triton.cdiv(count, block),)](params, start, count, hits, n_hits, h7 if keep else hits,
                                                      CAP=cap, KEEP=keep, BLOCK=block, num_warps=NUM_WARPS)
    n = int(n_hits.item())
    found = hits[:min(n, cap)].cpu().numpy().view(np.uint32)
    return sorted(int(x) for x in found), n

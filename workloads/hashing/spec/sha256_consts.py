"""SHA-256 in plain Python integers: the host-side precomputation the GPU kernels fold in.

Everything here runs once per header (or once at import), never per nonce. Also how many
compressions a message of a given length costs (:func:`compressions_sha256`).
"""

from __future__ import annotations

from workloads.hashing.spec.sha256_numpy import IV, K

M32 = 0xFFFFFFFF
# Padding words that are constants. First hash, second block: W4 = 0x80000000, W5..W14 = 0,
# W15 = 640 (bit length of 80 bytes). Second hash: W8 = 0x80000000, W9..W14 = 0, W15 = 256.
W1_PAD = {4: 0x80000000, **{i: 0 for i in range(5, 15)}, 15: 640}
W2_PAD = {8: 0x80000000, **{i: 0 for i in range(9, 15)}, 15: 256}
K_INT: tuple[int, ...] = tuple(int(k) for k in K)
IV_INT: tuple[int, ...] = tuple(int(v) for v in IV)


def rotr(x: int, n: int) -> int:
    """32-bit rotate right."""
    return ((x >> n) | (x << (32 - n))) & M32


def big_s0(a: int) -> int:
    """Σ0 of the round function."""
    return rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)


def big_s1(e: int) -> int:
    """Σ1 of the round function."""
    return rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)


def small_s0(w: int) -> int:
    """σ0 of the message schedule."""
    return rotr(w, 7) ^ rotr(w, 18) ^ (w >> 3)


def small_s1(w: int) -> int:
    """σ1 of the message schedule."""
    return rotr(w, 17) ^ rotr(w, 19) ^ (w >> 10)


def round_parts(state: tuple[int, ...], kw: int) -> tuple[int, int]:
    """(T1, T2) of one round from ``state`` (a..h) and K[i] + W[i]."""
    a, b, c, _, e, f, g, h = state
    t1 = (h + big_s1(e) + (g ^ (e & (f ^ g))) + kw) & M32
    t2 = (big_s0(a) + ((a & b) | (c & (a | b)))) & M32
    return t1, t2


def rounds(state: tuple[int, ...], words: list[int], first: int, last: int) -> tuple[int, ...]:
    """Apply rounds first..last-1 with message words ``words`` (indexed by round)."""
    for i in range(first, last):
        t1, t2 = round_parts(state, (K_INT[i] + words[i]) & M32)
        a, b, c, d, e, f, g, _ = state
        state = ((t1 + t2) & M32, a, b, c, (d + t1) & M32, e, f, g)
    return state


def compress(state: tuple[int, ...], words: list[int]) -> tuple[int, ...]:
    """One full compression of 16 big-endian words."""
    w = list(words)
    for i in range(16, 64):
        w.append((small_s1(w[i - 2]) + w[i - 7] + small_s0(w[i - 15]) + w[i - 16]) & M32)
    out = rounds(state, w, 0, 64)
    return tuple((s + o) & M32 for s, o in zip(state, out))


def folded_kw(words: dict[int, int], first: int, last: int) -> tuple[int, ...]:
    """K[i] + W[i] for rounds first..last-1 whose message words are constants, as a table from round 0."""
    return tuple((K_INT[i] + words[i]) & M32 if first <= i < last else 0 for i in range(last))


def header_params(prefix76: bytes, target_top: int) -> list[int]:
    """The 22 nonce-independent words the sha256d kernels load, one header's worth of folding.

    0-7 midstate; 8/9 a and e after round 3 less W3 (the nonce word); 10-15 b, c, d, f, g, h
    after round 3; 16/17 W16/W17; 18 W18 less s0(W3); 19 W19 less W3; 20 W31's constant part
    s0(W16) + 640; 21 the target's top word.
    """
    words = [int.from_bytes(prefix76[i:i + 4], "big") for i in range(0, 76, 4)]
    mid = compress(IV_INT, words[:16])
    tail = words[16:19]
    st3 = rounds(mid, tail + [0], 0, 3)
    t1, t2 = round_parts(st3, K_INT[3])  # without W3, which the kernel adds
    a3, b3, c3, d3, e3, f3, g3, _ = st3
    w16 = (small_s0(tail[1]) + tail[0]) & M32
    w17 = (small_s1(640) + small_s0(tail[2]) + tail[1]) & M32
    x18 = (small_s1(w16) + tail[2]) & M32
    x19 = (small_s1(w17) + small_s0(0x80000000)) & M32
    x31 = (small_s0(w16) + 640) & M32
    return [*mid, (t1 + t2) & M32, (d3 + t1) & M32, a3, b3, c3, e3, f3, g3, w16, w17, x18, x19, x31, target_top]


def compressions_sha256(length: int) -> int:
    """SHA-256 compressions for a message of ``length`` bytes: ceil((L + 9) / 64)."""
    return (length + 9 + 63) // 64

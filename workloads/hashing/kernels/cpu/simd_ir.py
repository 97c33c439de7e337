"""LLVM IR of the CPU sha256d kernel: one double hash per SIMD lane, all rounds unrolled.

Each value is a ``<VF x i32>`` vector (VF nonces at once: 16 with AVX-512, 8 with AVX2), so the
code is SIMD by construction rather than by auto-vectorisation. Rotates are ``llvm.fshr``
(one ``vprord`` with AVX-512). The folding is the Triton kernel's (see kernel_triton.py): the
host's midstate and rounds 0-3 (:func:`~workloads.hashing.spec.sha256_consts.header_params`),
padding words folded into K[i] + W[i], rounds 61-63 skipped, only H7 of the second hash.
"""

from __future__ import annotations

from workloads.hashing.spec.sha256_consts import (
    IV_INT,
    K_INT,
    M32,
    W1_PAD,
    W2_PAD,
    folded_kw,
    round_parts,
    small_s0,
    small_s1,
)


class _Ir:
    """SSA emitter over ``<VF x i32>`` values (names or splat constants)."""

    def __init__(self, vf: int) -> None:
        self.vf = vf
        self.ty = f"<{vf} x i32>"
        self.lines: list[str] = []
        self.n = 0
        self.bc: tuple[str, str, str] | None = None  # (b, c, b ^ c) of the next round, from this one's a ^ b

    def const(self, v: int) -> str:
        return "<" + ", ".join([f"i32 {v & M32}"] * self.vf) + ">"

    def op(self, code: str, a: str, b: str) -> str:
        self.n += 1
        self.lines.append(f"  %v{self.n} = {code} {self.ty} {a}, {b}")
        return f"%v{self.n}"

    def add(self, *xs: str) -> str:
        out = xs[0]
        for x in xs[1:]:
            out = self.op("add", out, x)
        return out

    def xor(self, *xs: str) -> str:
        out = xs[0]
        for x in xs[1:]:
            out = self.op("xor", out, x)
        return out

    def rot(self, x: str, n: int) -> str:
        self.n += 1
        self.lines.append(f"  %v{self.n} = call {self.ty} @llvm.fshr.v{self.vf}i32({self.ty} {x}, {self.ty} {x}, "
                          f"{self.ty} {self.const(n)})")
        return f"%v{self.n}"

    def shr(self, x: str, n: int) -> str:
        return self.op("lshr", x, self.const(n))

    def big_s0(self, a: str) -> str:
        return self.xor(self.rot(a, 2), self.rot(a, 13), self.rot(a, 22))

    def big_s1(self, e: str) -> str:
        return self.xor(self.rot(e, 6), self.rot(e, 11), self.rot(e, 25))

    def s0(self, w: str) -> str:
        return self.xor(self.rot(w, 7), self.rot(w, 18), self.shr(w, 3))

    def s1(self, w: str) -> str:
        return self.xor(self.rot(w, 17), self.rot(w, 19), self.shr(w, 10))

    def round(self, st: list[str], kw: str, e_only: bool = False) -> list[str]:
        a, b, c, d, e, f, g, h = st
        ch = self.xor(g, self.op("and", e, self.xor(f, g)))
        t1 = self.add(h, self.big_s1(e), ch, kw)
        new_e = self.add(d, t1)
        if e_only:  # a no longer reaches H7: keep the name so the shift stays uniform
            return [a, a, b, c, new_e, e, f, g]
        # Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)); this round's a ^ b is the next round's b ^ c.
        bc = self.bc[2] if self.bc is not None and self.bc[:2] == (b, c) else self.xor(b, c)
        ab = self.xor(a, b)
        self.bc = (a, b, ab)
        maj = self.xor(b, self.op("and", ab, bc))
        return [self.add(t1, self.big_s0(a), maj), a, b, c, new_e, e, f, g]

    def rounds(self, st: list[str], w: dict[int, str], first: int, full: int, last: int) -> list[str]:
        """Rounds first..last-1, W[i] from ``w`` or the recurrence; only e from round ``full`` on."""
        for i in range(first, last):
            if i not in w:
                w[i] = self.add(self.s1(w[i - 2]), w[i - 7], self.s0(w[i - 15]), w[i - 16])
            st = self.round(st, self.add(w[i], self.const(K_INT[i])), e_only=i >= full)
        return st


def _body(ir: _Ir, w3: str, p: list[str]) -> str:
    """Emit the double hash from the nonce word ``w3`` and header splats ``p``; return H7's name."""
    c = ir.const
    st = [ir.add(p[8], w3), p[10], p[11], p[12], ir.add(p[9], w3), p[13], p[14], p[15]]
    kw1 = folded_kw(W1_PAD, 4, 16)
    for i in range(4, 16):
        st = ir.round(st, c(kw1[i]))
    w: dict[int, str] = {3: w3, 16: p[16], 17: p[17]}
    w[18] = ir.add(p[18], ir.s0(w3))
    w[19] = ir.add(p[19], w3)
    w[20] = ir.add(ir.s1(w[18]), c(0x80000000))
    w[21] = ir.s1(w[19])
    w[22] = ir.add(ir.s1(w[20]), c(640))
    for i in range(23, 30):
        w[i] = ir.add(ir.s1(w[i - 2]), w[i - 7])
    w[30] = ir.add(ir.s1(w[28]), w[23], c(small_s0(640)))
    w[31] = ir.add(ir.s1(w[29]), w[24], p[20])
    st = ir.rounds(st, w, 16, 64, 64)
    v = [ir.add(x, p[k]) for k, x in enumerate(st)]

    t1, t2 = round_parts(IV_INT, K_INT[0])
    iv = [c(x) for x in IV_INT]
    st = [ir.add(v[0], c(t1 + t2)), iv[0], iv[1], iv[2], ir.add(v[0], c(IV_INT[3] + t1)), iv[4], iv[5], iv[6]]
    for i in range(1, 8):
        st = ir.round(st, ir.add(v[i], c(K_INT[i])))
    kw2 = folded_kw(W2_PAD, 8, 16)
    for i in range(8, 16):
        st = ir.round(st, c(kw2[i]))
    x: dict[int, str] = dict(enumerate(v))
    x[16] = ir.add(ir.s0(v[1]), v[0])
    x[17] = ir.add(ir.s0(v[2]), v[1], c(small_s1(256)))
    for i in range(18, 22):
        x[i] = ir.add(ir.s1(x[i - 2]), ir.s0(v[i - 15]), v[i - 16])
    x[22] = ir.add(ir.s1(x[20]), ir.s0(v[7]), v[6], c(256))
    x[23] = ir.add(ir.s1(x[21]), x[16], v[7], c(small_s0(0x80000000)))
    x[24] = ir.add(ir.s1(x[22]), x[17], c(0x80000000))
    for i in range(25, 30):
        x[i] = ir.add(ir.s1(x[i - 2]), x[i - 7])
    x[30] = ir.add(ir.s1(x[28]), x[23], c(small_s0(256)))
    x[31] = ir.add(ir.s1(x[29]), x[24], ir.s0(x[16]), c(256))
    st = ir.rounds(st, x, 16, 57, 61)
    return ir.add(st[4], c(IV_INT[7]))


def vector_ops(vf: int = 8) -> int:
    """Vector instructions one group of nonces costs in the IR (a rotate counted as one)."""
    ir = _Ir(vf)
    _body(ir, "%w3", [f"%P{k}" for k in range(22)])
    return ir.n + 4  # + nonce splat and add, bswap, compare


def module(vf: int) -> str:
    """IR of ``void sha256d_h7(ptr params, i64 start, i64 groups, ptr hits, ptr h7, i32 keep)``.

    For groups g = 0..groups-1 (at least 1): nonces start + g*VF + lane (mod 2^32);
    hits[g*VF + lane] = bswap(H7) <= params[21]; H7 stored to h7[...] when keep != 0.
    """
    ir = _Ir(vf)
    ty = ir.ty
    head = [f"  %q{k} = getelementptr i32, ptr %params, i64 {k}\n  %s{k} = load i32, ptr %q{k}\n"
            f"  %i{k} = insertelement {ty} poison, i32 %s{k}, i32 0\n"
            f"  %P{k} = shufflevector {ty} %i{k}, {ty} poison, <{vf} x i32> zeroinitializer" for k in range(22)]
    lanes = "<" + ", ".join(f"i32 {i}" for i in range(vf)) + ">"
    ir.lines += [
        f"  %base = mul i64 %g, {vf}",
        "  %n64 = add i64 %start, %base",
        "  %n32 = trunc i64 %n64 to i32",
        f"  %nb = insertelement {ty} poison, i32 %n32, i32 0",
        f"  %ns = shufflevector {ty} %nb, {ty} poison, <{vf} x i32> zeroinitializer",
        f"  %nonce = add {ty} %ns, {lanes}",
        f"  %w3 = call {ty} @llvm.bswap.v{vf}i32({ty} %nonce)",
    ]
    h7 = _body(ir, "%w3", [f"%P{k}" for k in range(22)])
    return "\n".join([
        f"declare {ty} @llvm.fshr.v{vf}i32({ty}, {ty}, {ty})",
        f"declare {ty} @llvm.bswap.v{vf}i32({ty})",
        ("define void @sha256d_h7(ptr noalias %params, i64 %start, i64 %groups, ptr noalias %hits, "
         "ptr noalias %h7, i32 %keepflag) {"),
        "entry:", *head, "  %k = icmp ne i32 %keepflag, 0", "  br label %loop",
        "loop:", "  %g = phi i64 [0, %entry], [%gn, %cont]", *ir.lines,
        f"  %sw = call {ty} @llvm.bswap.v{vf}i32({ty} {h7})",
        f"  %hit = icmp ule {ty} %sw, %P21",
        f"  %hit8 = zext <{vf} x i1> %hit to <{vf} x i8>",
        "  %hp = getelementptr i8, ptr %hits, i64 %base",
        f"  store <{vf} x i8> %hit8, ptr %hp, align 1",
        "  br i1 %k, label %store, label %cont",
        "store:", "  %kp = getelementptr i32, ptr %h7, i64 %base",
        f"  store {ty} {h7}, ptr %kp, align 4", "  br label %cont",
        "cont:", "  %gn = add i64 %g, 1", "  %done = icmp eq i64 %gn, %groups",
        "  br i1 %done, label %exit, label %loop",
        "exit:", "  ret void", "}", "",
    ])

"""LLVM IR of the multi-buffer SIMD batch kernel: one message per lane of ``<VF x i32>`` vectors.

The rounds and the message schedule are the sha256d kernel's vector code (:class:`simd_ir._Ir`:
``llvm.fshr`` rotates, one ``vprord`` with AVX-512; Maj from the previous round's a ^ b), run over
VF independent messages (16 with AVX-512, 8 with AVX2). Each lane reads its own block: sixteen
big-endian words gathered into vectors (byte-swapping loads and lane inserts; no gather
instruction, which is slow on AMD). The constant last block (padding and length only) has the
same words in every lane, so its W + K schedule is computed once per call and its rounds read it.
"""

from __future__ import annotations

from collections.abc import Sequence

from workloads.hashing.kernels.cpu.batch_ir import DECLS, Emitter, Kernel, batch_function
from workloads.hashing.kernels.cpu.simd_ir import _Ir
from workloads.hashing.spec.sha256_consts import IV_INT, K_INT


def _words(ir: _Ir, ptrs: Sequence[str]) -> dict[int, str]:
    """W0..W15 of each lane's 64-byte block as VF-lane vectors."""
    w: dict[int, str] = {}
    for k in range(16):
        v = "poison"
        for lane, p in enumerate(ptrs):
            ir.n += 1
            q = f"%v{ir.n}"
            ir.lines.append(f"  {q} = getelementptr i8, ptr {p}, i64 {4 * k}")
            ir.n += 1
            x = f"%v{ir.n}"
            ir.lines.append(f"  {x} = load i32, ptr {q}, align 1")
            ir.n += 1
            sw = f"%v{ir.n}"
            ir.lines.append(f"  {sw} = call i32 @llvm.bswap.i32(i32 {x})")
            ir.n += 1
            ir.lines.append(f"  %v{ir.n} = insertelement {ir.ty} {v}, i32 {sw}, i32 {lane}")
            v = f"%v{ir.n}"
        w[k] = v
    return w


def _schedule(ir: _Ir, w: dict[int, str]) -> dict[int, str]:
    for i in range(16, 64):
        w[i] = ir.add(ir.s1(w[i - 2]), w[i - 7], ir.s0(w[i - 15]), w[i - 16])
    return w


def compression_ops(vf: int = 8) -> int:
    """Vector instructions one compression of VF lanes costs (schedule and rounds, a rotate as one)."""
    ir = _Ir(vf)
    w = _schedule(ir, {k: f"%w{k}" for k in range(16)})
    st = [f"%s{k}" for k in range(8)]
    for i in range(64):
        st = ir.round(st, ir.add(w[i], ir.const(K_INT[i])))
    n = ir.n
    return n + 8  # + the feed-forward additions


def module(vf: int = 8) -> str:
    """IR of :func:`~workloads.hashing.kernels.cpu.batch_ir.batch_function` over ``vf`` lanes."""
    ir = _Ir(vf)
    ty = ir.ty
    em = Emitter()

    def flush() -> None:
        em.lines += ir.lines
        ir.lines = []

    def rounds(state: Sequence[str], kw: Sequence[str]) -> list[str]:
        ir.bc = None
        st = list(state)
        for i in range(64):
            st = ir.round(st, kw[i])
        new = [ir.add(x, s) for x, s in zip(st, state)]
        flush()
        return new

    def compress(ptrs: Sequence[str], state: Sequence[str]) -> list[str]:
        w = _schedule(ir, _words(ir, ptrs))
        return rounds(state, [ir.add(w[i], ir.const(K_INT[i])) for i in range(64)])

    def compress_const(ptrs: Sequence[str], state: Sequence[str]) -> list[str]:
        kw = []
        for i in range(64):
            ir.n += 1
            ir.lines.append(f"  %v{ir.n} = getelementptr {ty}, ptr %kwc, i64 {i}")
            ir.n += 1
            ir.lines.append(f"  %v{ir.n} = load {ty}, ptr %v{ir.n - 1}, align 64")
            kw.append(f"%v{ir.n}")
        return rounds(state, kw)

    def prologue(ptrs: Sequence[str]) -> None:  # W + K of the constant last block, in every lane
        w = _schedule(ir, _words(ir, ["%constblk"] * vf))
        for i in range(64):
            kw = ir.add(w[i], ir.const(K_INT[i]))
            ir.n += 1
            ir.lines.append(f"  %v{ir.n} = getelementptr {ty}, ptr %kwc, i64 {i}")
            ir.lines.append(f"  store {ty} {kw}, ptr %v{ir.n}, align 64")
        flush()

    def store(state: Sequence[str], dsts: Sequence[str]) -> None:
        for lane, dst in enumerate(dsts):
            v = "poison"
            for k, x in enumerate(state):
                e = em.emit(f"extractelement {ty} {x}, i32 {lane}")
                v = em.emit(f"insertelement <8 x i32> {v}, i32 {e}, i32 {k}")
            sw = em.emit(f"call <8 x i32> @llvm.bswap.v8i32(<8 x i32> {v})")
            em.raw(f"  store <8 x i32> {sw}, ptr {dst}, align 1")

    kernel = Kernel(group=vf, state_type=[ty] * 8, init=[ir.const(h) for h in IV_INT],
                    compress=compress, compress_const=compress_const, store=store, prologue=prologue,
                    entry=[f"  %kwc = alloca [64 x {ty}], align 64"])
    fn = batch_function(em, kernel)
    decls = DECLS + [f"declare {ty} @llvm.fshr.v{vf}i32({ty}, {ty}, {ty})", "declare i32 @llvm.bswap.i32(i32)",
                     "declare <8 x i32> @llvm.bswap.v8i32(<8 x i32>)"]
    return "\n".join(decls) + "\n" + fn + "\n"

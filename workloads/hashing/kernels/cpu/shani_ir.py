"""LLVM IR of the SHA-NI batch kernel: ``sha256rnds2``/``sha256msg1``/``sha256msg2``, S messages at once.

One message's compression is a chain of 32 ``sha256rnds2`` (two rounds each), every one waiting
for the one before (latency 4 cycles on Zen 3, while one can issue per cycle), so a single
stream leaves the SHA unit idle 3 cycles in 4: that is how OpenSSL hashes one buffer. Here S
independent messages are compressed in lockstep (``interleave``) so their chains overlap.

The state lives in two ``<4 x i32>`` registers as the instructions want it: ABEF = <F, E, B, A>
and CDGH = <H, G, D, C> (lane 0 first). Message words X[j] = W[4j..4j+3]; for j >= 4,
X[j] = msg2(msg1(X[j-4], X[j-3]) + W[4j-7..4j-4], X[j-1]) (Intel's SHA extensions paper).

``emulate=True`` replaces the three instructions by IR functions written from the Intel SDM's
pseudocode for them, so the kernel's data flow (layout, schedule, padding, interleave) runs
and is tested on CPUs without SHA-NI; on CPUs with it the tests also check the emulation
against the instructions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain

from workloads.hashing.kernels.cpu.batch_ir import DECLS, Emitter, Kernel, batch_function
from workloads.hashing.spec.sha256_consts import IV_INT, K_INT

V4 = "<4 x i32>"


def _vec(words: Sequence[int]) -> str:
    return "<" + ", ".join(f"i32 {w & 0xFFFFFFFF}" for w in words) + ">"


def _rot(em: Emitter, x: str, n: int) -> str:
    return em.emit(f"call i32 @llvm.fshr.i32(i32 {x}, i32 {x}, i32 {n})")


def _xor3(em: Emitter, a: str, b: str, c: str) -> str:
    return em.emit(f"xor i32 {em.emit(f'xor i32 {a}, {b}')}, {c}")


def _small(em: Emitter, x: str, r1: int, r2: int, sh: int) -> str:
    return _xor3(em, _rot(em, x, r1), _rot(em, x, r2), em.emit(f"lshr i32 {x}, {sh}"))


def _lanes(em: Emitter, v: str) -> list[str]:
    return [em.emit(f"extractelement {V4} {v}, i32 {i}") for i in range(4)]


def _pack(em: Emitter, xs: Sequence[str]) -> str:
    v = "poison"
    for i, x in enumerate(xs):
        v = em.emit(f"insertelement {V4} {v}, i32 {x}, i32 {i}")
    return v


def _define(name: str, args: str, em: Emitter, result: str) -> list[str]:
    return [f"define internal {V4} @{name}({args}) alwaysinline {{", *em.lines, f"  ret {V4} {result}", "}"]


def emulation() -> str:
    """IR of ``@emu_sha256rnds2``/``msg1``/``msg2``: the SDM's Operation sections, in scalar i32 code."""
    em = Emitter()  # sha256msg1: dest[i] = W[i] + sigma0(W[i+1]) over W0..W3 = src1, W4 = src2[0]
    w = _lanes(em, "%a") + [em.emit(f"extractelement {V4} %b, i32 0")]
    res = [em.emit(f"add i32 {w[i]}, {_small(em, w[i + 1], 7, 18, 3)}") for i in range(4)]
    out = _define("emu_sha256msg1", f"{V4} %a, {V4} %b", em, _pack(em, res))

    em = Emitter()  # sha256msg2: W16, W17 from sigma1 of src2[2], src2[3]; W18, W19 from W16, W17
    a = _lanes(em, "%a")
    b = _lanes(em, "%b")
    w16 = em.emit(f"add i32 {a[0]}, {_small(em, b[2], 17, 19, 10)}")
    w17 = em.emit(f"add i32 {a[1]}, {_small(em, b[3], 17, 19, 10)}")
    w18 = em.emit(f"add i32 {a[2]}, {_small(em, w16, 17, 19, 10)}")
    w19 = em.emit(f"add i32 {a[3]}, {_small(em, w17, 17, 19, 10)}")
    out += _define("emu_sha256msg2", f"{V4} %a, {V4} %b", em, _pack(em, [w16, w17, w18, w19]))

    em = Emitter()  # sha256rnds2: two rounds; src1 = CDGH, src2 = ABEF, the words from XMM0's low half
    f0, e0, b0, a0 = _lanes(em, "%abef")
    h0, g0, d0, c0 = _lanes(em, "%cdgh")
    wk = [em.emit(f"extractelement {V4} %wk, i32 {i}") for i in (0, 1)]
    st = [a0, b0, c0, d0, e0, f0, g0, h0]
    for i in range(2):
        a_, b_, c_, d_, e_, f_, g_, h_ = st
        ch = em.emit(f"xor i32 {g_}, " + em.emit(f"and i32 {e_}, " + em.emit(f"xor i32 {f_}, {g_}")))
        maj = em.emit(f"or i32 {em.emit(f'and i32 {a_}, {b_}')}, "
                      + em.emit(f"and i32 {c_}, " + em.emit(f"or i32 {a_}, {b_}")))
        s1 = _xor3(em, _rot(em, e_, 6), _rot(em, e_, 11), _rot(em, e_, 25))
        s0 = _xor3(em, _rot(em, a_, 2), _rot(em, a_, 13), _rot(em, a_, 22))
        t = em.emit(f"add i32 {em.emit(f'add i32 {ch}, {s1}')}, " + em.emit(f"add i32 {wk[i]}, {h_}"))
        st = [em.emit(f"add i32 {t}, " + em.emit(f"add i32 {maj}, {s0}")), a_, b_, c_,
              em.emit(f"add i32 {t}, {d_}"), e_, f_, g_]
    out += _define("emu_sha256rnds2", f"{V4} %cdgh, {V4} %abef, {V4} %wk", em, _pack(em, [st[5], st[4], st[1], st[0]]))
    return "\n".join(out)


def _schedule(em: Emitter, prefix: str, src: str, wk: str) -> Iterator[None]:
    """Message schedule of the 64-byte block at ``src``: W[i] + K[i] for the 64 rounds into ``wk``
    (16 x <4 x i32>), emitted a step at a time. It does not depend on the state, so it runs ahead
    of the rounds and only the two state registers per stream stay live through them."""
    x: list[str] = []
    for j in range(16):
        if j < 4:
            p = em.emit(f"getelementptr i8, ptr {src}, i64 {16 * j}")
            x.append(em.emit(f"call {V4} @llvm.bswap.v4i32({V4} " + em.emit(f"load {V4}, ptr {p}, align 1") + ")"))
        else:
            m1 = em.emit(f"call {V4} @{prefix}sha256msg1({V4} {x[j - 4]}, {V4} {x[j - 3]})")
            mid = em.emit(f"shufflevector {V4} {x[j - 2]}, {V4} {x[j - 1]}, <4 x i32> <i32 1, i32 2, i32 3, i32 4>")
            x.append(em.emit(f"call {V4} @{prefix}sha256msg2({V4} " + em.emit(f"add {V4} {m1}, {mid}")
                             + f", {V4} {x[j - 1]})"))
        q = em.emit(f"getelementptr i8, ptr {wk}, i64 {16 * j}")
        em.raw(f"  store {V4} " + em.emit(f"add {V4} {x[j]}, {_vec(K_INT[4 * j:4 * j + 4])}") + f", ptr {q}, align 16")
        yield None


def _rounds(em: Emitter, prefix: str, wk: str, abef: str, cdgh: str) -> Iterator[tuple[str, str]]:
    """The 64 rounds from the W + K words at ``wk``, a ``sha256rnds2`` at a time; the last value
    yielded is the new (ABEF, CDGH) with the block's input state added. The upper two words for
    the second ``sha256rnds2`` of each four rounds are an 8-byte load rather than a shuffle: a
    load port instead of a vector ALU slot beside the SHA instructions."""
    st0, st1 = abef, cdgh
    for j in range(16):
        q = em.emit(f"getelementptr i8, ptr {wk}, i64 {16 * j}")
        lo = em.emit(f"load {V4}, ptr {q}, align 16")
        st1 = em.emit(f"call {V4} @{prefix}sha256rnds2({V4} {st1}, {V4} {st0}, {V4} {lo})")
        yield st0, st1
        q8 = em.emit(f"getelementptr i8, ptr {wk}, i64 {16 * j + 8}")
        h2 = em.emit(f"load <2 x i32>, ptr {q8}, align 8")
        hi = em.emit(f"shufflevector <2 x i32> {h2}, <2 x i32> poison, <4 x i32> <i32 0, i32 1, i32 poison, i32 poison>")
        st0 = em.emit(f"call {V4} @{prefix}sha256rnds2({V4} {st0}, {V4} {st1}, {V4} {hi})")
        yield st0, st1
    yield em.emit(f"add {V4} {st0}, {abef}"), em.emit(f"add {V4} {st1}, {cdgh}")


def module(interleave: int = 4, emulate: bool = False) -> str:
    """IR of :func:`~workloads.hashing.kernels.cpu.batch_ir.batch_function` over ``interleave`` messages at once.

    Software-pipelined: each loop iteration runs the rounds of the current block of every stream
    from one W + K buffer while it expands the next block's schedule into the other buffer. The
    schedule of a constant last block (padding and length only) is expanded once per call, and
    an iteration whose next block is that one runs the rounds alone.
    """
    prefix = "emu_" if emulate else "llvm.x86."
    em = Emitter()
    streams = range(interleave)

    def work(ptrs: Sequence[str], state: Sequence[str], schedule: bool) -> list[str]:
        # Rounds round-robin over the streams, the next block's schedules (stream after stream, so
        # four message vectors are live, not 4 x S) spread evenly between them: LLVM's x86 code
        # keeps this order, so the S chains overlap.
        steps = [_rounds(em, prefix, f"%rd{s}", state[2 * s], state[2 * s + 1]) for s in streams]
        todo = chain.from_iterable(_schedule(em, prefix, p, f"%nxt{s}") for s, p in zip(streams, ptrs))
        total = 16 * len(ptrs) if schedule else 0
        last = [(state[2 * s], state[2 * s + 1]) for s in streams]
        for k in range(33):
            last = [next(it) for it in steps]
            for _ in range(total * (k + 1) // 33 - total * k // 33):
                next(todo)
        return [v for pair in last for v in pair]

    def prologue(ptrs: Sequence[str]) -> None:
        for _ in _schedule(em, prefix, "%constblk", "%bufC"):
            pass
        for _ in zip(*[_schedule(em, prefix, p, f"%bufA{s}") for s, p in zip(streams, ptrs)]):
            pass

    def store(state: Sequence[str], dsts: Sequence[str]) -> None:
        for s, dst in enumerate(dsts):
            abef, cdgh = state[2 * s], state[2 * s + 1]
            lo = em.emit(f"shufflevector {V4} {abef}, {V4} {cdgh}, <4 x i32> <i32 3, i32 2, i32 7, i32 6>")
            hi = em.emit(f"shufflevector {V4} {abef}, {V4} {cdgh}, <4 x i32> <i32 1, i32 0, i32 5, i32 4>")
            em.raw(f"  store {V4} " + em.emit(f"call {V4} @llvm.bswap.v4i32({V4} {lo})") + f", ptr {dst}, align 1")
            p = em.emit(f"getelementptr i8, ptr {dst}, i64 16")
            em.raw(f"  store {V4} " + em.emit(f"call {V4} @llvm.bswap.v4i32({V4} {hi})") + f", ptr {p}, align 1")

    h = IV_INT
    kernel = Kernel(
        group=interleave, state_type=[V4] * (2 * interleave),
        init=[_vec([h[5], h[4], h[1], h[0]]), _vec([h[7], h[6], h[3], h[2]])] * interleave,
        compress=lambda p, st: work(p, st, True), compress_const=lambda p, st: work(p, st, False),
        store=store, ahead=True, prologue=prologue,
        entry=["  %bufC = alloca [256 x i8], align 64",
               *[f"  %buf{ab}{s} = alloca [256 x i8], align 64" for s in streams for ab in "AB"]],
        header=[f"  %rd{s} = select i1 %curconst, ptr %bufC, ptr %cur{s}" for s in streams],
        extra_phis=[x for s in streams for x in ((f"%cur{s}", "ptr", f"%bufA{s}", f"%nxt{s}"),
                                                  (f"%nxt{s}", "ptr", f"%bufB{s}", f"%cur{s}"))])
    fn = batch_function(em, kernel)
    decls = DECLS + [f"declare {V4} @llvm.bswap.v4i32({V4})", "declare i32 @llvm.fshr.i32(i32, i32, i32)"]
    if emulate:
        decls.append(emulation())
    else:
        decls += [f"declare {V4} @llvm.x86.sha256rnds2({V4}, {V4}, {V4})",
                  f"declare {V4} @llvm.x86.sha256msg1({V4}, {V4})", f"declare {V4} @llvm.x86.sha256msg2({V4}, {V4})"]
    return "\n".join(decls) + "\n" + fn + "\n"

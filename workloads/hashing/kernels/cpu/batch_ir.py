"""LLVM IR skeleton shared by the CPU batch SHA-256 kernels (SHA-NI and multi-buffer SIMD).

The emitted function is ``void sha256_batch(ptr msgs, i64 n, i64 len, i64 stride, ptr out)``:
SHA-256 of the ``n`` messages ``msgs + i*stride`` (``len`` bytes each) into ``out + 32*i``
(hashlib's byte order). Messages go through in groups of ``G`` (the interleaved streams or the
SIMD lanes); a last, partial group repeats the last message in its idle slots and stores their
digests into a scratch slot, so there is no remainder loop and no branch per message.

One flat loop runs over (group, block) pairs, so a kernel may work one block ahead
(``ahead=True``): while it compresses the current block it fetches (and, for SHA-NI, expands
the message schedule of) the next one, across group boundaries too. The block it fetches is
handed to it as one pointer per slot.

Padding is done in place of a copy: whole 64-byte blocks are read straight from the message;
the tail block(s) come from a per-slot 128-byte stack buffer whose padding (0x80, zeros, the
bit length) is written once per call, since every message of a call has the same length. Per
message only the ``len % 64`` trailing bytes are copied into it (an inline loop: no call in
the loop, so the vector state stays in registers). Nothing is allocated per message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

#: Emits one block's work: (fetch pointer per slot, state values) -> new state values.
Compress = Callable[[Sequence[str], Sequence[str]], list[str]]
#: Emits the digest stores: (state values, output pointer per slot).
Store = Callable[[Sequence[str], Sequence[str]], None]
#: Emits the work before the loop in ``ahead`` mode (the first block's fetch pointers).
Prologue = Callable[[Sequence[str]], None]


class Emitter:
    """Numbered SSA names and the lines of the current function body."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.n = 0

    def name(self, prefix: str = "t") -> str:
        """A fresh local name ``%<prefix><k>``."""
        self.n += 1
        return f"%{prefix}{self.n}"

    def emit(self, expr: str, prefix: str = "t") -> str:
        """Emit ``%x = expr`` and return ``%x``."""
        dst = self.name(prefix)
        self.lines.append(f"  {dst} = {expr}")
        return dst

    def raw(self, line: str) -> None:
        """Emit a line as is (a label, a store, a branch)."""
        self.lines.append(line)


DECLS = [
    "declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)",
    "declare i64 @llvm.bswap.i64(i64)",
    "declare i64 @llvm.umin.i64(i64, i64)",
]


@dataclass
class Kernel:
    """What a kernel plugs into :func:`batch_function`."""

    group: int  # messages per group (streams or lanes)
    state_type: Sequence[str]  # IR type of each state value
    init: Sequence[str]  # their initial constants (the IV)
    compress: Compress
    store: Store
    entry: Sequence[str] = ()  # extra entry-block lines (stack buffers)
    ahead: bool = False  # fetch pointers are for the block after the one compressed
    prologue: Prologue | None = None  # before the loop (ahead mode: given the first fetch)
    #: Used instead of ``compress`` when the fetched block is the constant last block (no message
    #: byte in it: all padding and length, the same for every message of the call).
    compress_const: Compress | None = None
    header: Sequence[str] = ()  # extra loop-header lines (after %curconst is known)
    extra_phis: Sequence[tuple[str, str, str, str]] = field(default_factory=tuple)  # (name, type, entry, next)


def _slots(g: int, gvar: str, tag: str) -> list[str]:
    """Per slot of group ``gvar``: message pointer %m<tag><s> (index clamped to n - 1)."""
    out = [f"  %gb{tag} = mul i64 {gvar}, {g}"]
    for s in range(g):
        out += [f"  %ir{tag}{s} = add i64 %gb{tag}, {s}",
                f"  %ix{tag}{s} = call i64 @llvm.umin.i64(i64 %ir{tag}{s}, i64 %nm1)",
                f"  %mo{tag}{s} = mul i64 %ix{tag}{s}, %stride",
                f"  %m{tag}{s} = getelementptr i8, ptr %msgs, i64 %mo{tag}{s}"]
    return out


def _copy(g: int, tag: str, label: str, cont: str) -> list[str]:
    """Blocks from ``label`` on that copy each slot's trailing ``len % 64`` bytes into its tail
    buffer (8 bytes at a time, then bytes), then branch to ``cont``. A loop rather than a memcpy
    call: a call would make LLVM save the vector state around it on every iteration."""
    def each(load: str, j: str) -> list[str]:
        out = []
        for s in range(g):
            out += [f"  %cs{tag}{s}{load} = getelementptr i8, ptr %m{tag}{s}, i64 %fb{tag}{load}",
                    f"  %cd{tag}{s}{load} = getelementptr i8, ptr %tail{s}, i64 {j}",
                    f"  %cv{tag}{s}{load} = load {load}, ptr %cs{tag}{s}{load}, align 1",
                    f"  store {load} %cv{tag}{s}{load}, ptr %cd{tag}{s}{load}, align 1"]
        return out

    return [f"{label}:", f"  br label %c8{tag}",
            f"c8{tag}:", f"  %j{tag} = phi i64 [0, %{label}], [%j1{tag}, %c8b{tag}]",
            f"  %m8{tag} = icmp ult i64 %j{tag}, %rem8", f"  br i1 %m8{tag}, label %c8b{tag}, label %c1{tag}",
            f"c8b{tag}:", f"  %fb{tag}i64 = add i64 %fullbytes, %j{tag}", *each("i64", f"%j{tag}"),
            f"  %j1{tag} = add i64 %j{tag}, 8", f"  br label %c8{tag}",
            f"c1{tag}:", f"  %k{tag} = phi i64 [%j{tag}, %c8{tag}], [%k1{tag}, %c1b{tag}]",
            f"  %m1{tag} = icmp ult i64 %k{tag}, %rem", f"  br i1 %m1{tag}, label %c1b{tag}, label %{cont}",
            f"c1b{tag}:", f"  %fb{tag}i8 = add i64 %fullbytes, %k{tag}", *each("i8", f"%k{tag}"),
            f"  %k1{tag} = add i64 %k{tag}, 1", f"  br label %c1{tag}"]


def _fetch(g: int, bvar: str, tag: str) -> tuple[list[str], list[str]]:
    """Pointer per slot to block ``bvar`` of its message (or of its tail buffer)."""
    out, ptrs = [f"  %inf{tag} = icmp ult i64 {bvar}, %nfull", f"  %bo{tag} = shl i64 {bvar}, 6",
                 f"  %tb{tag} = sub i64 %bo{tag}, %fullbytes"], []
    for s in range(g):
        out += [f"  %pm{tag}{s} = getelementptr i8, ptr %m{tag}{s}, i64 %bo{tag}",
                f"  %pt{tag}{s} = getelementptr i8, ptr %tail{s}, i64 %tb{tag}",
                f"  %p{tag}{s} = select i1 %inf{tag}, ptr %pm{tag}{s}, ptr %pt{tag}{s}"]
        ptrs.append(f"%p{tag}{s}")
    return out, ptrs


def _head(g: int, entry: Sequence[str]) -> list[str]:
    """Entry block: lengths, block counts, and every slot's tail padding (once per call)."""
    head = [
        f"  %tails = alloca [{128 * g} x i8], align 64",
        "  %scratch = alloca [32 x i8], align 64",
        *entry,
        "  %nfull = lshr i64 %len, 6",
        "  %rem = and i64 %len, 63",
        "  %two = icmp uge i64 %rem, 56",
        "  %ntail = select i1 %two, i64 2, i64 1",
        "  %nblocks = add i64 %nfull, %ntail",
        "  %lastb = sub i64 %nblocks, 1",
        "  %fullbytes = shl i64 %nfull, 6",
        "  %bits = shl i64 %len, 3",
        "  %bitsbe = call i64 @llvm.bswap.i64(i64 %bits)",
        "  %lenoff = shl i64 %ntail, 6",
        "  %lenoff8 = sub i64 %lenoff, 8",
        "  %nm1 = sub i64 %n, 1",
        f"  %gadd = add i64 %n, {g - 1}",
        f"  %ngroups = udiv i64 %gadd, {g}",
        "  %total = mul i64 %ngroups, %nblocks",
        "  %hasrem = icmp ne i64 %rem, 0",
        "  %rem8 = and i64 %rem, 56",
        "  %norem = icmp eq i64 %rem, 0",
        "  %constlast = or i1 %two, %norem",
        "  %empty = icmp eq i64 %n, 0",
        # the constant last block (when there is one) lies in slot 0's tail buffer
        "  %constoff = shl i64 %lastb, 6",
        "  %constoff2 = sub i64 %constoff, %fullbytes",
    ]
    for s in range(g):
        head += [f"  %tail{s} = getelementptr i8, ptr %tails, i64 {128 * s}",
                 f"  call void @llvm.memset.p0.i64(ptr %tail{s}, i8 0, i64 128, i1 false)",
                 f"  %pad{s} = getelementptr i8, ptr %tail{s}, i64 %rem",
                 f"  store i8 -128, ptr %pad{s}",
                 f"  %lp{s} = getelementptr i8, ptr %tail{s}, i64 %lenoff8",
                 f"  store i64 %bitsbe, ptr %lp{s}, align 1"]
    return head + ["  %constblk = getelementptr i8, ptr %tail0, i64 %constoff2"]


def _body(em: Emitter, k: Kernel, tag: str, compress: Compress, ptrs: Sequence[str],
          phis: Sequence[str]) -> tuple[list[str], list[str]]:
    """One loop body (labels ``body<tag>``, ``out<tag>``, ``latch<tag>``): the work, then after a
    message's last block the digest stores and the IV as the next state.

    Returns (lines, next-state names)."""
    g = k.group
    em.lines = []
    new = compress(ptrs, phis)
    em.raw(f"  br i1 %last, label %out{tag}, label %latch{tag}")
    em.raw(f"out{tag}:")
    dsts = []
    em.raw(f"  %gm{tag} = mul i64 %g, {g}")
    em.raw(f"  %ob{tag} = shl i64 %gm{tag}, 5")
    for s in range(g):  # digests of slots past n (the partial last group) go to the scratch slot
        em.raw(f"  %oi{tag}{s} = add i64 %ob{tag}, {32 * s}")
        em.raw(f"  %og{tag}{s} = getelementptr i8, ptr %out, i64 %oi{tag}{s}")
        em.raw(f"  %qj{tag}{s} = add i64 %gm{tag}, {s}")
        em.raw(f"  %ok{tag}{s} = icmp ult i64 %qj{tag}{s}, %n")
        em.raw(f"  %dst{tag}{s} = select i1 %ok{tag}{s}, ptr %og{tag}{s}, ptr %scratch")
        dsts.append(f"%dst{tag}{s}")
    k.store(new, dsts)
    em.raw(f"  br label %latch{tag}")
    em.raw(f"latch{tag}:")
    nxt = []
    for p, t, i, x in zip(phis, k.state_type, k.init, new):
        nv = p.replace("%st", f"%nx{tag}")
        em.raw(f"  {nv} = phi {t} [{x}, %body{tag}], [{i}, %out{tag}]")
        nxt.append(nv)
    em.raw("  br i1 %done, label %exit, label %loop")
    return [f"body{tag}:", *em.lines], nxt


def batch_function(em: Emitter, k: Kernel, name: str = "sha256_batch") -> str:
    """The whole function's IR."""
    g = k.group
    head = [f"define void @{name}(ptr noalias %msgs, i64 %n, i64 %len, i64 %stride, ptr noalias %out) {{",
            "entry:", *_head(g, k.entry), "  br i1 %empty, label %exit, label %pro"]
    pro = ["pro:"]
    ptrs: Sequence[str] = []
    if k.ahead:  # fetch block 0 of group 0 before the loop
        pro += _slots(g, "0", "P")
        pro += ["  %firsttail = icmp eq i64 %nfull, 0", "  %cp0 = and i1 %firsttail, %hasrem",
                "  br i1 %cp0, label %copyP, label %pro2", *_copy(g, "P", "copyP", "pro2"), "pro2:"]
        lines, ptrs = _fetch(g, "0", "P")
        pro += lines
    if k.prologue is not None:
        em.lines = []
        k.prologue(ptrs)
        pro += em.lines
    pro.append("  br label %loop")
    src = "%pro2" if k.ahead else "%pro"
    bodies = ["%latchS", "%latchC"] if k.compress_const is not None else ["%latchS"]

    def phi(name: str, t: str, first: str, nexts: Sequence[str]) -> str:
        inc = ", ".join(f"[{x}, {b}]" for x, b in zip(nexts, bodies))
        return f"  {name} = phi {t} [{first}, {src}], {inc}"

    # The block fetched this iteration: (g, b) itself, or the one after it when working ahead.
    loop = ["loop:", phi("%it", "i64", "0", ["%it1"] * 2), phi("%b", "i64", "0", ["%bnext"] * 2),
            phi("%g", "i64", "0", ["%gnext"] * 2)]
    loop += [phi(nm, t, e, [x] * 2) for nm, t, e, x in k.extra_phis]
    phis = [em.name("st") for _ in k.state_type]
    loop_rest = ["  %b1 = add i64 %b, 1", "  %wrap = icmp eq i64 %b1, %nblocks",
                 "  %bnext = select i1 %wrap, i64 0, i64 %b1",
                 "  %g1 = add i64 %g, 1", "  %gnext = select i1 %wrap, i64 %g1, i64 %g",
                 "  %it1 = add i64 %it, 1", "  %done = icmp eq i64 %it1, %total",
                 "  %last = icmp eq i64 %b, %lastb", "  %curconst = and i1 %last, %constlast", *k.header]
    fb, fg = ("%bnext", "%gnext") if k.ahead else ("%b", "%g")
    loop_rest += _slots(g, fg, "F")
    loop_rest += [f"  %attail = icmp eq i64 {fb}, %nfull", "  %cp = and i1 %attail, %hasrem",
                  "  br i1 %cp, label %copy, label %fetch", *_copy(g, "F", "copy", "fetch"), "fetch:"]
    flines, fptrs = _fetch(g, fb, "F")
    loop_rest += flines
    if k.compress_const is not None:
        loop_rest += [f"  %flast = icmp eq i64 {fb}, %lastb", "  %fconst = and i1 %flast, %constlast",
                      "  br i1 %fconst, label %bodyC, label %bodyS"]
    else:
        loop_rest.append("  br label %bodyS")
    body_s, nxt_s = _body(em, k, "S", k.compress, fptrs, phis)
    body = body_s
    nexts = [nxt_s]
    if k.compress_const is not None:
        body_c, nxt_c = _body(em, k, "C", k.compress_const, fptrs, phis)
        body += body_c
        nexts.append(nxt_c)
    loop += [phi(p, t, i, [nx[j] for nx in nexts]) for j, (p, t, i) in enumerate(zip(phis, k.state_type, k.init))]
    return "\n".join(head + pro + loop + loop_rest + body + ["exit:", "  ret void", "}"])

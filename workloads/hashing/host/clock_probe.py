"""Measured clock and SHA instruction timings of this CPU, with tiny llvmlite-compiled loops.

The clock is the rate of a chain of dependent integer additions and xors (one clock each on every
x86 core), best of many short runs so a preemption or a busy neighbour only lowers runs that are
then discarded. The SHA-NI timings are in those clocks: reciprocal throughput of SHA256RNDS2
(8 independent chains) and SHA256MSG2 (6 chains), and the SHA256RNDS2 latency in the ABEF/CDGH
ping-pong of the real rounds. ``python -m workloads.hashing.host.clock_probe`` prints them.
"""

from __future__ import annotations

import ctypes
import functools
import time
from typing import Any

from workloads.hashing.host.cpu import has_sha_ni, host

_CHAIN = 256  # dependent operations per loop iteration
_V4 = "<4 x i32>"
_FN = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)
_engines: list[Any] = []  # keep the compiled code alive


def _compile(ir: str, name: str) -> Any:
    import llvmlite.binding as llvm

    cpu, _, features = host()
    tm = llvm.Target.from_default_triple().create_target_machine(cpu=cpu, features=features, opt=3)
    mod = llvm.parse_assembly(ir)
    mod.verify()
    engine = llvm.create_mcjit_compiler(mod, tm)
    engine.finalize_object()
    _engines.append(engine)
    return _FN(engine.get_function_address(name))


def _loop(body: list[str], phis: list[tuple[str, str, str, str]], result: str) -> str:
    """``i64 @f(i64 %n, i64 %s)``: ``body`` run %n times; phis (name, type, initial, next)."""
    head = ["define i64 @f(i64 %n, i64 %s) {", "entry:", "  br label %loop", "loop:",
            "  %i = phi i64 [0, %entry], [%in, %loop]"]
    head += [f"  {nm} = phi {t} [{init}, %entry], [{nxt}, %loop]" for nm, t, init, nxt in phis]
    tail = ["  %in = add i64 %i, 1", "  %d = icmp eq i64 %in, %n", "  br i1 %d, label %exit, label %loop",
            "exit:", *result.splitlines(), "}"]
    return "\n".join(head + body + tail)


def _best_seconds(fn: Any, iters: int, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(iters, 3)
        best = min(best, time.perf_counter() - t0)
    return best / iters


@functools.lru_cache(maxsize=1)
def _clock_fn() -> Any:
    body, prev = [], "%x"
    for u in range(_CHAIN):
        body.append(f"  %y{u} = {'add' if u % 2 else 'xor'} i64 {prev}, %i")
        prev = f"%y{u}"
    return _compile(_loop(body, [("%x", "i64", "%s", prev)], f"  ret i64 {prev}"), "f")


@functools.cache
def measured_hz(runs: int = 200) -> float | None:
    """This core's clock in Hz (about 0.1 s, once per process), or None where the probe cannot compile."""
    try:
        fn = _clock_fn()
    except (RuntimeError, OSError):  # no native target for llvmlite
        return None
    return _CHAIN / _best_seconds(fn, 2000, runs)


def _sha_chains(rnds2: int, msg2: int, pingpong: bool = False) -> str:
    """``rnds2`` independent SHA256RNDS2 chains beside ``msg2`` SHA256MSG2 chains, 16 steps per iteration."""
    decls = [f"declare {_V4} @llvm.x86.sha256rnds2({_V4}, {_V4}, {_V4})",
             f"declare {_V4} @llvm.x86.sha256msg2({_V4}, {_V4})"]
    chains = [("r", c) for c in range(rnds2)] + [("m", c) for c in range(msg2)]
    phis, body = [], []
    for op, c in chains:
        phis += [(f"%a{op}{c}_0", _V4, f"<i32 {c}, i32 1, i32 2, i32 3>", f"%a{op}{c}_16"),
                 (f"%b{op}{c}_0", _V4, f"<i32 {c}, i32 5, i32 6, i32 7>", f"%b{op}{c}_16")]
    for u in range(16):
        for op, c in chains:
            k = f"<i32 {u}, i32 {c}, i32 7, i32 9>"
            a, b, a1, b1 = f"%a{op}{c}_{u}", f"%b{op}{c}_{u}", f"%a{op}{c}_{u + 1}", f"%b{op}{c}_{u + 1}"
            if op == "r":  # ping-pong as in the rounds: each result is the next one's ABEF
                body.append(f"  {a1} = call {_V4} @llvm.x86.sha256rnds2({_V4} {b}, {_V4} {a}, {_V4} {k})")
                body.append(f"  {b1} = or {_V4} {a if pingpong else b}, zeroinitializer")
            else:
                body.append(f"  {a1} = call {_V4} @llvm.x86.sha256msg2({_V4} {a}, {_V4} {k})")
                body.append(f"  {b1} = or {_V4} {b}, zeroinitializer")
    acc = [f"%a{op}{c}_16" for op, c in chains]
    res, prev = [], acc[0]
    for j, v in enumerate(acc[1:]):
        res.append(f"  %r{j} = xor {_V4} {prev}, {v}")
        prev = f"%r{j}"
    res += [f"  %e = extractelement {_V4} {prev}, i32 0", "  %z = zext i32 %e to i64", "  ret i64 %z"]
    return "\n".join(decls) + "\n" + _loop(body, phis, "\n".join(res))


def sha_timings(runs: int = 30) -> dict[str, float]:
    """SHA-NI timings in clocks of this core (raises where the CPU lacks SHA-NI: do not call there).

    ``msg2_beside_rnds2``: the clocks one SHA256MSG2 adds to 8 SHA256RNDS2 chains (3 chains of it
    beside 8); about its own throughput where both use one unit, about 0 where they overlap.
    """
    hz = measured_hz()
    if hz is None:
        raise RuntimeError("llvmlite cannot compile for this host")

    def clocks(ir: str, per_iter: int) -> float:
        return _best_seconds(_compile(ir, "f"), 200, runs) * hz / per_iter

    rnds2_8 = clocks(_sha_chains(8, 0), 16)
    return {"rnds2_throughput": rnds2_8 / 8,
            "rnds2_latency": clocks(_sha_chains(1, 0, pingpong=True), 16),
            "msg2_throughput": clocks(_sha_chains(0, 6), 6 * 16),
            "msg2_beside_rnds2": (clocks(_sha_chains(8, 3), 16) - rnds2_8) / 3,
            "clock_ghz": hz / 1e9}


def main() -> int:
    """Print the clock and, on CPUs with SHA-NI, the SHA instruction timings."""
    hz = measured_hz()
    print(f"clock: {hz / 1e9:.3f} GHz" if hz else "clock: not measurable here")
    if hz and has_sha_ni():
        for key, value in sha_timings().items():
            print(f"{key}: {value:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

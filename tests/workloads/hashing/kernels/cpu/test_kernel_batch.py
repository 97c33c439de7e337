"""Batch SHA-256 kernels (SHA-NI, SHA-NI emulated, SIMD 4/8/16 lanes, numba scalar) against hashlib.

Every kernel runs on any x86 host: the SHA-NI data flow through the emulated instructions where
the CPU lacks them, the 16-lane code split by LLVM onto narrower registers where it lacks
AVX-512. What only a matching CPU can run (the real instructions) is skipped elsewhere, and the
code generated for those CPUs is checked by compiling for them.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import random
import re
from collections.abc import Callable

import numpy as np
import pytest

from workloads.hashing.host.cpu import has_sha_ni, host
from workloads.hashing.kernels.cpu import batch_cpu
from workloads.hashing.kernels.cpu.kernel_batch import sha256_batch_scalar

Hasher = Callable[[np.ndarray], np.ndarray]
NO_SHA = not has_sha_ni()
KERNELS: dict[str, Callable[[], Hasher]] = {
    "sha-ni-x4": lambda: batch_cpu.kernel("sha-ni", 4),
    "sha-ni-x1": lambda: batch_cpu.kernel("sha-ni", 1),
    "sha-ni-emulated-x4": lambda: batch_cpu.kernel("sha-ni", 4, emulate=True),
    "sha-ni-emulated-x3": lambda: batch_cpu.kernel("sha-ni", 3, emulate=True),
    "simd16": lambda: batch_cpu.kernel("simd", 16),
    "simd8": lambda: batch_cpu.kernel("simd", 8),
    "simd4": lambda: batch_cpu.kernel("simd", 4),
    "scalar": lambda: sha256_batch_scalar,
}


def _kernel(name: str) -> Hasher:
    if name.startswith("sha-ni-x") and NO_SHA:
        pytest.skip("this CPU has no SHA extensions (the emulated kernel covers the data flow)")
    return KERNELS[name]()


def _check(hasher: Hasher, length: int, rows: int) -> None:
    msgs = np.frombuffer(os.urandom(rows * length), np.uint8).reshape(rows, length)
    got = hasher(msgs)
    assert got.shape == (rows, 32)
    want = [hashlib.sha256(m.tobytes()).digest() for m in msgs]
    bad = [i for i in range(rows) if bytes(got[i]) != want[i]]
    assert bad == [], f"{length}-byte messages, rows {bad[:5]} differ from hashlib"


@pytest.mark.parametrize("name", list(KERNELS))
def test_every_length_0_to_300(name: str) -> None:
    """Every padding edge: 1, 2 and (from 120 up) several blocks; rows = two groups and a part."""
    hasher = _kernel(name)
    for length in range(301):
        _check(hasher, length, 2 * 16 + 3)


@pytest.mark.parametrize("name", list(KERNELS))
def test_random_lengths_up_to_16k(name: str) -> None:
    hasher = _kernel(name)
    rng = random.Random(os.urandom(8))
    for length in [16384, 16384 - 9, 16384 - 8] + [rng.randrange(301, 16385) for _ in range(12)]:
        _check(hasher, length, 5 if "emulated" in name or name == "scalar" else 11)


@pytest.mark.parametrize("rows", [1, 3, 4, 5, 255, 256, 257, 1000, 4099])
def test_rows_split_over_threads(rows: int) -> None:
    """Pieces per core end on whole groups; the last group of the last piece is partial."""
    k = batch_cpu.kernel("simd", 8)
    msgs = np.frombuffer(os.urandom(rows * 64), np.uint8).reshape(rows, 64)
    for threads in (1, 2, 3):
        out = np.zeros((rows, 32), np.uint8)
        k.run_into(np.ascontiguousarray(msgs), out, threads=threads)
        assert [bytes(d) for d in out] == [hashlib.sha256(m.tobytes()).digest() for m in msgs]


def test_nist_vectors() -> None:
    vectors = {b"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
               b"": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
               b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq":
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"}
    for name in ("sha-ni-emulated-x4", "simd8", "scalar"):
        for msg, digest in vectors.items():
            got = KERNELS[name]()(np.frombuffer(msg, np.uint8).reshape(1, len(msg)))
            assert bytes(got[0]).hex() == digest


@pytest.mark.skipif(NO_SHA, reason="this CPU has no SHA extensions")
def test_emulated_instructions_match_the_cpu() -> None:
    """The SDM-derived IR of sha256rnds2/msg1/msg2 against the instructions, on random operands."""
    import llvmlite.binding as llvm

    from workloads.hashing.kernels.cpu.shani_ir import emulation

    v4 = "<4 x i32>"
    lines = [emulation()]
    for op, n in (("sha256rnds2", 3), ("sha256msg1", 2), ("sha256msg2", 2)):
        lines.append(f"declare {v4} @llvm.x86.{op}({', '.join([v4] * n)})")
        for tag, impl in (("real", "llvm.x86."), ("emu", "emu_")):
            args = ", ".join(f"{v4} %x{i}" for i in range(n))
            loads = "\n".join(f"  %p{i} = getelementptr {v4}, ptr %in, i64 {i}\n  %x{i} = load {v4}, ptr %p{i}"
                              for i in range(n))
            lines.append(f"define void @w_{tag}_{op}(ptr %in, ptr %out) {{\n{loads}\n"
                         f"  %r = call {v4} @{impl}{op}({args})\n  store {v4} %r, ptr %out\n  ret void\n}}")
    cpu, _, features = host()
    tm = llvm.Target.from_default_triple().create_target_machine(cpu=cpu, features=features, opt=2)
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly("\n".join(lines)), tm)
    engine.finalize_object()
    sig = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
    for op in ("sha256rnds2", "sha256msg1", "sha256msg2"):
        real = sig(engine.get_function_address(f"w_real_{op}"))
        emu = sig(engine.get_function_address(f"w_emu_{op}"))
        for _ in range(500):
            x = np.frombuffer(os.urandom(48), np.uint32).copy()
            a, b = np.zeros(4, np.uint32), np.zeros(4, np.uint32)
            real(x.ctypes.data, a.ctypes.data)
            emu(x.ctypes.data, b.ctypes.data)
            assert a.tolist() == b.tolist(), op


def _asm(ir: str, cpu: str, features: str) -> str:
    import llvmlite.binding as llvm

    host()  # initialises the native target
    tm = llvm.Target.from_default_triple().create_target_machine(cpu=cpu, features=features, opt=3)
    return str(tm.emit_assembly(llvm.parse_assembly(ir)))


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="x86 code generation")
def test_code_for_other_cpus_uses_their_instructions() -> None:
    """Compiled (not run) for CPUs this host may not be: SHA-NI for Ice Lake, 16 lanes for AVX-512."""
    from workloads.hashing.kernels.cpu import shani_ir, simd_batch_ir

    sha = _asm(shani_ir.module(4), "icelake-server", "+sha,+avx2,+avx512f")
    assert sha.count("sha256rnds2") == 2 * 128 and "sha256msg2" in sha  # two loop bodies x 4 x 32
    simd = _asm(simd_batch_ir.module(16), "skylake-avx512", "+avx512f,+avx512vl")
    assert "zmm" in simd and "vprord" in simd


def test_race_picks_a_kernel_this_cpu_runs() -> None:
    k, summary = batch_cpu.best_kernel(64)
    assert k.code_path in summary or "only" in summary
    if not NO_SHA:
        assert "sha-ni" in summary and "simd" in summary


def test_clocks_per_compression_command_names_every_kernel(capsys: pytest.CaptureFixture[str]) -> None:
    assert batch_cpu.main(["--lengths", "0,64", "--seconds", "0.05"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 * len(batch_cpu.candidates())
    for line in lines:
        best, median = (float(x) for x in re.findall(r"([\d.]+) (?:clocks/compression best|median)", line))
        assert 10 < best <= median, line  # no kernel does a compression in under 10 clocks

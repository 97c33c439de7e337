"""GPU ceiling from the datasheet row and the kernel's counted instructions; the count itself."""

from __future__ import annotations

import importlib
import os
import sys

import pytest

from workloads.hashing import ceiling
from workloads.hashing.sha256d import Sha256dWorkload


def test_h100_sxm_ceiling_from_datasheet_row() -> None:
    # 132 SMs x 64 int32 lanes x 1.98 GHz over the kernel's integer instructions per double hash.
    want = 132 * 64 * 1.98e9 / ceiling.GPU_INSTR_PER_SHA256D
    assert ceiling.gpu_sha256d_ceiling("NVIDIA H100 80GB HBM3") == pytest.approx(want)
    assert 6.5e9 < want < 8e9  # the issue's H100 target must lie under the ceiling
    assert ceiling.gpu_sha256d_ceiling("NVIDIA H100 PCIe") == pytest.approx(114 * 64 * 1.755e9 / 2263)
    assert ceiling.gpu_sha256d_ceiling("Some Unknown Accelerator") is None


def test_cpu_simd_issue_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """cores x max clock x 4 vector ops per clock x lanes / vector ops per group of lanes."""
    from workloads.hashing.kernels.cpu import kernel_simd
    from workloads.hashing.kernels.cpu.simd_ir import vector_ops

    ceiling.cpu_simd_sha256d_ceiling.cache_clear()
    monkeypatch.setattr(ceiling, "cpu_max_hz", lambda: 3.0e9)
    monkeypatch.setattr(ceiling, "cores", lambda: 2)
    vf = kernel_simd.kernel().vf
    assert ceiling.cpu_simd_sha256d_ceiling() == pytest.approx(2 * 3.0e9 * 4 * vf / vector_ops(vf))
    assert 3000 < vector_ops(8) < 4500  # two compressions' rounds and schedule, folded
    ceiling.cpu_simd_sha256d_ceiling.cache_clear()


def test_cpu_sha256_bound_is_the_larger_of_sha_ni_and_simd(monkeypatch: pytest.MonkeyPatch) -> None:
    """SHA-NI: cores x clock / 32 (one sha256rnds2 per clock); SIMD: as for sha256d, per compression."""
    from workloads.hashing.kernels.cpu.simd_batch_ir import compression_ops

    monkeypatch.setattr(ceiling, "cpu_max_hz", lambda: 3.0e9)
    monkeypatch.setattr(ceiling, "cores", lambda: 2)
    monkeypatch.setattr(ceiling, "host_vf", lambda: 8)
    simd = 2 * 3.0e9 * 4 * 8 / compression_ops(8)
    monkeypatch.setattr(ceiling, "has_sha_ni", lambda: True)
    assert ceiling.cpu_sha256_compressions_per_s() == pytest.approx(max(simd, 2 * 3.0e9 / 32))
    monkeypatch.setattr(ceiling, "has_sha_ni", lambda: False)
    assert ceiling.cpu_sha256_compressions_per_s() == pytest.approx(simd)
    assert 1900 < compression_ops(8) < 2300  # 64 rounds and 48 schedule words


def test_measured_clock_is_a_clock() -> None:
    from workloads.hashing.host.clock_probe import measured_hz

    hz = measured_hz()
    assert hz is not None and 0.5e9 < hz < 7e9
    assert (ceiling.cpu_max_hz() or 0) >= hz


def test_one_sha256rnds2_per_clock_bounds_this_cpu() -> None:
    """The SHA-NI ceiling assumes at most one sha256rnds2 per clock: measured here, it is no faster.

    On a busy machine the probe only gets slower (more clocks), so the bound cannot fail from load.
    """
    from workloads.hashing.host.clock_probe import sha_timings
    from workloads.hashing.host.cpu import has_sha_ni

    if not has_sha_ni():
        pytest.skip("this CPU has no SHA extensions")
    t = sha_timings()
    assert t["rnds2_throughput"] > 0.8
    assert t["rnds2_latency"] > 2 * t["rnds2_throughput"]  # why several messages must be interleaved


def test_gpu_batch_ceiling_from_counted_instructions() -> None:
    want = 132 * 64 * 1.98e9 / ceiling.GPU_INSTR_PER_COMPRESSION
    assert ceiling.gpu_sha256_ceiling("NVIDIA H100 80GB HBM3", 64) == pytest.approx(want / 2)
    assert ceiling.gpu_sha256_ceiling("NVIDIA H100 80GB HBM3", 1024) == pytest.approx(want / 17)
    assert ceiling.gpu_sha256_ceiling("Some Unknown Accelerator", 64) is None


def test_loop_body_count_from_sass() -> None:
    from workloads.hashing.kernels.gpu.sass_count import loop_counts

    sass = """
        /*0000*/                   MOV R1, c[0x0][0x28] ;
        /*0010*/                   ISETP.GE.AND P0, PT, R0, 0x1, PT ;
        /*0020*/                   SHF.R.U32.HI R2, RZ, 0x7, R3 ;
        /*0030*/                   LOP3.LUT R4, R2, R5, R6, 0x96, !PT ;
        /*0040*/              @P1 BRA 0x20 ;
        /*0050*/                   EXIT ;
        /*0060*/                   BRA 0x60;
    """
    assert loop_counts(sass) == {"SHF": 1, "LOP3": 1, "BRA": 1}


def test_workload_records_gpu_ceiling_by_device_name(monkeypatch: pytest.MonkeyPatch) -> None:
    import workloads.hashing.sha256d as mod

    seen: list[str] = []

    def name(device: str) -> str:
        seen.append(device)
        return "NVIDIA H100 80GB HBM3"

    monkeypatch.setattr(mod, "gpu_name", name)
    assert Sha256dWorkload().ceiling("cuda:3") == ceiling.gpu_sha256d_ceiling("NVIDIA H100 80GB HBM3")
    assert seen == ["cuda:3"]


@pytest.mark.skipif(os.environ.get("SITEBENCH_COMPILE_TESTS") != "1",
                    reason="about 20 s of Triton/ptxas compile on 2 cores; set SITEBENCH_COMPILE_TESTS=1")
def test_kernel_compiles_for_sm90_and_matches_the_recorded_count() -> None:
    """Compiles the real (not interpreted) kernel with the wheel's ptxas; no GPU needed."""
    pytest.importorskip("triton")
    from triton.runtime.jit import JITFunction

    kt = sys.modules.get("workloads.hashing.kernels.gpu.kernel_triton")
    if kt is not None and not isinstance(kt._sha256d_kernel, JITFunction):
        importlib.reload(kt)  # an interpreter-mode import by another test
    from workloads.hashing.kernels.gpu.sass_count import per_hash

    try:
        counts = per_hash(90)
    except FileNotFoundError as exc:  # a triton build without the CUDA tools
        pytest.skip(f"no ptxas/cuobjdump: {exc}")
    assert counts["ALU"] == pytest.approx(ceiling.GPU_INSTR_PER_SHA256D, rel=0.03)
    assert counts["SHF"] > 1000  # rotates are funnel shifts (uint32), not emulated


@pytest.mark.skipif(os.environ.get("SITEBENCH_COMPILE_TESTS") != "1",
                    reason="about 30 s of Triton/ptxas compile on 2 cores; set SITEBENCH_COMPILE_TESTS=1")
def test_batch_kernel_compiles_for_sm90() -> None:
    pytest.importorskip("triton")
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    from triton.runtime.jit import JITFunction

    kb = importlib.import_module("workloads.hashing.kernels.gpu.kernel_triton_batch")
    if not isinstance(kb._sha256_blocks_kernel, JITFunction):
        importlib.reload(sys.modules["workloads.hashing.kernels.gpu.kernel_triton"])
        kb = importlib.reload(kb)
    src = ASTSource(fn=kb._sha256_blocks_kernel,
                    signature={"words": "*i32", "out": "*i32", "n": "i64", "nblocks": "i64",
                               "BLOCK": "constexpr"},
                    constexprs={"BLOCK": kb.BLOCK})
    compiled = triton.compile(src, target=GPUTarget("cuda", 90, 32), options={"num_warps": kb.NUM_WARPS})
    assert compiled.asm["cubin"]
    from workloads.hashing.kernels.gpu.sass_count import ALU_OPS, loop_counts, sass_text

    try:
        body = loop_counts(sass_text(compiled.asm["cubin"]))
    except FileNotFoundError as exc:
        pytest.skip(f"no cuobjdump: {exc}")
    alu = sum(n for op, n in body.items() if op in ALU_OPS)
    assert alu == pytest.approx(ceiling.GPU_INSTR_PER_COMPRESSION, rel=0.03)

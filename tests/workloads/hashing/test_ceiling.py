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
    from workloads.hashing import kernel_simd
    from workloads.hashing.simd_ir import vector_ops

    ceiling.cpu_simd_sha256d_ceiling.cache_clear()
    monkeypatch.setattr(ceiling, "cpu_max_hz", lambda: 3.0e9)
    monkeypatch.setattr(kernel_simd, "cores", lambda: 2)
    vf = kernel_simd.kernel().vf
    assert ceiling.cpu_simd_sha256d_ceiling() == pytest.approx(2 * 3.0e9 * 4 * vf / vector_ops(vf))
    assert 3000 < vector_ops(8) < 4500  # two compressions' rounds and schedule, folded
    ceiling.cpu_simd_sha256d_ceiling.cache_clear()


def test_workload_records_gpu_ceiling_by_device_name(monkeypatch: pytest.MonkeyPatch) -> None:
    import workloads.hashing.sha256d as mod

    seen: list[str] = []
    monkeypatch.setattr(mod, "gpu_name", lambda device: seen.append(device) or "NVIDIA H100 80GB HBM3")
    assert Sha256dWorkload().ceiling("cuda:3") == ceiling.gpu_sha256d_ceiling("NVIDIA H100 80GB HBM3")
    assert seen == ["cuda:3"]


@pytest.mark.skipif(os.environ.get("SITEBENCH_COMPILE_TESTS") != "1",
                    reason="about 20 s of Triton/ptxas compile on 2 cores; set SITEBENCH_COMPILE_TESTS=1")
def test_kernel_compiles_for_sm90_and_matches_the_recorded_count() -> None:
    """Compiles the real (not interpreted) kernel with the wheel's ptxas; no GPU needed."""
    pytest.importorskip("triton")
    from triton.runtime.jit import JITFunction

    kt = sys.modules.get("workloads.hashing.kernel_triton")
    if kt is not None and not isinstance(kt._sha256d_kernel, JITFunction):
        importlib.reload(kt)  # an interpreter-mode import by another test
    from workloads.hashing.sass_count import per_hash

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

    kb = importlib.import_module("workloads.hashing.kernel_triton_batch")
    if not isinstance(kb._sha256_blocks_kernel, JITFunction):
        importlib.reload(sys.modules["workloads.hashing.kernel_triton"])
        kb = importlib.reload(kb)
    src = ASTSource(fn=kb._sha256_blocks_kernel,
                    signature={"words": "*i32", "out": "*i32", "n": "i64", "nblocks": "i64",
                               "BLOCK": "constexpr"},
                    constexprs={"BLOCK": kb.BLOCK})
    compiled = triton.compile(src, target=GPUTarget("cuda", 90, 32), options={"num_warps": kb.NUM_WARPS})
    assert compiled.asm["cubin"]

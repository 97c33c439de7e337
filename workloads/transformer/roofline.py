"""Peak memory bandwidth and matrix rate for a device and dtype: datasheet on GPU, measured on CPU.

GPU figures come from the shipped datasheet table (``bench/data/hardware.csv``,
a copy of sitebench's reference hardware.csv), found by the *exact* device name
torch/NVML report (case and spacing aside) through :data:`KNOWN_GPUS`. A name
not in that table has no peaks (None): a near name is a different part (an
A100-SXM4-40GB has 1.555 TB/s, not the 80GB part's 2.039; an H100 NVL is not an
H100 SXM; a GH200 is not an H200), so it is never guessed.

The matrix rate is the dtype's: dense bf16/fp16 tensor-core FLOP/s for
bfloat16/float16. The table has no fp32/tf32 figures, so float32 on a GPU has
no matrix peak (None, and no MFU) rather than a bf16 figure 2-15x too high.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import NamedTuple

import torch

from bench.hardware import rows


class Peaks(NamedTuple):
    """Peak figures of one device for one dtype."""

    bytes_per_s: float
    flops: float | None  # matrix FLOP/s at that dtype; None when not known


#: Normalised device name (as torch.cuda.get_device_name / NVML report it) -> hardware.csv ``model``.
KNOWN_GPUS: dict[str, str] = {
    "nvidia h100 80gb hbm3": "NVIDIA H100 SXM5 80GB",
    "nvidia h100 pcie": "NVIDIA H100 PCIe 80GB",
    "nvidia h200": "NVIDIA H200 SXM 141GB",
    "nvidia a100-sxm4-80gb": "NVIDIA A100 SXM4 80GB",
    "nvidia a100-pcie-40gb": "NVIDIA A100 PCIe 40GB",
    # The A100 datasheet gives the 40GB SXM4 part the same HBM2 (1,555 GB/s) and tensor cores as the
    # 40GB PCIe part; the table has no SXM4 40GB row of its own (its TDP differs, unused here).
    "nvidia a100-sxm4-40gb": "NVIDIA A100 PCIe 40GB",
    "nvidia l40s": "NVIDIA L40S",
    "nvidia geforce rtx 4090": "NVIDIA GeForce RTX 4090",
}

#: dtypes whose matrix peak is the table's dense bf16 tensor figure (fp16 dense equals bf16 on these parts).
_TENSOR_CORE_16 = (torch.bfloat16, torch.float16)


def normalise(name: str | bytes) -> str:
    """Lower case, single spaces: ``"NVIDIA  H100 80GB HBM3 "`` -> ``"nvidia h100 80gb hbm3"``."""
    if isinstance(name, bytes):
        name = name.decode(errors="replace")
    return " ".join(name.lower().split())


def gpu_peaks(name: str | bytes, dtype: torch.dtype) -> Peaks | None:
    """Datasheet peaks of the GPU called ``name``; None when the name is not known exactly."""
    model = KNOWN_GPUS.get(normalise(name))
    row = next((r for r in rows() if r.get("kind") == "gpu" and r.get("model") == model), None)
    if row is None:
        return None
    flops = float(row["bf16_dense_tflops"]) * 1e12 if dtype in _TENSOR_CORE_16 else None
    return Peaks(float(row["mem_bw_tb_s"]) * 1e12, flops)


@functools.cache
def peaks(device: str, dtype: torch.dtype = torch.bfloat16) -> Peaks | None:
    """Peaks of ``device`` at ``dtype``; None for a GPU not in :data:`KNOWN_GPUS`."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return gpu_peaks(torch.cuda.get_device_name(dev), dtype)
    return _cpu_measured(dtype if dtype in (torch.float32, torch.bfloat16) else torch.float32)


def _best(fn: Callable[[], object], reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


@functools.cache
def _cpu_measured(dtype: torch.dtype) -> Peaks:
    """Memory-copy bandwidth (read + write) and ``dtype`` matmul rate of this CPU, ~0.2 s."""
    src = torch.empty(32 * 2**20 // 4, dtype=torch.float32).fill_(1.0)
    dst = torch.empty_like(src)
    bw = 2 * src.numel() * 4 / _best(lambda: dst.copy_(src), 5)
    n = 512
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    flops = 2 * n**3 / _best(lambda: a @ b, 5)
    return Peaks(bw, flops)

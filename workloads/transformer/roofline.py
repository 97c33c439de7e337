"""Peak memory bandwidth and matrix rate for a device: datasheet on GPU, measured on CPU.

GPU figures are from the vendors' datasheets (sitebench's reference hardware.csv), shipped
here because the reference directory is not present on users' machines.
"""

from __future__ import annotations

import functools
import time

import torch

# name fragment -> (memory bandwidth bytes/s, dense bf16 FLOP/s)
GPU_PEAKS: dict[str, tuple[float, float]] = {
    "H100 PCIe": (2.0e12, 756e12),
    "H100": (3.35e12, 989e12),
    "H200": (4.8e12, 989e12),
    "A100-PCIE-40GB": (1.555e12, 312e12),
    "A100": (2.039e12, 312e12),
    "L40S": (0.864e12, 362e12),
    "RTX 4090": (1.008e12, 165e12),
}


@functools.lru_cache(maxsize=None)
def peaks(device: str) -> tuple[float, float] | None:
    """(bytes/s, FLOP/s) for ``device``; None for an unknown GPU."""
    if device.startswith("cuda"):
        name = torch.cuda.get_device_name(torch.device(device))
        for fragment, figures in GPU_PEAKS.items():
            if fragment in name:
                return figures
        return None
    return _cpu_measured()


def _best(fn: object, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best


def _cpu_measured() -> tuple[float, float]:
    """Memory-copy bandwidth (read + write) and fp32 matmul rate of this CPU, ~0.2 s."""
    src = torch.empty(32 * 2**20 // 4, dtype=torch.float32).fill_(1.0)
    dst = torch.empty_like(src)
    bw = 2 * src.numel() * 4 / _best(lambda: dst.copy_(src), 5)
    n = 512
    a, b = torch.randn(n, n), torch.randn(n, n)
    flops = 2 * n**3 / _best(lambda: a @ b, 5)
    return bw, flops

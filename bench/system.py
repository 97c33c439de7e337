"""A description of the machine a run happened on."""

from __future__ import annotations

import hashlib
import platform
import socket
from pathlib import Path
from typing import Any

import psutil


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, else platform's answer."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The SIMD and SHA flags that matter for the hashing kernels."""
    wanted = {"avx2", "avx512f", "sha_ni", "sha", "neon", "asimd", "sha2"}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return sorted(wanted & set(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return []


def machine_id() -> str:
    """A stable, non-identifying id of this machine (hash of /etc/machine-id or hostname)."""
    try:
        raw = Path("/etc/machine-id").read_text().strip()
    except OSError:
        raw = ""
    raw = raw or socket.gethostname()
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def gpus() -> list[dict[str, Any]]:
    """Visible CUDA GPUs with name, memory and SM count (empty without CUDA)."""
    try:
        import torch
    except ImportError:
        return []
    if not torch.cuda.is_available():
        return []
    out = []
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        out.append({"index": i, "name": p.name, "memory_bytes": p.total_memory, "sms": p.multi_processor_count})
    return out


def describe() -> dict[str, Any]:
    """The ``system`` block of a result file."""
    try:
        import torch

        torch_info: dict[str, Any] = {"version": torch.__version__, "cuda": torch.version.cuda}
    except ImportError:
        torch_info = {"version": None, "cuda": None}
    return {
        "hostname": socket.gethostname(),
        "machine_id": machine_id(),
        "cpu": {
            "model": cpu_model(),
            "arch": platform.machine(),
            "logical_cpus": psutil.cpu_count(logical=True),
            "physical_cores": psutil.cpu_count(logical=False),
            "flags": cpu_flags(),
        },
        "memory_bytes": psutil.virtual_memory().total,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "torch": torch_info,
        "gpus": gpus(),
    }

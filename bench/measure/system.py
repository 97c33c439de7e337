"""A description of the machine a run happened on."""

from __future__ import annotations

import hashlib
import platform
import socket
from pathlib import Path

import psutil

from bench.record import Cpu, Gpu, System, TorchInfo


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


def cpu_sockets() -> int | None:
    """Physical CPU packages, from the distinct ``physical id`` lines of /proc/cpuinfo (None when absent)."""
    try:
        ids = {line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
               if line.startswith("physical id")}
    except OSError:
        return None
    return len(ids) or None


def gpus() -> list[Gpu]:
    """Visible CUDA GPUs with name, memory, SM count and UUID (empty without CUDA)."""
    import torch

    if not torch.cuda.is_available():
        return []
    out = []
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        uuid = getattr(p, "uuid", None)
        out.append(Gpu(index=i, name=p.name[:200], memory_bytes=p.total_memory, sms=p.multi_processor_count,
                       uuid=f"GPU-{uuid}" if uuid is not None and not str(uuid).startswith(("GPU-", "MIG-"))
                       else (str(uuid) if uuid is not None else None)))
    return out


def describe() -> System:
    """The ``system`` block of a result file: this host."""
    import torch

    return System(
        hostname=socket.gethostname()[:255], machine_id=machine_id(),
        cpu=Cpu(model=cpu_model()[:200], arch=platform.machine() or None, logical_cpus=psutil.cpu_count(logical=True),
                physical_cores=psutil.cpu_count(logical=False), sockets=cpu_sockets(), flags=cpu_flags()),
        memory_bytes=psutil.virtual_memory().total, os=f"{platform.system()} {platform.release()}"[:200],
        python=platform.python_version(), torch=TorchInfo(version=torch.__version__, cuda=torch.version.cuda),
        gpus=gpus(),
    )


def hardware_label(s: System) -> str:
    """One line naming the hardware a file was measured on: CPU, its CPUs and SIMD/SHA flags, GPUs."""
    if s.model:
        return s.model
    cpu = s.cpu
    parts = [f"{cpu.model or '?'}, {cpu.logical_cpus or '?'} CPUs" + (f" ({' '.join(cpu.flags)})" if cpu.flags else "")
             if cpu is not None else "CPU unknown"]
    if s.gpus:
        names = [g.name for g in s.gpus]
        parts.append(", ".join(f"{names.count(n)} x {n}" for n in dict.fromkeys(names)))
    return "; ".join(parts)


def hardware_differences(base: System, new: System) -> list[str]:
    """What differs between the hardware two files were measured on (CPU model, CPUs, flags, GPUs); empty if none.

    The machine id is left out: identical VMs made from one image share it, and one
    machine's id can change when it is rebuilt. Hardware is what decides speed. What
    one side does not record (pytest-benchmark JSON has no system block) is not a difference.
    """
    out: list[str] = []
    if base.model != new.model:
        out.append(f"model {base.model or 'none'} vs {new.model or 'none'}")
    a, b = base.cpu, new.cpu
    if a is None or b is None:
        return out
    for name, x, y in (("CPU", a.model, b.model), ("logical CPUs", a.logical_cpus, b.logical_cpus),
                       ("CPU flags", " ".join(a.flags) or "none", " ".join(b.flags) or "none")):
        if x != y:
            out.append(f"{name} {x} vs {y}")
    ga, gb = sorted(g.name for g in base.gpus), sorted(g.name for g in new.gpus)
    if ga != gb:
        out.append(f"GPUs {', '.join(ga) or 'none'} vs {', '.join(gb) or 'none'}")
    return out

"""`sitebench run --all-devices`: one rank per local GPU through torchrun --standalone."""

from __future__ import annotations

import subprocess
import sys

from bench.errors import UsageError
from bench.run.launch import all_devices_args, torchrun_cmd


def run_all_devices(argv: list[str] | None = None) -> int:
    """Relaunch this `run` under torchrun with one process per CUDA GPU; exit 2 when there is none.

    Decision: without GPUs this is a usage error (one line, exit 2), not a CPU run in disguise.
    """
    import torch

    n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if n == 0:
        raise UsageError("--all-devices: no CUDA GPU here; run without it to measure the CPU as one device")
    argv = list(sys.argv[1:] if argv is None else argv)
    run_args = all_devices_args(argv[argv.index("run") + 1:] if "run" in argv else argv)
    return subprocess.call(torchrun_cmd(run_args, nproc=n))

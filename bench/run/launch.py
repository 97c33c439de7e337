"""torchrun / srun command lines for node and fleet runs."""

from __future__ import annotations

import shlex
import sys


def torchrun_cmd(run_args: list[str], *, nproc: int, nnodes: int = 1, rdzv: str | None = None,
                 python: str = sys.executable) -> list[str]:
    """``python -m torch.distributed.run ... -m bench run ...``; standalone when single-node without rendezvous."""
    cmd = [python, "-m", "torch.distributed.run", f"--nproc-per-node={nproc}"]
    if nnodes == 1 and rdzv is None:
        cmd.append("--standalone")
    else:
        cmd += [f"--nnodes={nnodes}", "--rdzv-backend=c10d", f"--rdzv-endpoint={rdzv or '$MASTER_ADDR:29500'}",
                "--rdzv-id=sitebench"]
    return cmd + ["-m", "bench", "run", *run_args]


def srun_cmd(run_args: list[str], *, nproc: int, nnodes: int) -> list[str]:
    """One torchrun per node under Slurm; the first node of the allocation hosts the rendezvous."""
    inner = torchrun_cmd(run_args, nproc=nproc, nnodes=nnodes, rdzv="$MASTER_ADDR:29500", python="python")
    script = ("export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n1); "
              + " ".join(a if "$" in a else shlex.quote(a) for a in inner))
    return ["srun", f"--nodes={nnodes}", "--ntasks-per-node=1", "bash", "-c", script]


def all_devices_args(argv: list[str]) -> list[str]:
    """The run arguments with --all-devices removed and --device cuda forced (each rank picks cuda:LOCAL_RANK)."""
    out: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--all-devices":
            continue
        if a in ("--device", "-d"):
            skip = True
            continue
        if a.startswith("--device="):
            continue
        out.append(a)
    return out + ["--device", "cuda"]

"""The GPU fleet's Slurm path, run for real on CPU: ``sitebench fleet --slurm`` launches ``srun``, one torchrun per
node, two gloo ranks, and rank 0 writes one fleet file."""

from __future__ import annotations

from pathlib import Path

from bench.record import load
from tests.deploy.conftest import BIN, Slurm

FAST = ["--window", "0.3", "--repeats", "2", "--idle", "0", "--warmup", "0.1", "-q"]


def test_fleet_slurm_runs_two_ranks_through_srun(slurm: Slurm, tmp_path: Path) -> None:
    out = tmp_path / "fleet.json"
    cmd = [str(BIN / "sitebench"), "fleet", "--slurm", "--nnodes", "1", "--nproc-per-node", "2", "--",
           "--device", "cpu", "-w", "sha256d", *FAST, "--out", str(out)]
    proc = slurm.run(*cmd, timeout_s=180, cwd=tmp_path)  # srun's task runs `python`: this one, first on PATH
    doc = load(out)
    assert sorted(r.rank for r in doc.runs) == [0, 1], proc.stdout + proc.stderr
    assert all(r.workload == "sha256d" and r.verified for r in doc.runs)
    assert doc.fleet is not None and doc.fleet.world_size == 2 and doc.fleet.lost_ranks == []
    srun_jobs = [j for j in slurm.run("scontrol", "-o", "show", "jobs").stdout.splitlines() if f"WorkDir={tmp_path} " in j]
    assert len(srun_jobs) == 1 and "JobState=COMPLETED" in srun_jobs[0] and "ExitCode=0:0" in srun_jobs[0], srun_jobs

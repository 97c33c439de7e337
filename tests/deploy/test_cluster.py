"""The test cluster itself: an sbatch array of four tasks runs every task."""

from __future__ import annotations

from pathlib import Path

from tests.deploy.conftest import Slurm


def test_an_sbatch_array_of_four_runs_every_task(slurm: Slurm, tmp_path: Path) -> None:
    script = tmp_path / "array.sh"
    script.write_text("#!/bin/bash\necho \"$SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT\" > task-$SLURM_ARRAY_TASK_ID.txt\n")
    out = slurm.run("sbatch", "--parsable", "--array=0-3", f"--chdir={tmp_path}", "--output=/dev/null", str(script))
    job = out.stdout.strip().split(";")[0]
    slurm.wait_jobs(job)
    seen = {p.name: p.read_text().split() for p in tmp_path.glob("task-*.txt")}
    assert seen == {f"task-{i}.txt": [str(i), "4"] for i in range(4)}, slurm.logs()

"""The miners guide's Slurm job array, run for real: the page's ``shards.sbatch`` and its submit-and-merge block on the
test cluster, against simulated miners, with short windows. Four shards from the array's environment, one fleet that
validates, every miner in it once, and figures that agree with one process measuring the same miners at the same time.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bench.record import load
from bench.testing.miners import SimFleet, SimMiner
from bench.validation import validate_file
from tests.deploy.conftest import BIN, Slurm
from tests.deploy.pages import FAST, GUIDE, block

HOSTS = [f"127.27.1.{i}" for i in range(1, 13)]


def miners() -> list[SimMiner]:
    """Three firmware families, one miner short of 9 chips."""
    out = []
    for i, host in enumerate(HOSTS):
        if i % 3 == 1:
            out.append(SimMiner(host, family="braiins", difficulty=64, seed=i, power_w=3240.0))
        elif i % 3 == 2:
            out.append(SimMiner(host, family="whatsminer", model="Whatsminer M50.VH50", chips_expected=105,
                                difficulty=64, seed=i, power_w=3300.0, missing=[0, 9, 0] if i == 2 else []))
        else:
            out.append(SimMiner(host, difficulty=64, seed=i))
    return out


def test_the_guides_job_array_of_four_shards_merges_into_one_fleet(slurm: Slurm, tmp_path: Path) -> None:
    script = block(GUIDE, "shards.sbatch")
    fast = re.sub(r"^(sitebench miners run .*)$", lambda m: f"{m.group(1)} {' '.join(FAST)}", script, flags=re.M)
    assert fast != script, "the page's job script runs `sitebench miners run` on one line"
    assert re.search(r"^#SBATCH --array=0-3\b", script, re.M)
    (tmp_path / "shards.sbatch").write_text(fast)
    (tmp_path / "hosts.txt").write_text("\n".join(HOSTS) + "\n")
    submit = block(GUIDE, "needs a Slurm cluster")
    with SimFleet(miners()):
        single = subprocess.Popen([str(BIN / "sitebench"), "miners", "run", "--hosts", "hosts.txt", *FAST,
                                   "--out", "single.json"], cwd=tmp_path, env=slurm.env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        submitted = slurm.run("bash", "-e", "-c", submit, cwd=tmp_path)
        slurm.wait_idle(deadline_s=240)
        single_out, _ = single.communicate(timeout=240)
    names = " ".join(p.name for p in (tmp_path / "shards").iterdir())
    (array,) = {m.group(1) for m in re.finditer(r"miners-(\d+)_\d\.out", names)}  # the array's job id
    outs = sorted((tmp_path / "shards").glob(f"miners-{array}_*.out"))
    said = [p.read_text() for p in outs]
    assert len(outs) == 4, submitted.stdout
    for k, text in enumerate(said):
        assert f"shard {k}/4 from the Slurm job array (SLURM_ARRAY_TASK_ID={k}" in text, text[-3000:]
        assert f"run id slurm-{array}" in text
    merge_log = "".join(p.read_text() for p in (tmp_path / "shards").glob("merge-*.out"))
    fleet = tmp_path / f"fleet-{array}.json"
    assert fleet.is_file(), merge_log + "\n".join(t[-2000:] for t in said)
    assert f"run slurm-{array}, 4 of 4 shard(s), {len(HOSTS)} miner(s)" in merge_log, merge_log

    found = validate_file(fleet).findings
    assert found == [], [f.line(str(fleet)) for f in found]
    merged = load(fleet)
    block_ = merged.miners_fleet
    assert block_ is not None and block_.complete and block_.run_id == f"slurm-{array}"
    assert block_.totals.miners == len(HOSTS)
    shard_miners = sorted(r.device for k in range(4) for r in load(tmp_path / "shards" / f"miners-{array}-{k}.json").runs)
    assert shard_miners == sorted(f"asic:{h}" for h in HOSTS), "every miner in exactly one shard"

    assert single.returncode == 0, single_out[-3000:]
    one = [r for r in load(tmp_path / "single.json").runs if r.ok]
    assert len(one) == len(HOSTS)
    assert block_.totals.hashrate_hs == pytest.approx(sum(r.throughput.rate or 0 for r in one), rel=0.01)
    assert block_.totals.power_w == pytest.approx(sum(r.power.avg_w or 0 for r in one), rel=0.01)
    assert block_.totals.missing_chips_miners == 1 and block_.totals.missing_chips == 9

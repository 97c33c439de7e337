"""Four real gloo ranks, one artificially slow: MAD flags it and qualify FAILs it (exit 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.record import load
from bench.run.launch import torchrun_cmd

WORKLOAD = '''
import os, time
from bench.workload import Workload

class Nap(Workload):
    """Sleeps 1 ms per step (SLOW_RANK sleeps 20 ms): slower by more than any loaded machine's overshoot."""
    name = "fleet-nap"
    unit = "nap"
    def setup(self, device, params):
        self.dt = 0.02 if os.environ.get("RANK") == os.environ.get("SLOW_RANK") else 0.001
    def verify(self):
        pass
    def step(self):
        time.sleep(self.dt)
        return 1
'''
DIST = """Metadata-Version: 2.1
Name: fleet-nap
Version: 0.0.1
"""


def test_slow_rank_flagged_and_failed(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "fleet_nap.py").write_text(WORKLOAD)
    info = site / "fleet_nap-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(DIST)
    (info / "entry_points.txt").write_text("[sitebench.workloads]\nfleet-nap = fleet_nap:Nap\n")
    spec = tmp_path / "spec.toml"
    spec.write_text("[spec]\nname = 'nap'\n[outliers]\nk = 3.0\nmin_rel_gap = 0.2\n")
    out = tmp_path / "fleet.json"
    env = {**os.environ, "PYTHONPATH": str(site), "SLOW_RANK": "3"}
    cmd = torchrun_cmd(["--device", "cpu", "-w", "fleet-nap", "--window", "0.3", "--repeats", "2", "--idle", "0",
                        "--warmup", "0.1", "-q", "--out", str(out)], nproc=4)
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=150)
    assert r.returncode == 0, r.stderr[-2000:]
    doc = load(out)
    tput = {run.rank: run.throughput.median for run in doc.runs}
    assert sorted(tput) == [0, 1, 2, 3] and tput[3] < 0.5 * min(tput[0], tput[1], tput[2])
    q = subprocess.run([sys.executable, "-m", "bench", "qualify", str(out), "--spec", str(spec)],
                       capture_output=True, text=True, cwd=tmp_path, env={**env, "COLUMNS": "300"}, timeout=60)
    assert q.returncode == 1, q.stdout + q.stderr
    fails = [line for line in q.stdout.splitlines() if "FAIL" in line and line.startswith("│ CPU ")]
    assert len(fails) == 1 and "rank3" in fails[0] and "outlier" in fails[0], q.stdout

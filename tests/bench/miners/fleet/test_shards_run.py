"""Four shards of one fleet run as real `sitebench miners run` processes against simulated miners (one with
--shard, one from a Slurm job array's variables, one from a Kubernetes Indexed Job's, one more with --shard),
merged: the fleet validates, every miner is in it exactly once, and its figures agree with one process measuring
the same miners at the same time. Bad shard options are one line, exit 2, before any miner is asked."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.record import Document, load
from bench.testing.miners import SimFleet, SimMiner
from bench.validation import validate_file
from tests.bench.miners.helpers import RUN, cli

HOSTS = [f"127.0.27.{i}" for i in range(1, 17)]


def _miner(i: int, host: str) -> SimMiner:
    if i % 4 == 1:
        return SimMiner(host, family="braiins", difficulty=64, seed=i, power_w=3240.0 + i)
    if i % 4 == 2:
        return SimMiner(host, family="whatsminer", model="Whatsminer M50.VH50", chips_expected=105, difficulty=64,
                        seed=i, power_w=3300.0, missing=[0, 7, 0] if i == 2 else [])
    return SimMiner(host, difficulty=64, seed=i)


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLURM_", "SITEBENCH_")) and k != "JOB_COMPLETION_INDEX"}
    return {**env, **extra}


@dataclass
class Fleet:
    shards: list[Path]
    errs: list[str]
    codes: list[int]
    single: Document
    merged: Path
    merge_code: int
    merge_err: str


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    d = tmp_path_factory.mktemp("fleet")
    hosts = d / "hosts.txt"
    hosts.write_text("# the rack\n" + "\n".join(reversed(HOSTS)) + "\n")
    run = [sys.executable, "-m", "bench", "miners", "run", "--hosts", str(hosts), *RUN]
    ways = [(["--shard", "0/4", "--run-id", "slurm-77"], {}),
            ([], {"SLURM_ARRAY_JOB_ID": "77", "SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "0",
                  "SLURM_ARRAY_TASK_MAX": "3", "SLURM_ARRAY_TASK_COUNT": "4"}),
            ([], {"JOB_COMPLETION_INDEX": "2", "SITEBENCH_SHARDS": "4", "SITEBENCH_RUN_ID": "slurm-77"}),
            (["--shard", "3/4"], {"SITEBENCH_RUN_ID": "slurm-77"})]
    outs = [d / f"shard-{k}.json" for k in range(4)]
    with SimFleet([_miner(i, h) for i, h in enumerate(HOSTS)]):
        procs = [subprocess.Popen([*run, *args, "--out", str(out)], env=_env(env), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for (args, env), out in zip(ways, outs)]
        single = subprocess.Popen([*run, "--out", str(d / "single.json")], env=_env({}), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        done = [p.communicate(timeout=300) for p in procs]
        single_out = single.communicate(timeout=300)
    assert single.returncode == 0, single_out[1][-3000:]
    merged = d / "fleet.json"
    code, _, err = cli("merge", *map(str, outs), "--out", str(merged))
    yield Fleet(outs, [e for _, e in done], [p.returncode for p in procs], load(d / "single.json"), merged, code, err)


def test_each_shard_says_where_its_shard_came_from_and_validates(fleet: Fleet) -> None:
    assert fleet.codes == [0, 0, 0, 0], [e[-2000:] for e in fleet.errs]
    assert "shard 0/4 from --shard" in fleet.errs[0]
    assert "shard 1/4 from the Slurm job array (SLURM_ARRAY_TASK_ID=1" in fleet.errs[1]
    assert "shard 2/4 from the Kubernetes Indexed Job (JOB_COMPLETION_INDEX=2, SITEBENCH_SHARDS=4)" in fleet.errs[2]
    assert all("run id slurm-77" in e for e in fleet.errs)
    for path in fleet.shards:
        found = validate_file(path).findings
        assert found == [], [f.line(str(path)) for f in found]
        info = load(path).shard
        assert info is not None and info.samples.rows > 0 and path.with_suffix(".parquet").is_file()
        assert info.clock.sources or info.clock.notes


def test_every_miner_is_in_exactly_one_shard_and_the_shards_are_balanced(fleet: Fleet) -> None:
    per = [[r.device for r in load(p).runs] for p in fleet.shards]
    assert sorted(d for s in per for d in s) == sorted(f"asic:{h}" for h in HOSTS)
    assert [len(s) for s in per] == [4, 4, 4, 4]


def test_windows_start_on_the_wall_clock_grid(fleet: Fleet) -> None:
    for path in fleet.shards:
        doc = load(path)
        info = doc.shard
        assert info is not None
        for run in doc.runs:  # every window, not only the first: none drifts off the grid
            grid0 = (info.wall_ref + run.windows[0].start) // info.window_s * info.window_s
            for k, w in enumerate(run.windows):
                lag = info.wall_ref + w.start - (grid0 + k * info.window_s)
                assert -0.5 <= lag <= info.period_s + 0.5, (run.device, w.name, lag)


def test_the_merged_fleet_validates_and_agrees_with_one_process(fleet: Fleet) -> None:
    assert fleet.merge_code == 0, fleet.merge_err
    found = validate_file(fleet.merged).findings
    assert found == [], [f.line(str(fleet.merged)) for f in found]
    block = load(fleet.merged).miners_fleet
    assert block is not None and block.complete and block.run_id == "slurm-77" and block.totals.miners == len(HOSTS)
    single = [r for r in fleet.single.runs if r.ok]
    assert len(single) == len(HOSTS)
    assert block.totals.hashrate_hs == pytest.approx(sum(r.throughput.rate or 0 for r in single), rel=0.01)
    assert block.totals.power_w == pytest.approx(sum(r.power.avg_w or 0 for r in single), rel=0.01)
    usable = [r for r in single if r.verified and r.power.valid_for_sizing]
    jpth = sum(r.power.energy_j or 0 for r in usable) / sum(sum(r.throughput.units) for r in usable) * 1e12
    assert block.totals.j_per_th == pytest.approx(jpth, rel=0.01)
    assert block.totals.missing_chips_miners == 1 and block.totals.missing_chips == 7
    assert {(g.model, g.miners) for g in block.models} == {("Antminer S19 Pro", 12), ("Whatsminer M50.VH50", 4)}


def test_qualify_fails_the_fleet_for_the_miner_short_of_chips(fleet: Fleet, tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text("[miners]\nmax_missing_chips = 0\n[outliers]\nfail = false\n")
    code, stdout, _ = cli("qualify", str(fleet.merged), "--spec", str(spec))
    assert code == 1 and "1 of 4 MicroBT Whatsminer M50.VH50 miner(s) with more than 0 chip(s) missing" in \
        " ".join(stdout.split())


@pytest.mark.parametrize("args, env, match", [
    (["--shard", "4/4", "--run-id", "r"], {}, "--shard 4/4: K must be 0..3"),
    (["--shard=-1/4", "--run-id", "r"], {}, "--shard '-1/4': expected K/N"),
    (["--shard", "1/4"], {}, "share a run id"),
    (["--shard", "1/4", "--run-id", "r", "--samples", "json"], {}, "--samples json"),
    (["--run-id", "r"], {}, "--run-id names the run"),
    (["--shard", "2/4", "--run-id", "r"], {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4"}, "says 1/4"),
    ([], {"JOB_COMPLETION_INDEX": "1", "SITEBENCH_RUN_ID": "r"}, "SITEBENCH_SHARDS"),
])
def test_bad_shard_options_are_one_line_and_nothing_is_asked(tmp_path: Path, args: list[str], env: dict[str, str],
                                                              match: str) -> None:
    out = tmp_path / "s.json"
    r = subprocess.run([sys.executable, "-m", "bench", "miners", "run", "127.0.27.199", *RUN, *args, "--out", str(out)],
                       env=_env(env), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and match in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_shard_too_big_for_one_result_file_is_refused(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "bench", "miners", "run", "10.9.0.0/16", *RUN, "--shard", "0/2",
                        "--run-id", "r", "--out", str(tmp_path / "s.json")], env=_env({}), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "more than the 20,000 runs a result file holds: use at least 7 shards" in r.stderr, r.stderr

"""A shard's windows stay on the wall-clock grid, every one of them (each starts at the first poll at or after its
boundary, so none drifts by a poll period a window), and merge checks every window of every miner against the grid:
on time within a poll period (+1 s), late (counted, noted) up to half a window, refused beyond."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from pathlib import Path

import pytest

from bench.errors import UsageError
from bench.miners.fleet.merge import ALIGN_SLACK_S, Alignment, _slot, merge
from bench.miners.measure.outcome import Plan, analyse
from bench.record import Phase, load
from bench.testing.shards import polls, shard_files
from bench.validation import validate_file
from tests.bench.miners.helpers import cli

PERIOD, WINDOW = 7.0, 30.0  # a period that does not divide the window: poll to poll, a window lasts 35 s


def _jittered(aligned: bool, seed: int) -> tuple[float, list[float]]:
    """The grid boundary before the first window, and each valid window's start (wall clock), of a miner polled every
    7 s with up to 0.5 s of jitter on each poll."""
    rng = random.Random(seed)
    wall0 = 1.8e9 + 3.0
    steady = polls("10.9.9.9", factor=1.0, polls_=80, period_s=PERIOD, t0=100.0, wall0=wall0, rate_ths=110.0,
                   power_w=3250.0)
    jittered = []
    for p in steady:
        j = rng.uniform(0.0, 0.5)
        jittered.append(replace(p, t=p.t + j, wall=p.wall + j))
    plan = Plan(period_s=PERIOD, warmup_s=PERIOD, window_s=WINDOW, repeats=12, aligned=aligned)
    m = analyse(jittered[0].identity, list(jittered), plan)
    wall_of = {p.t: p.wall for p in jittered}
    starts = [wall_of[w.t_start] for w in m.valid_windows]
    assert len(starts) == 12
    return math.floor(starts[0] / WINDOW) * WINDOW, starts


@pytest.mark.parametrize("seed", range(5))
def test_every_window_of_an_aligned_run_starts_within_a_period_of_its_boundary(seed: int) -> None:
    grid0, starts = _jittered(True, seed)
    lags = [s - (grid0 + k * WINDOW) for k, s in enumerate(starts)]
    assert all(0.0 <= lag < PERIOD + 0.5 for lag in lags), lags


def test_windows_cut_poll_to_poll_drift_off_the_grid() -> None:
    """Why: without the grid each window runs to the first poll a window after its start (35 s here), and the
    drift adds up, window after window, past half a window."""
    grid0, starts = _jittered(False, 0)
    lags = [s - (grid0 + k * WINDOW) for k, s in enumerate(starts)]
    assert lags[-1] > WINDOW / 2, lags


@pytest.fixture(scope="module")
def shard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    (path,) = shard_files(tmp_path_factory.mktemp("grid"), miners=20, shards=1, polls_=40, period_s=PERIOD,
                          window_s=WINDOW, repeats=6, run_id="grid")
    return path


def test_a_synthetic_shard_is_on_the_grid_window_after_window_and_merges(shard: Path, tmp_path: Path) -> None:
    doc = load(shard)
    info = doc.shard
    assert info is not None
    for run in doc.runs:
        first = info.wall_ref + run.windows[0].start
        grid0 = math.floor(first / WINDOW) * WINDOW
        for k, w in enumerate(run.windows):
            assert 0.0 <= info.wall_ref + w.start - (grid0 + k * WINDOW) <= PERIOD, (run.device, k)
    out = tmp_path / "fleet.json"
    merged = merge([shard], out)
    fleet = merged.doc.miners_fleet
    assert fleet is not None and 0.0 <= fleet.lag_s <= PERIOD and not any("late" in n for n in merged.notes)
    assert validate_file(out).findings == []


def _shifted(shard: Path, k: int, by: float) -> tuple[Alignment, int | None]:
    doc = load(shard)
    assert doc.shard is not None
    run = doc.runs[0]
    phases = [Phase(name=p.name, start=p.start + by, end=p.end + by) if p.name == f"window-{k}" else p
              for p in run.phases]
    seen = Alignment()
    return seen, _slot(doc.shard, run.model_copy(update={"phases": phases}), shard, seen)


def test_a_window_late_by_more_than_a_period_is_counted_and_one_off_the_grid_refused(shard: Path) -> None:
    seen, slot = _shifted(shard, 3, PERIOD + ALIGN_SLACK_S + 1.0)  # polls missed at its boundary
    assert slot is not None and seen.late == 1 and seen.late_miners == 1 and seen.lag_s > PERIOD + ALIGN_SLACK_S
    assert "1 window(s) of 1 miner(s) started more than a poll period" in (seen.note() or "")
    with pytest.raises(UsageError, match=r"window-3 starts \+1[0-9.]* s from its boundary"):
        _shifted(shard, 3, WINDOW / 2)
    with pytest.raises(UsageError, match="not on the grid"):
        _shifted(shard, 2, -ALIGN_SLACK_S - PERIOD - 1.0)


def test_a_shard_whose_windows_drift_off_the_grid_is_refused(tmp_path: Path) -> None:
    (drifting,) = shard_files(tmp_path / "drift", miners=4, shards=1, polls_=60, period_s=PERIOD, window_s=WINDOW,
                              repeats=6, run_id="drift", aligned=False)
    out = tmp_path / "fleet.json"
    code, _, err = cli("merge", str(drifting), "--out", str(out))
    assert code == 2 and "windows are not on the grid" in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()

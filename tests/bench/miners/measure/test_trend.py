"""A miners soak shows its drift as it goes: one line each time the miner furthest on completes a window, with
one miner's drift and verdict or a fleet's median, range and verdict counts; a real ``miners run --soak``
prints them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.drift import drift, percent
from bench.miners.measure.trend import SoakTrend
from bench.miners.measure.window import Window
from bench.testing.miners import SimFleet, SimMiner
from tests.bench.miners.helpers import cli


def windows(n: int, rate: float, fall_per_h: float, noise: float = 0.0) -> list[Window]:
    """``n`` windows of 60 s whose rate falls linearly by ``fall_per_h`` of ``rate`` per hour."""
    out = []
    for i in range(n):
        mid = 60.0 * i + 30.0
        r = rate * (1 - fall_per_h * mid / 3600) * (1 + (noise if i % 2 else -noise))
        out.append(Window(i, 60.0 * i, 60.0 * (i + 1), r * 60.0, 60.0, 1e6, 13, 0, None, None, None, None, None))
    return out


def test_one_miner_drifting_down_says_so_window_by_window() -> None:
    said: list[str] = []
    trend = SoakTrend(30, 0.01, said.append)
    assert trend.update({"10.0.0.7:4028": windows(1, 100e12, 0.06)}) is not None
    assert said[-1] == "soak: window 1 of 30, 10.0.0.7:4028: hash rate drift -"  # one window: no slope yet
    assert trend.update({"10.0.0.7:4028": windows(1, 100e12, 0.06)}) is None  # no new window, nothing said
    for n in range(2, 21):
        trend.update({"10.0.0.7:4028": windows(n, 100e12, 0.06, 0.001)})
    w = windows(20, 100e12, 0.06, 0.001)
    d = drift([(x.t_start + x.t_end) / 2 for x in w], [x.hashes / x.duration_s for x in w], 0.01)
    assert d is not None and d.per_hour == pytest.approx(-0.06, abs=0.002)  # of the mean rate, not the first
    assert len(said) == 20 and said[-1] == f"soak: window 20 of 30, 10.0.0.7:4028: hash rate drift {percent(d)} drifting"


def test_a_fleet_gives_the_median_range_and_counts() -> None:
    said: list[str] = []
    trend = SoakTrend(10, 0.01, said.append)
    trend.update({"a:4028": windows(1, 1e14, 0.0), "b:4028": windows(0, 1e14, 0.0)})
    assert said[-1] == "soak: window 1 of 10, 2 miners: hash rate drift - (two windows needed)"
    line = trend.update({"a:4028": windows(8, 1e14, 0.0, 1e-4), "b:4028": windows(7, 1e14, 0.30, 1e-4),
                         "c:4028": windows(8, 1e14, 0.02, 1e-4)})
    # a steady (its noise tilts it +0.06 %/h), one falling 30 %/h, one 2 %/h (each of its mean, so a little more)
    assert line == ("soak: window 8 of 10, 3 miners: hash rate drift median -1.95 %/h (-30.53 .. +0.06) over 3; "
                    "1 stable, 2 drifting")


def test_a_real_miners_soak_shows_its_drift_as_it_goes(tmp_path: Path) -> None:
    with SimFleet([SimMiner("127.0.0.127", difficulty=64, seed=7)]):
        code, _, err = cli("miners", "run", "127.0.0.127", "--period", "0.25", "--warmup", "5", "--window", "1",
                           "--soak", "4s", "--timeout", "1", "--out", str(tmp_path / "m.json"))
    assert code == 0, err
    lines = [x for x in err.splitlines() if x.startswith("soak: window")]
    assert lines[0].startswith("soak: window 1 of 4, 127.0.0.127:4028: hash rate drift")
    assert lines[-1].startswith("soak: window 4 of 4") and "%/h" in lines[-1]
    assert [int(x.split()[2]) for x in lines] == sorted({int(x.split()[2]) for x in lines})  # each window once


@pytest.mark.parametrize("n", [0])
def test_nothing_is_said_before_a_window(n: int) -> None:
    said: list[str] = []
    assert SoakTrend(5, 0.01, said.append).update({"a:4028": windows(n, 1e14, 0.0)}) is None and said == []

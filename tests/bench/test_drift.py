"""The drift statistics: an OLS slope per hour normalised to the mean, its interval from an effective sample
size, the verdict against a threshold, and the live tracker, on windows built with a known drift."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.drift import Tracker, drift, effective, judge, overall, percent


def windows(per_hour: float, n: int = 60, window_s: float = 60.0, mean: float = 1000.0,
            noise: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Window mid-times and rates whose mean is ``mean`` and whose drift is exactly ``per_hour``."""
    t = (np.arange(n) + 0.5) * window_s
    y = mean * (1 + per_hour * (t - t.mean()) / 3600)
    return t, y + (noise if noise is not None else 0.0)


@pytest.mark.parametrize("per_hour", [-0.05, -0.012, 0.0, 0.003, 0.2])
def test_a_linear_drift_is_reported_as_built_with_a_point_interval(per_hour: float) -> None:
    t, y = windows(per_hour)
    d = drift(t, y)
    assert d is not None
    assert d.per_hour == pytest.approx(per_hour, abs=1e-12)
    assert d.mean == pytest.approx(1000.0)
    assert d.low == pytest.approx(per_hour, abs=1e-9) and d.high == pytest.approx(per_hour, abs=1e-9)
    assert d.verdict == ("stable" if abs(per_hour) <= 0.01 else "drifting")
    assert d.windows == 60


def test_the_drift_is_a_fraction_of_the_mean_per_hour_whatever_the_window_length() -> None:
    a = drift(*windows(-0.02, n=30, window_s=10.0))
    b = drift(*windows(-0.02, n=300, window_s=120.0, mean=3.5e14))
    assert a is not None and b is not None
    assert a.per_hour == pytest.approx(-0.02) and b.per_hour == pytest.approx(-0.02)


def test_noise_widens_the_interval_and_a_small_drift_in_much_noise_is_inconclusive() -> None:
    rng = np.random.default_rng(7)
    t, y = windows(-0.004, n=40, noise=rng.normal(0, 30.0, 40))  # 3% noise per window over 40 minutes
    d = drift(t, y)
    assert d is not None and d.low is not None and d.high is not None
    assert d.low < d.per_hour < d.high
    assert d.verdict == "inconclusive"
    quiet = drift(*windows(-0.004, n=40, noise=rng.normal(0, 0.5, 40)))
    assert quiet is not None and quiet.verdict == "stable"
    loud = drift(*windows(-0.5, n=40, noise=rng.normal(0, 30.0, 40)))
    assert loud is not None and loud.verdict == "drifting"


def test_autocorrelated_noise_shrinks_the_effective_windows_and_widens_the_interval() -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(0, 5.0, 200)
    ar = np.zeros(200)
    for i in range(200):
        ar[i] = (0.8 * ar[i - 1] if i else 0.0) + z[i]
    white = drift(*windows(0.0, n=200, noise=z))
    red = drift(*windows(0.0, n=200, noise=ar))
    assert white is not None and red is not None
    assert white.autocorrelation < 0.2 and red.autocorrelation > 0.6
    assert red.effective_windows < white.effective_windows / 3
    r1, n_eff = effective(ar - ar.mean())
    assert n_eff == pytest.approx(200 * (1 - r1) / (1 + r1))
    assert (red.high - red.low) / red.mean > (white.high - white.low) / white.mean  # type: ignore[operator]


def test_the_interval_covers_the_true_drift_about_95_percent_of_the_time_under_ar1_noise() -> None:
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(300):
        e = np.zeros(100)
        z = rng.normal(0, 5.0, 100)
        for i in range(100):
            e[i] = (0.5 * e[i - 1] if i else z[0] / math.sqrt(0.75)) + (z[i] if i else 0.0)
        d = drift(*windows(-0.01, n=100, noise=e))
        assert d is not None and d.low is not None and d.high is not None
        hits += d.low <= -0.01 <= d.high
    assert 0.85 <= hits / 300 <= 0.99


def test_too_few_windows_give_no_interval_and_no_verdict() -> None:
    assert drift([30.0], [1.0]) is None
    assert drift([30.0, 30.0], [1.0, 2.0]) is None  # all at one time
    assert drift([30.0, 90.0], [0.0, 0.0]) is None  # no mean to normalise by
    two = drift([30.0, 90.0], [100.0, 99.0])
    assert two is not None and two.low is None and two.verdict == "inconclusive"
    assert two.per_hour == pytest.approx(-1 / 60 * 3600 / 99.5)


def test_verdicts_against_the_threshold() -> None:
    assert judge(-0.005, 0.009, 0.01) == "stable"
    assert judge(-0.01, 0.01, 0.01) == "stable"
    assert judge(0.011, 0.05, 0.01) == "drifting"
    assert judge(-0.05, -0.0101, 0.01) == "drifting"
    assert judge(-0.02, 0.0, 0.01) == "inconclusive"
    assert judge(None, None, 0.01) == "inconclusive"
    assert overall(["stable", "drifting"]) == "drifting"
    assert overall(["stable", "stable"]) == "stable"
    assert overall(["stable", "inconclusive"]) == "inconclusive"
    assert overall([]) == "inconclusive"


def test_the_tracker_gives_the_records_slope_in_constant_memory() -> None:
    rng = np.random.default_rng(5)
    t, y = windows(-0.03, n=50, noise=rng.normal(0, 2.0, 50))
    tracker = Tracker(0.01)
    assert tracker.estimate() is None
    for ti, yi in zip(t, y):
        tracker.add(float(ti), float(yi))
    live, final = tracker.estimate(), drift(t, y)
    assert live is not None and final is not None
    assert live.per_hour == pytest.approx(final.per_hour, rel=1e-9)
    assert live.low is not None and live.low < live.per_hour < live.high  # type: ignore[operator]
    assert percent(live).startswith("-3.") and "%/h ±" in percent(live)
    assert percent(None) == "-"

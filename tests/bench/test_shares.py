"""Pool-share statistics: the Poisson interval of a share count is Garwood's (chi-square quantiles)."""

from __future__ import annotations

import math

import pytest

from bench.shares import poisson_interval


@pytest.mark.parametrize("n", [0, 1, 5, 40, 100, 101, 400, 10000])
def test_poisson_interval_is_garwoods(n: int) -> None:
    from scipy.stats import chi2  # type: ignore[import-untyped]

    alpha = 1 - 0.9973
    low, high = poisson_interval(n)
    assert low == pytest.approx(0 if n == 0 else chi2.ppf(alpha / 2, 2 * n) / 2, rel=5e-4, abs=1e-12)
    assert high == pytest.approx(chi2.ppf(1 - alpha / 2, 2 * n + 2) / 2, rel=5e-4)
    if n == 0:
        assert high == pytest.approx(-math.log(alpha / 2))

"""A fleet's spread in bounded memory: quantiles and MAD from log-spaced bins, within their resolution."""

from __future__ import annotations

import random
import statistics

import pytest

from bench.miners.fleet.distribution import LogHistogram


def test_quantiles_and_mad_within_the_resolution_of_the_exact_figures() -> None:
    rng = random.Random(3)
    values = [rng.gauss(110.0, 2.0) for _ in range(20_000)] + [80.0] * 50
    h = LogHistogram()
    for v in values:
        h.add(v)
    exact = sorted(values)
    med = statistics.median(values)
    assert h.quantile(0.5) == pytest.approx(med, rel=2e-3)
    assert h.quantile(0.1) == pytest.approx(exact[int(0.1 * len(exact))], rel=2e-3)
    assert h.mad() == pytest.approx(statistics.median(abs(v - med) for v in values), rel=0.05, abs=0.25)
    rec = h.record()
    assert rec.count == len(values) and rec.min == min(values) and rec.max == max(values)
    assert rec.mean == pytest.approx(statistics.fmean(values))
    assert sum(n for _, n in rec.histogram) == len(values)


def test_memory_grows_with_the_spread_not_the_count() -> None:
    h = LogHistogram()
    rng = random.Random(1)
    for _ in range(200_000):
        h.add(rng.uniform(100.0, 120.0))
    assert len(h.bins) <= 200, "ln(1.2) / 0.001 bins at most"


def test_empty_and_zero() -> None:
    assert LogHistogram().record().count == 0 and LogHistogram().quantile(0.5) is None
    h = LogHistogram()
    for v in (0.0, 0.0, 5.0):
        h.add(v)
    assert h.quantile(0.5) == 0.0 and h.quantile(1.0) == pytest.approx(5.0, rel=1e-3)

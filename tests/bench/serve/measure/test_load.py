"""Arrivals as vLLM releases them: all at once, Poisson, or gamma with a burstiness."""

from __future__ import annotations

import itertools
import math
import statistics

import pytest

from bench.serve.measure.load import release_offsets


def gaps(offsets: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise([0.0, *offsets])]


def test_inf_releases_everything_at_once() -> None:
    assert release_offsets(5, math.inf, 1.0, seed=0) == [0.0] * 5


def test_the_last_release_falls_at_n_over_rate_and_the_seed_repeats() -> None:
    offsets = release_offsets(200, 20.0, 1.0, seed=7)
    assert offsets[-1] == pytest.approx(200 / 20.0)
    assert offsets == sorted(offsets) and offsets == release_offsets(200, 20.0, 1.0, seed=7)
    assert offsets != release_offsets(200, 20.0, 1.0, seed=8)


def test_burstiness_is_the_gamma_shape() -> None:
    def cv(burstiness: float) -> float:
        g = gaps(release_offsets(4000, 100.0, burstiness, seed=1))
        return statistics.pstdev(g) / statistics.mean(g)

    # a gamma's coefficient of variation is 1 / sqrt(shape): 1 for Poisson, 2 at 0.25, 0.5 at 4
    assert cv(1.0) == pytest.approx(1.0, rel=0.1)
    assert cv(0.25) == pytest.approx(2.0, rel=0.1)
    assert cv(4.0) == pytest.approx(0.5, rel=0.1)
    assert gaps(release_offsets(10, 4.0, math.inf, seed=0)) == pytest.approx([0.25] * 10)

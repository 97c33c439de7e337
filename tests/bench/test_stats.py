"""Summary statistics: one definition of each figure."""

from __future__ import annotations

import pytest

from bench.stats import percentiles, summarize


def test_summarize_hand_computed() -> None:
    s = summarize([10.0, 20.0, 30.0, 40.0])
    assert s["median"] == pytest.approx(25.0, rel=1e-12)
    assert s["mean"] == pytest.approx(25.0, rel=1e-12)
    assert s["p10"] == pytest.approx(13.0)  # linear: 10 + 0.3 * 10
    assert s["p90"] == pytest.approx(37.0)
    assert s["min"] == 10.0 and s["max"] == 40.0
    # sample standard deviation of 10,20,30,40 is sqrt(500/3)
    assert s["cv"] == pytest.approx((500 / 3) ** 0.5 / 25.0)


def test_summarize_single_and_empty() -> None:
    assert summarize([5.0])["cv"] == 0.0
    assert summarize([5.0])["median"] == 5.0
    assert summarize([])["median"] is None


def test_percentiles() -> None:
    p = percentiles(list(range(101)))
    assert p == pytest.approx({"p50": 50.0, "p90": 90.0, "p99": 99.0}, rel=1e-12)
    assert percentiles([]) == {"p50": None, "p90": None, "p99": None}

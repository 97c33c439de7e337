"""``serve --soak``'s progress bar shows the token rate's drift as it goes: requests whose output falls 1% a
request give, window by window, the drift of the windows' exact token rates; nothing is said before a window
is a whole window behind the last request's end; failed requests count no tokens."""

from __future__ import annotations

import pytest

from bench.drift import Tracker, percent
from bench.serve.measure.trend import TokenTrend
from bench.serve.protocol.records import RequestRecord


def request(i: int, ok: bool = True) -> RequestRecord:
    """Request ``i``: from ``i`` s to ``i + 1`` s, ten token events, ``100 (1 - 0.01 i)`` output tokens."""
    times = [i + 0.05 + 0.1 * k for k in range(10)]
    return RequestRecord(i, arrival=float(i), dispatched=float(i), token_times=times, end=i + 1.0, ok=ok,
                         output_tokens=round(100 * (1 - 0.01 * i)) if ok else None)


def test_the_drift_of_the_windows_token_rates() -> None:
    trend = TokenTrend(10.0, 0.01)
    said = {i: trend.add(request(i)) for i in range(61)}
    # window k ends at 10 k + 10.05 s: it is complete when a request ends a whole window later
    assert [i for i, text in said.items() if text is not None] == [20, 30, 40, 50, 60]
    expect = Tracker(0.01)
    for k in range(5):  # windows 0-4: requests 10k .. 10k + 9, all their tokens inside
        expect.add((k + 0.5) * 10.0, sum(round(100 * (1 - 0.01 * i)) for i in range(10 * k, 10 * k + 10)) / 10.0)
    est = expect.estimate()
    assert est is not None and est.per_hour < -1.0  # 10% of the rate per 10 s window: fast, for the test
    assert said[60] == f"drift {percent(est)} {est.verdict}"
    got = trend.tracker.estimate()
    assert got is not None and (got.per_hour, got.low, got.high) == pytest.approx((est.per_hour, est.low, est.high))


def test_failed_requests_count_no_tokens_and_nothing_is_said_early() -> None:
    trend = TokenTrend(10.0, 0.01)
    assert trend.add(request(0, ok=False)) is None and trend.t0 is None
    assert [trend.add(request(i)) for i in range(1, 20)] == [None] * 19
    assert trend.tokens[0] == pytest.approx(sum(round(100 * (1 - 0.01 * i)) for i in range(1, 11)))

"""The steady window's slices: ticks marked while it is open, the boundaries kept, tokens attributed by event time."""

from __future__ import annotations

import threading
import time

import pytest

from bench.serve.measure.slices import DENSITY, MIN_TICK_S, Ticker, attribute, boundaries, equal_bounds, token_events
from bench.serve.measure.steady import analyse
from bench.serve.protocol.records import RequestRecord


def test_boundaries_are_the_ticks_nearest_the_equal_divisions() -> None:
    ticks = [(f"tick-{k}", k * 0.1) for k in range(1, 100)]  # 0.1 .. 9.9
    got = boundaries(("steady/start", 0.0), ("steady/end", 10.0), ticks)
    assert [n for n, _ in got] == ["steady/start", "tick-20", "tick-40", "tick-60", "tick-80", "steady/end"]
    # sparse ticks: a division without its own tick is skipped, never two slices on one tick
    got = boundaries(("s", 0.0), ("e", 10.0), [("tick-0", 4.5)])
    assert [n for n, _ in got] == ["s", "tick-0", "e"]
    # no tick inside: one slice
    assert boundaries(("s", 0.0), ("e", 0.005), [("tick-0", 0.0051)]) == [("s", 0.0), ("e", 0.005)]


def test_the_ticker_spaces_its_ticks_by_the_elapsed_window() -> None:
    enough = threading.Event()

    def mark(name: str) -> float:
        if len(ticker.ticks) >= 50:  # past 0.4 s, where the spacing starts to grow
            enough.set()
        return time.monotonic()

    ticker = Ticker(mark)
    t0 = time.monotonic()
    ticker.start(t0)
    assert enough.wait(60)
    ticker.stop()
    times = [t0] + [t for _, t in ticker.ticks]
    assert [n for n, _ in ticker.ticks] == [f"tick-{k}" for k in range(len(ticker.ticks))]
    for before, after in zip(times[1:], times[2:]):  # never closer than the rule (2 ms for the clock's grain)
        assert after - before >= max(MIN_TICK_S, (before - t0) / DENSITY) - 2e-3


def test_tokens_are_attributed_to_slices_by_event_time() -> None:
    a = RequestRecord(0, token_times=[0.5, 1.5, 2.5, 3.5], ok=True, output_tokens=8)  # 2 tokens per event
    b = RequestRecord(1, token_times=[1.0, 3.0], ok=True, output_tokens=3)
    failed = RequestRecord(2, token_times=[2.0], ok=False, output_tokens=None)
    events = token_events([a, b, failed])
    want = [(0.5, 2), (1.0, 1.5), (1.5, 2), (2.5, 2), (3.0, 1.5), (3.5, 2)]  # (event time, tokens / events)
    assert sorted(events) == [pytest.approx(e, rel=1e-12) for e in want]
    # [3, ...) is outside; 1.0 is in the second
    assert attribute(events, [0.0, 1.0, 2.0, 3.0]) == pytest.approx([2, 3.5, 2], rel=1e-12)
    assert equal_bounds(0.0, 1.0, 4) == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0], rel=1e-12)


def test_the_window_is_analysed_over_the_slices_it_is_given() -> None:
    recs = [RequestRecord(i, dispatched=0.0, token_times=[0.1 * k for k in range(1, 100)], ok=True, output_tokens=99,
                          end=9.95) for i in range(4)]
    w = analyse(recs, 1.0, 9.0, closed_target=None, bounds=[1.0, 3.0, 4.0, 9.0])
    assert w.bounds == [1.0, 3.0, 4.0, 9.0] and w.slice_tokens == pytest.approx([80, 40, 200], rel=1e-12)
    assert w.slice_rates == pytest.approx([40.0, 40.0, 40.0]) and w.output_tokens == 320 and w.valid, w.reasons

"""Window arithmetic on synthetic polls: counter deltas, restarts as gaps, coarse counters refused."""

from __future__ import annotations

import pytest

from bench.miners.measure.window import break_between, cut, segments
from bench.miners.protocol.model import Counter, Identity, Poll, PollFailure, Sample

ID = Identity("10.0.0.5", 4028, "cgminer", "antminer", "Bitmain", "Antminer S19 Pro", "fw")
RATE = 100e12


def poll(t: float, elapsed: float, hashes: float, resolution: float = 1e6, **kw: object) -> Poll:
    return Poll(t=t, wall=t, identity=ID, elapsed_s=elapsed, counter=Counter(hashes, resolution, "Total MH"),
                rates_hs={"nominal": RATE}, **kw)  # type: ignore[arg-type]


def steady(t0: float, t1: float, step: float = 1.0, start_elapsed: float = 1000.0) -> list[Poll]:
    n = round((t1 - t0) / step)
    return [poll(t0 + i * step, start_elapsed + i * step, (start_elapsed + i * step) * RATE) for i in range(n + 1)]


def test_throughput_is_the_counter_difference_and_a_failed_poll_loses_nothing() -> None:
    samples: list[Sample] = list(steady(0, 20))
    samples[5] = PollFailure(5.0, 5.0, "10.0.0.5:4028", "no answer within 4.5 s")
    runs, breaks = segments(samples)
    assert len(runs) == 1 and not breaks
    windows = cut(runs[0], [5.0], 0.0, 10.0, 2)
    assert [w.throughput_hs for w in windows] == [pytest.approx(RATE, rel=1e-12)] * 2
    assert windows[0].missed == 1 and windows[0].polls == 10 and windows[1].missed == 0 and all(w.valid for w in windows)


def test_a_restart_is_a_gap_never_a_negative_rate() -> None:
    before = steady(0, 12)
    after = [poll(13 + i, 1 + i, (1 + i) * RATE) for i in range(25)]
    runs, breaks = segments([*before, *after])
    assert len(runs) == 2 and "miner restarted (Elapsed 1012 s -> 1 s)" in breaks[0][1]
    windows = cut(runs[0], [], 0.0, 10.0, 3, end_reason=breaks[0][1])
    assert windows[0].valid and windows[1].throughput_hs == pytest.approx(RATE)
    assert not windows[1].valid and "counter reset, a gap" in windows[1].invalid_reasons[0]
    later = cut(runs[1], [], 13.0, 10.0, 2, first_index=2)
    assert [w.index for w in later] == [2, 3] and all(w.valid and w.throughput_hs > 0 for w in later)  # type: ignore[operator]


def test_counter_going_back_or_jumping_breaks_the_series() -> None:
    a = poll(0, 100, 1e16)
    assert "went back" in (break_between(a, poll(1, 101, 0.9e16)) or "")
    assert "jumped" in (break_between(a, poll(1, 101, 1e16 + 5 * RATE)) or "")
    assert break_between(a, poll(1, 101, 1e16 + RATE)) is None
    assert "no hash counter" in (break_between(a, Poll(1, 1, ID, 101, None)) or "")


def test_a_counter_too_coarse_for_the_window_is_refused() -> None:
    polls = [poll(i, 100 + i, (100 + i) * RATE, resolution=RATE) for i in range(11)]  # +/- one second of hashing
    (w,) = cut(polls, [], 0.0, 10.0, 1)
    assert not w.valid and "counter resolution (Total MH) is 20.0% of the window's hashes" in w.invalid_reasons[0]


def test_power_is_the_time_average_of_the_firmware_figure() -> None:
    polls = [poll(i, 100 + i, (100 + i) * RATE, power_w=3000.0 if i < 5 else 3300.0) for i in range(11)]
    (w,) = cut(polls, [], 0.0, 10.0, 1)
    assert w.power_w == pytest.approx((4 * 3000 + 3150 + 5 * 3300) / 10)

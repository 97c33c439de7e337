"""The steady window: its edges (live and after the fact agree), tokens in it, and the stability verdict."""

from __future__ import annotations

import heapq

import pytest

from bench.serve.measure.steady import SteadyTracker, analyse, edges
from bench.serve.protocol.records import RequestRecord


def closed_loop(n: int, c: int, ttft: float = 0.5, tokens: int = 10, itl: float = 0.1,
                ttft_of: dict[int, float] | None = None) -> list[RequestRecord]:
    """n requests through c slots, each slot refilled the moment its request ends (a closed loop)."""
    free = [0.0] * c
    recs = []
    for i in range(n):
        t = heapq.heappop(free)
        first = t + (ttft_of or {}).get(i, ttft)
        times = [first + k * itl for k in range(tokens)]
        recs.append(RequestRecord(i, arrival=0.0, dispatched=t, token_times=times, end=times[-1], ok=True,
                                  input_tokens=100, output_tokens=tokens, token_source="usage"))
        heapq.heappush(free, times[-1])
    return recs


def replay(recs: list[RequestRecord], closed: int | None) -> SteadyTracker:
    """Feed the tracker the events in time order (sends before tokens before ends at equal times)."""
    events = [(r.dispatched, 0, r) for r in recs] + [(r.first_token, 1, r) for r in recs if r.first_token is not None]
    events += [(r.end, 2, r) for r in recs if r.end is not None]
    now = [0.0]
    tracker = SteadyTracker(len(recs), closed, lambda phase: now[0])
    for t, kind, r in sorted(events, key=lambda e: (e[0], e[1])):
        now[0] = t
        (tracker.sent, tracker.first_token, tracker.finished)[kind](r)
    return tracker


def test_closed_loop_edges_live_and_after_the_fact() -> None:
    recs = closed_loop(40, 4, ttft_of={3: 0.8})
    start, end = edges(recs, 4)
    assert start == pytest.approx(0.8)  # the 4th first token: the slowest of the first four prefills
    last_sent = max(r.dispatched for r in recs)
    assert end == min(r.end for r in recs if r.end is not None and r.end >= last_sent)
    tracker = replay(recs, 4)
    assert (tracker.start, tracker.end) == (start, end)


def test_open_loop_starts_at_the_first_completion() -> None:
    recs = closed_loop(30, 3)
    start, end = edges(recs, None)
    assert start == min(r.end for r in recs if r.end is not None)
    tracker = replay(recs, None)
    assert (tracker.start, tracker.end) == (start, end)


def test_tokens_in_the_window_are_spread_over_events() -> None:
    recs = closed_loop(40, 4)
    recs[5].output_tokens = 20  # two tokens per event for this one
    start, end = edges(recs, 4)
    assert start is not None and end is not None
    win = analyse(recs, start, end, closed_target=4)
    expect_out = sum((r.output_tokens or 0) / len(r.token_times) for r in recs for t in r.token_times if start <= t < end)
    expect_in = sum(100 for r in recs if start <= r.token_times[0] < end)
    assert win.output_tokens == pytest.approx(expect_out) and win.input_tokens == expect_in
    assert win.total_tokens == pytest.approx(expect_out + expect_in)
    assert win.valid, win.reasons
    assert win.mean_concurrency == pytest.approx(4.0, rel=0.02)
    assert win.cv is not None and win.cv < 0.2


def test_refusals() -> None:
    recs = closed_loop(40, 4)
    start, end = edges(recs, 4)
    assert start is not None and end is not None
    assert "shorter than the meters need" in " ".join(analyse(recs, start, end, closed_target=4,
                                                              min_duration_s=1e3).reasons)
    recs[20].ok, recs[20].failure = False, "HTTP 500"
    assert "1 request(s) failed inside the window" in analyse(recs, start, end, closed_target=4).reasons
    few = closed_loop(3, 4)
    s, e = edges(few, 4)
    win = analyse(few, s, e, closed_target=4)
    assert s is None and not win.valid and "never reaches a steady state" in win.reasons[0]
    assert (replay(few, 4).start, replay(few, 4).end) == (None, None)
    at_once = closed_loop(20, 20, ttft=0.5)  # rate inf, no cap: the queue drains at the first completion
    s, e = edges(at_once, None)
    assert s == e and not analyse(at_once, s, e, closed_target=None).valid


def test_an_unsteady_load_is_refused() -> None:
    # the server stalls for a long stretch in the middle of the window: the rate slices disagree
    recs = closed_loop(60, 4)
    start, end = edges(recs, 4)
    assert start is not None and end is not None
    mid = (start + end) / 2
    for r in recs:
        r.token_times = [t + 5.0 if t > mid else t for t in r.token_times]
        r.end = r.token_times[-1]
    win = analyse(recs, start, end + 5.0, closed_target=4)
    assert any("not steady" in reason for reason in win.reasons)

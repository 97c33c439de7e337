"""Throughput from the cumulative hash counter, window by window.

Work is measured as counter differences between polls: a failed poll in between
loses nothing (the counter kept counting). A restart (``Elapsed`` or the counter went
back) or a jump no miner can make splits the series into segments: the interval
across it is a gap whose hashes are unknown, never a negative hash rate. A jump is a rise
faster than :data:`~bench.miners.measure.plausible.JUMP_FACTOR` x the lower of the model's rate
ceiling (its catalog figures, :mod:`bench.miners.measure.plausible`) and the firmware's nominal rate,
or faster than any miner (:data:`~bench.miners.protocol.parse.MAX_RATE_HS`). Windows are
cut inside a segment on poll boundaries; a window a restart cuts short is kept,
marked invalid, with the reason.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from bench.miners.measure.plausible import JUMP_FACTOR, Bound, jump_reference
from bench.miners.protocol.model import Poll, Sample
from bench.miners.protocol.parse import MAX_RATE_HS

#: A counter rising faster than this multiple of the nominal rate (or the model's ceiling) is a jump, not work.
MAX_RATE_OVER_NOMINAL = JUMP_FACTOR
#: The counter's own resolution may be at most this fraction of a window's hashes.
MAX_RESOLUTION = 0.01
#: Intervals between good polls must cover this fraction of a window.
MIN_COVERAGE = 0.9


def break_between(a: Poll, b: Poll, bound: Bound | None = None) -> str | None:
    """Why the counter cannot be differenced from ``a`` to ``b`` (None when it can); ``bound``: the model's."""
    if a.counter is None or b.counter is None:
        return "no hash counter in one of the polls"
    if not all(math.isfinite(x) for x in (a.counter.hashes, b.counter.hashes, a.counter.resolution,
                                          b.counter.resolution)):
        return "hash counter not a finite number (a damaged poll): a gap"
    if a.elapsed_s is not None and b.elapsed_s is not None and b.elapsed_s + 1.0 < a.elapsed_s:
        return f"miner restarted (Elapsed {a.elapsed_s:.0f} s -> {b.elapsed_s:.0f} s): counter reset, a gap"
    if b.counter.hashes + b.counter.resolution < a.counter.hashes - a.counter.resolution:
        return "hash counter went back (counter reset): a gap"
    dt = b.t - a.t
    least = b.counter.hashes - a.counter.hashes - a.counter.resolution - b.counter.resolution
    if dt <= 0 or least <= 0:
        return None
    rate = least / dt
    if rate > MAX_RATE_HS:
        return f"hash counter jumped ({rate / 1e12:.4g} TH/s between two polls, faster than any miner): a gap"
    ref = jump_reference(bound, b.rates_hs.get("nominal"))
    if ref is not None and rate > JUMP_FACTOR * ref[0]:
        return (f"hash counter jumped ({rate / 1e12:.4g} TH/s between two polls, over {JUMP_FACTOR:g}x {ref[1]} "
                f"{ref[0] / 1e12:.4g} TH/s): a counter glitch, a gap")
    return None


def segments(samples: list[Sample], bound: Bound | None = None) -> tuple[list[list[Poll]], list[tuple[float, str]]]:
    """Runs of good polls whose counter can be differenced, and the breaks (time, reason)."""
    runs: list[list[Poll]] = []
    breaks: list[tuple[float, str]] = []
    for s in samples:
        if not isinstance(s, Poll):
            continue
        reason = break_between(runs[-1][-1], s, bound) if runs else None
        if not runs or reason:
            if reason:
                breaks.append((s.t, reason))
            runs.append([s])
        else:
            runs[-1].append(s)
    return runs, breaks


@dataclass(frozen=True)
class Window:
    """One measured window of one miner.

    Attributes:
        hashes: counter difference over the window (H).
        duration_s: time between its first and last poll.
        resolution_h: how far ``hashes`` may be off from the counters' reporting (H).
        polls: good polls inside (both ends included); ``missed`` failed polls between them.
        accepted_difficulty, rejected_difficulty, shares, hw_errors: differences over the window
            (None where the firmware does not report them).
        power_w: the firmware's mean power over the window (trapezoid over its polls), or None.
        pool_difficulty: the lowest and highest share difficulty its polls reported (None: not reported).
    """

    index: int
    t_start: float
    t_end: float
    hashes: float
    duration_s: float
    resolution_h: float
    polls: int
    missed: int
    accepted_difficulty: float | None
    rejected_difficulty: float | None
    shares: int | None
    hw_errors: int | None
    power_w: float | None
    invalid_reasons: tuple[str, ...] = ()
    pool_difficulty: tuple[float, float] | None = None

    @property
    def throughput_hs(self) -> float | None:
        """Hashes per second over the window."""
        return self.hashes / self.duration_s if self.duration_s > 0 else None

    @property
    def valid(self) -> bool:
        """True when nothing refused the window."""
        return not self.invalid_reasons


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b < a else b - a


def _power(polls: list[Poll]) -> float | None:
    pts = [(p.t, p.power_w) for p in polls if p.power_w is not None]
    if len(pts) < 2:
        return pts[0][1] if pts else None
    area = sum((t1 - t0) * (w0 + w1) / 2 for (t0, w0), (t1, w1) in itertools.pairwise(pts))
    return area / (pts[-1][0] - pts[0][0]) if pts[-1][0] > pts[0][0] else pts[0][1]


def make_window(index: int, polls: list[Poll], missed: int, planned_s: float, extra: tuple[str, ...] = ()) -> Window:
    """The figures of one window from its good polls (at least two)."""
    a, b = polls[0], polls[-1]
    assert a.counter is not None and b.counter is not None
    hashes = b.counter.hashes - a.counter.hashes
    resolution = a.counter.resolution + b.counter.resolution
    duration = b.t - a.t
    reasons = list(extra)
    if hashes > 0 and resolution > MAX_RESOLUTION * hashes:
        reasons.append(f"counter resolution ({b.counter.source}) is {resolution / hashes:.1%} of the window's "
                       f"hashes (over {MAX_RESOLUTION:.0%}): lengthen --window")
    if duration < MIN_COVERAGE * planned_s:
        reasons.append(f"covers {duration:.1f} s of the planned {planned_s:g} s")
    shares = _diff(a.shares, b.shares)
    difficulty = [p.share_difficulty for p in polls if p.share_difficulty]
    return Window(index, a.t, b.t, hashes, duration, resolution, len(polls), missed,
                  _diff(a.accepted_difficulty, b.accepted_difficulty), _diff(a.rejected_difficulty, b.rejected_difficulty),
                  None if shares is None else int(shares), None if _diff(a.hw_errors, b.hw_errors) is None
                  else int(b.hw_errors - a.hw_errors),  # type: ignore[operator]
                  _power(polls), tuple(reasons),
                  (min(difficulty), max(difficulty)) if difficulty else None)


def cut(run: list[Poll], failure_times: list[float], start_t: float, window_s: float, count: int,
        first_index: int = 0, end_reason: str | None = None, aligned: bool = False) -> list[Window]:
    """Up to ``count`` consecutive windows of at least ``window_s`` in one segment (see :func:`segments`),
    from its first poll at or after ``start_t``. When the segment ended in a break (``end_reason``:
    a restart), the window it cut short is returned too, invalid, with that reason.

    ``aligned`` (a fleet's shard, whose first window starts at a poll on the wall-clock grid): each window ends at
    the first poll whose wall clock is at or past the next multiple of ``window_s`` in UTC after the window's
    first poll, so every window starts on the grid (within a poll period of its boundary, more only where polls
    failed there), not only the first: windows of ``window_s`` from poll to poll would each run up to a poll
    period long and drift off the grid by as much, window after window. Such a window lasts ``window_s`` give
    or take a period, and must cover 90% of its grid window from its first poll."""
    polls = [p for p in run if p.t >= start_t]
    windows: list[Window] = []
    i = 0
    while i < len(polls) - 1 and len(windows) < count:
        planned_s = window_s
        if aligned:
            end_wall = next_boundary(polls[i].wall, window_s)
            planned_s = end_wall - polls[i].wall
            j = next((k for k in range(i + 1, len(polls)) if polls[k].wall >= end_wall), None)
        else:
            j = next((k for k in range(i + 1, len(polls)) if polls[k].t - polls[i].t >= window_s), None)
        span = polls[i:] if j is None else polls[i:j + 1]
        missed = sum(1 for t in failure_times if span[0].t < t < span[-1].t)
        if j is None:
            if end_reason is not None:
                windows.append(make_window(first_index + len(windows), span, missed, planned_s, (end_reason,)))
            break
        windows.append(make_window(first_index + len(windows), span, missed, planned_s))
        i = j
    return windows


def next_boundary(wall: float, window_s: float) -> float:
    """The first multiple of ``window_s`` seconds in UTC after ``wall`` (a poll on a boundary starts its window)."""
    return (math.floor(wall / window_s + 1e-6) + 1) * window_s


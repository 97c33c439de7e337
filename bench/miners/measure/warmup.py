"""When a miner's hash rate has settled: its firmware's own flag, else a slope test on the counter.

Firmwares that say when they are done tuning are believed: Whatsminer ``Hash Stable``
(API v2) and ``up-freq-finish`` (v3), Braiins OS tuner chains all ``Stable``. Others get
a slope test: the counter's rate per poll interval over the last ``span_s`` seconds is
fitted with a straight line, and the rate is stable once that line moves less than
``tolerance`` of the mean rate across the span (at least :data:`MIN_INTERVALS` intervals).
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass

from bench.miners.protocol.model import Poll

#: The fewest poll intervals a slope test looks at.
MIN_INTERVALS = 4


@dataclass(frozen=True)
class Warmup:
    """How warm-up ended.

    Attributes:
        stable: the hash rate settled before the limit.
        method: ``firmware flag``, ``slope test``, ``limit reached`` or ``waiting`` (not decided yet).
        t_end: ``time.monotonic()`` of the poll at which warm-up ended (None: still waiting).
        waited_s: from the segment's first poll to ``t_end``.
        drift: the slope test's relative drift across the span (None for the flag).
    """

    stable: bool
    method: str
    t_end: float | None
    waited_s: float
    drift: float | None = None

    @property
    def reason(self) -> str:
        """One line for the run's notes."""
        if self.t_end is None:
            return "warm-up still running"
        if not self.stable:
            return f"hash rate not stable after {self.waited_s:.0f} s of warm-up"
        drift = f" (drift {self.drift:.2%} across the span)" if self.drift is not None else ""
        return f"stable after {self.waited_s:.0f} s by {self.method}{drift}"


def drift(polls: list[Poll], span_s: float, start: int = 0) -> float | None:
    """Relative change of the fitted rate across the last ``span_s`` of ``polls`` (None: too few);
    ``start`` skips polls known to be older than the span."""
    end = polls[-1].t
    recent = [p for p in polls[start:] if p.t >= end - span_s and p.counter is not None]
    pts = [((a.t + b.t) / 2, (b.counter.hashes - a.counter.hashes) / (b.t - a.t))  # type: ignore[union-attr]
           for a, b in itertools.pairwise(recent) if b.t > a.t]
    if len(pts) < MIN_INTERVALS or recent[-1].t - recent[0].t < 0.9 * span_s:
        return None
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    mr = sum(r for _, r in pts) / n
    var = sum((t - mt) ** 2 for t, _ in pts)
    if mr <= 0 or var == 0:
        return None
    slope = sum((t - mt) * (r - mr) for t, r in pts) / var
    return abs(slope) * span_s / mr


def settle(polls: list[Poll], *, limit_s: float, span_s: float, tolerance: float = 0.02) -> Warmup:
    """Where warm-up ends in one segment of good polls (counter unbroken), judged poll by poll."""
    if not polls:
        return Warmup(False, "waiting", None, 0.0)
    t0, times = polls[0].t, [p.t for p in polls]
    for i, p in enumerate(polls):
        waited = p.t - t0
        if p.stable is True:
            return Warmup(True, "firmware flag", p.t, waited)
        if p.stable is None:
            d = drift(polls[: i + 1], span_s, bisect.bisect_left(times, p.t - span_s, 0, i + 1))
            if d is not None and d <= tolerance:
                return Warmup(True, "slope test", p.t, waited, d)
        if waited >= limit_s:
            return Warmup(False, "limit reached", p.t, waited)
    return Warmup(False, "waiting", None, polls[-1].t - t0)

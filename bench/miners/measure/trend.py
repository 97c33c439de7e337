"""The running drift of a miners soak, for the terminal: one line each time the soak gets a window further.

At each completion check of :func:`bench.miners.measure.outcome.measure` (every quarter window) the miners'
valid windows so far come here (:meth:`SoakTrend.update`). When the miner furthest on has completed a new
window, one line goes out: the window reached of those planned, and each miner's hash-rate drift so far
(:func:`bench.drift.drift`, the soak block's own method: OLS slope per hour of each window's rate against its
mid-time, with its interval and verdict against the threshold). One miner's line gives its drift and
interval; a fleet's, the median drift over the miners with two windows or more, its range and how many are
stable, drifting or inconclusive. A live hint: the record's figures are computed when each miner ends.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence

from bench.drift import Drift, drift, percent
from bench.miners.measure.window import Window

Say = Callable[[str], None]


def _drift(windows: Sequence[Window], threshold: float) -> Drift | None:
    used = [w for w in windows if w.duration_s > 0]
    return drift([(w.t_start + w.t_end) / 2 for w in used], [w.hashes / w.duration_s for w in used], threshold)


class SoakTrend:
    """Says the soak's drift as it goes (``say`` takes one line), for ``planned`` windows against ``threshold``
    (a fraction per hour)."""

    def __init__(self, planned: int, threshold: float, say: Say) -> None:
        self.planned, self.threshold, self.say = planned, threshold, say
        self.reached = 0
        self.lines: list[str] = []

    def update(self, windows: Mapping[str, Sequence[Window]]) -> str | None:
        """Each miner's valid windows so far (by address); the line said, or None when no window was added."""
        reached = max((len(w) for w in windows.values()), default=0)
        if reached <= self.reached:
            return None
        self.reached = reached
        drifts = {a: d for a, w in windows.items() if (d := _drift(w, self.threshold)) is not None}
        head = f"soak: window {min(reached, self.planned)} of {self.planned}"
        if len(windows) == 1:
            (address,) = windows
            d = drifts.get(address)
            line = f"{head}, {address}: hash rate drift {percent(d)}" + (f" {d.verdict}" if d is not None else "")
        elif not drifts:
            line = f"{head}, {len(windows)} miners: hash rate drift - (two windows needed)"
        else:
            rates = sorted(d.per_hour for d in drifts.values())
            verdicts = [d.verdict for d in drifts.values()]
            counts = ", ".join(f"{verdicts.count(v)} {v}" for v in ("stable", "drifting", "inconclusive")
                               if verdicts.count(v))
            line = (f"{head}, {len(windows)} miners: hash rate drift median {statistics.median(rates) * 100:+.2f} %/h "
                    f"({rates[0] * 100:+.2f} .. {rates[-1] * 100:+.2f}) over {len(drifts)}; {counts}")
        self.lines.append(line)
        self.say(line)
        return line

"""A figure's spread over a fleet in bounded memory: a histogram of log-spaced bins.

Bin ``i`` holds values in ``[(1 + r)^i, (1 + r)^(i + 1))`` for the relative width ``r`` (:data:`RESOLUTION`):
memory grows with the spread of the values (a factor of 3 at 0.1% is about 1,100 bins), never with their
count. Quantiles and the median absolute deviation come from the bins' centres, so they are within ``r``
of the exact figures; count, min, max and mean are exact. Values at or below 0 are counted in their own bin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.record.shards import Distribution

#: Relative width of a bin.
RESOLUTION = 1e-3


@dataclass
class LogHistogram:
    """Counts per log-spaced bin, and the exact count, sum, min and max."""

    resolution: float = RESOLUTION
    bins: dict[int, int] = field(default_factory=dict)
    zero: int = 0
    count: int = 0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf

    @property
    def _step(self) -> float:
        return math.log1p(self.resolution)

    def add(self, value: float) -> None:
        """Count one value."""
        self.count += 1
        self.total += value
        self.low, self.high = min(self.low, value), max(self.high, value)
        if value <= 0:
            self.zero += 1
            return
        i = math.floor(math.log(value) / self._step)
        self.bins[i] = self.bins.get(i, 0) + 1

    def _centre(self, i: int) -> float:
        return math.exp((i + 0.5) * self._step)

    def _points(self) -> list[tuple[float, int]]:
        pts = [(0.0, self.zero)] if self.zero else []
        return pts + [(self._centre(i), n) for i, n in sorted(self.bins.items())]

    @staticmethod
    def _ranked(points: list[tuple[float, int]], q: float) -> float | None:
        total = sum(n for _, n in points)
        if not total:
            return None
        rank, seen = max(math.ceil(q * total), 1), 0
        for value, n in points:
            seen += n
            if seen >= rank:
                return value
        return points[-1][0]

    def quantile(self, q: float) -> float | None:
        """The value of rank ``ceil(q x count)`` (a bin centre, clipped to the exact min and max)."""
        v = self._ranked(self._points(), q)
        return None if v is None else min(max(v, self.low), self.high)

    def mad(self) -> float | None:
        """The median absolute deviation from the median."""
        med = self.quantile(0.5)
        if med is None:
            return None
        points = sorted((abs(v - med), n) for v, n in self._points())
        return self._ranked(points, 0.5)

    def record(self) -> Distribution:
        """The distribution as the fleet result keeps it."""
        hist = [[0.0, float(self.zero)]] if self.zero else []
        hist += [[math.exp(i * self._step), float(n)] for i, n in sorted(self.bins.items())]
        if not self.count:
            return Distribution(count=0, resolution=self.resolution)
        return Distribution(count=self.count, min=max(self.low, 0.0), p10=self.quantile(0.1),
                            median=self.quantile(0.5), p90=self.quantile(0.9), max=max(self.high, 0.0),
                            mean=max(self.total / self.count, 0.0), mad=self.mad(), resolution=self.resolution,
                            histogram=hist)

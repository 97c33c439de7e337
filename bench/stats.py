"""Summary statistics over repeated measurements.

The validator recomputes these from the raw samples in a result file, so
there is exactly one definition of each: percentiles by linear interpolation
(numpy's default), coefficient of variation as sample standard deviation
over mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def summarize(samples: Sequence[float]) -> dict[str, float | None]:
    """Median, p10, p90, mean, min, max and coefficient of variation of ``samples``."""
    if not samples:
        return {"median": None, "p10": None, "p90": None, "mean": None, "min": None, "max": None, "cv": None}
    a = np.asarray(samples, dtype=float)
    mean = float(a.mean())
    cv = float(a.std(ddof=1) / mean) if a.size > 1 and mean != 0 else 0.0
    return {
        "median": float(np.median(a)),
        "p10": float(np.percentile(a, 10)),
        "p90": float(np.percentile(a, 90)),
        "mean": mean,
        "min": float(a.min()),
        "max": float(a.max()),
        "cv": cv,
    }


def percentiles(samples: Sequence[float], qs: Sequence[int] = (50, 90, 99)) -> dict[str, float | None]:
    """``{"p50": ..., "p90": ..., "p99": ...}`` of ``samples`` (None when empty)."""
    if not samples:
        return {f"p{q}": None for q in qs}
    a = np.asarray(samples, dtype=float)
    return {f"p{q}": float(np.percentile(a, q)) for q in qs}

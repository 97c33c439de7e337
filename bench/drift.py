"""Drift of a rate over a long run: an OLS slope per hour with an autocorrelation-robust confidence interval.

A soak measures consecutive windows; window ``i`` has a mid-time ``t[i]`` (s) and a figure ``y[i]`` (its
throughput, or its units per joule). The drift is the ordinary least-squares slope of ``y`` on ``t``,
normalised to the mean of ``y`` and scaled to an hour: ``drift = slope x 3600 / mean(y)``, a fraction of
the run's mean per hour (``-0.012`` is -1.2 %/h).

Consecutive windows of one machine are not independent (a fan that has not settled, a slowly warming
room): their residuals are autocorrelated, and the usual OLS standard error would be too small. The
interval therefore uses an **effective sample size**, as Santer et al. (2000, J. Geophys. Res. 105(D6),
7337) do for trends in autocorrelated temperature series: ``r1``, the lag-1 autocorrelation of the OLS
residuals (taken as 0 when negative), gives ``n_eff = n (1 - r1) / (1 + r1)``; the slope's standard error
is ``sqrt(sum(e^2) / (n_eff - 2) / sum((t - mean t)^2))`` and the interval a two-sided Student t
quantile with ``n_eff - 2`` degrees of freedom. (Against AR(1) noise this keeps its coverage near 95 %
where a Newey-West interval with the usual lag falls to 75-85 %; with ``n_eff <= 2`` there is no
interval.) The mean the slope is normalised by is taken as known (its own error, about
``cv / sqrt(n)``, is far smaller than the slope's over a soak).

Verdict against a threshold ``h`` (a fraction per hour, default :data:`DEFAULT_THRESHOLD`): ``stable``
when the whole interval lies within ``[-h, +h]``, ``drifting`` when it lies wholly outside it (all above
``+h`` or all below ``-h``), ``inconclusive`` otherwise (and with fewer than :data:`MIN_WINDOWS` windows).

:class:`Tracker` keeps the running estimate in constant memory (five sums) for a progress display; its
interval is the plain OLS one and says so. The figures of a result file come from :func:`drift`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

Verdict = Literal["stable", "drifting", "inconclusive"]

#: Drift within +-1 %/h is stable unless told otherwise (``--drift-threshold``).
DEFAULT_THRESHOLD = 0.01
#: Two-sided confidence of the interval.
CONFIDENCE = 0.95
#: The fewest windows a slope with an interval needs (n - 2 degrees of freedom).
MIN_WINDOWS = 3
HOUR_S = 3600.0
#: The most the lag-1 autocorrelation of the residuals is taken to be (n_eff stays above 0).
MAX_AUTOCORRELATION = 0.99
METHOD = ("OLS slope of each window's figure against its mid-time, x 3600 / the mean of the windows' figures; "
          "95% interval with an effective sample size n_eff = n (1 - r1) / (1 + r1) from the residuals' lag-1 "
          "autocorrelation r1 (Santer et al. 2000): standard error sqrt(SSE / (n_eff - 2) / Sxx), Student t on "
          "n_eff - 2 degrees of freedom")


@dataclass(frozen=True)
class Drift:
    """A figure's drift: fraction of its mean per hour, the interval, and the verdict against ``threshold``.

    ``low``/``high`` are None (and the verdict ``inconclusive``) with fewer than :data:`MIN_WINDOWS` windows
    or an effective sample size of 2 or less. ``autocorrelation`` is the residuals' lag-1 autocorrelation as
    used (0 when negative), ``effective_windows`` the effective sample size it gives.
    """

    per_hour: float
    low: float | None
    high: float | None
    mean: float
    windows: int
    autocorrelation: float
    effective_windows: float
    threshold: float
    verdict: Verdict


def effective(residuals: np.ndarray) -> tuple[float, float]:
    """``(r1, n_eff)``: the lag-1 autocorrelation of ``residuals`` (clipped to 0..:data:`MAX_AUTOCORRELATION`)
    and the effective sample size ``n (1 - r1) / (1 + r1)``."""
    n = len(residuals)
    ss = float(np.dot(residuals, residuals))
    r1 = float(np.dot(residuals[1:], residuals[:-1])) / ss if ss > 0 and n > 1 else 0.0
    r1 = min(max(r1, 0.0), MAX_AUTOCORRELATION)
    return r1, n * (1.0 - r1) / (1.0 + r1)


def judge(low: float | None, high: float | None, threshold: float) -> Verdict:
    """``stable`` when ``[low, high]`` lies within ``+-threshold``, ``drifting`` when wholly outside it."""
    if low is None or high is None:
        return "inconclusive"
    if -threshold <= low and high <= threshold:
        return "stable"
    if low > threshold or high < -threshold:
        return "drifting"
    return "inconclusive"


def drift(t: Sequence[float], y: Sequence[float], threshold: float = DEFAULT_THRESHOLD,
          confidence: float = CONFIDENCE) -> Drift | None:
    """The drift of ``y`` (one figure per window) against the windows' mid-times ``t`` (s).

    None with fewer than two windows, windows all at one time, or a mean that is not positive.
    """
    if len(t) != len(y) or len(t) < 2:
        return None
    ta, ya = np.asarray(t, dtype=float), np.asarray(y, dtype=float)
    if not (np.all(np.isfinite(ta)) and np.all(np.isfinite(ya))):
        return None
    n = len(ta)
    mean = float(ya.mean())
    x = ta - ta.mean()
    sxx = float(np.dot(x, x))
    if sxx <= 0 or not mean > 0:
        return None
    slope = float(np.dot(x, ya - mean)) / sxx
    scale = HOUR_S / mean
    per_hour = slope * scale
    if n < MIN_WINDOWS:
        return Drift(per_hour, None, None, mean, n, 0.0, float(n), threshold, "inconclusive")
    residuals = ya - mean - slope * x
    r1, n_eff = effective(residuals)
    if n_eff <= 2:
        return Drift(per_hour, None, None, mean, n, r1, n_eff, threshold, "inconclusive")
    se = math.sqrt(float(np.dot(residuals, residuals)) / (n_eff - 2) / sxx)
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n_eff - 2)) * se * scale
    low, high = per_hour - half, per_hour + half
    return Drift(per_hour, low, high, mean, n, r1, n_eff, threshold, judge(low, high, threshold))


def overall(verdicts: Sequence[Verdict]) -> Verdict:
    """One verdict for several figures: drifting if any drifts, stable if all are stable, else inconclusive."""
    if any(v == "drifting" for v in verdicts):
        return "drifting"
    if verdicts and all(v == "stable" for v in verdicts):
        return "stable"
    return "inconclusive"


class Tracker:
    """The running drift of one figure, window by window, in constant memory (for a progress display).

    Its interval is the plain OLS one (no autocorrelation correction, which needs every residual): a live
    hint, not the record's figure.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self.n = 0
        self._st = self._sy = self._stt = self._sty = self._syy = 0.0
        self._t0: float | None = None

    def add(self, t: float, y: float) -> None:
        """One more window: its mid-time (s) and figure."""
        if not (math.isfinite(t) and math.isfinite(y)):
            return
        if self._t0 is None:
            self._t0 = t
        t -= self._t0  # sums of squares stay small
        self.n += 1
        self._st += t
        self._sy += y
        self._stt += t * t
        self._sty += t * y
        self._syy += y * y

    def estimate(self) -> Drift | None:
        """The drift so far (None before two windows)."""
        n = self.n
        if n < 2:
            return None
        mean = self._sy / n
        sxx = self._stt - self._st * self._st / n
        if sxx <= 0 or not mean > 0:
            return None
        sxy = self._sty - self._st * self._sy / n
        slope = sxy / sxx
        scale = HOUR_S / mean
        if n < MIN_WINDOWS:
            return Drift(slope * scale, None, None, mean, n, 0.0, float(n), self.threshold, "inconclusive")
        syy = self._syy - self._sy * self._sy / n
        se = math.sqrt(max(syy - slope * sxy, 0.0) / (n - 2) / sxx)
        half = float(stats.t.ppf(0.5 + CONFIDENCE / 2.0, n - 2)) * se * scale
        low, high = slope * scale - half, slope * scale + half
        return Drift(slope * scale, low, high, mean, n, 0.0, float(n), self.threshold,
                     judge(low, high, self.threshold))


def percent(d: Drift | None) -> str:
    """``-1.20 %/h +-0.40`` (``-`` without an estimate)."""
    if d is None:
        return "-"
    text = f"{d.per_hour * 100:+.2f} %/h"
    if d.low is not None and d.high is not None:
        text += f" ±{(d.high - d.low) * 50:.2f}"
    return text

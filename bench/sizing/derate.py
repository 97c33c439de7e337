"""Derating curves: throughput and wall power against inlet temperature, piecewise linear with one knee.

The model for one quantity ``y`` (throughput in units/s, or power in W) at inlet temperature ``T``::

    y(T) = level + slope_below x min(T - k, 0) + slope_above x max(T - k, 0)

continuous at the knee ``k``. For a given knee the three coefficients are ordinary least squares; the knee
is the one of a grid (every 0.05 °C, or finer, between the second lowest and second highest inlet
temperature measured, so that two temperatures lie on each side) with the smallest residual sum of squares
``RSS``.

Bounds, by **profile likelihood over the knee** (not a bootstrap, so ``validate`` recomputes them exactly):

- the knee's 95% interval is every grid knee whose ``RSS(k) <= RSS_min x (1 + F(0.95; 1, n - 4) / (n - 4))``
  (the F-test of one extra parameter, n points, four parameters). When the interval reaches either end of
  the grid, the knee is *not identified*: a straight line fits the points as well as a knee does;
- the curve's low and high bounds at a temperature are the lowest and highest of
  ``y_k(T) -/+ t(0.975; n - 4) x s x sqrt(x' (X'X)^-1 x)`` over the knees in that interval (each knee's own
  least-squares line and its 95% confidence band, ``s`` from the best fit).

Too few points (fewer than :data:`MIN_POINTS`, or at fewer than :data:`MIN_TEMPERATURES` inlet
temperatures) is one line, exit 2.

For sizing, a curve becomes a *factor* of the flat figure: ``y(T) / y(k)`` (the flat figure is taken as the
machine's figure at or below its knee), with the bounds ``low(T) / y(k)`` and ``high(T) / y(k)``. A
declared curve (:mod:`bench.sizing.derate_declared`) is a step: a factor above each declared temperature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from bench.errors import UsageError
from bench.record.derating import BandPoint, DeclaredStep, DerateCurve, Derating

Floats = NDArray[np.float64]

MIN_POINTS = 6
MIN_TEMPERATURES = 4
GRID_STEP_C = 0.05
MAX_GRID = 2000
CONFIDENCE = 0.95
BAND_POINTS = 60
METHOD = ("piecewise-linear least squares with one knee on a 0.05 °C grid; knee interval by profile "
          "likelihood (F-test, 95%); curve bounds: the 95% confidence bands of the fits with a knee in that "
          "interval")


@dataclass(frozen=True)
class Fit:
    """One quantity's fitted curve and everything its bounds need."""

    t: Floats
    y: Floats
    knee: float
    knees: Floats
    coef: Floats
    rss_min: float
    identified: bool

    @property
    def dof(self) -> int:
        """Residual degrees of freedom: points less the four parameters."""
        return int(self.t.size - 4)

    @property
    def sd(self) -> float:
        """Residual standard deviation of the best fit."""
        return float(np.sqrt(self.rss_min / self.dof))

    def value(self, t: Sequence[float] | Floats) -> Floats:
        """The fitted curve at ``t``."""
        return _design(np.asarray(t, dtype=float), self.knee) @ self.coef

    def band(self, t: Sequence[float] | Floats) -> tuple[Floats, Floats]:
        """Low and high bounds at ``t``: the envelope of the bands of every knee in the knee's interval."""
        tt = np.asarray(t, dtype=float)
        q = float(stats.t.ppf(0.5 + CONFIDENCE / 2, self.dof))
        lo = np.full(tt.shape, np.inf)
        hi = np.full(tt.shape, -np.inf)
        for k in _some(self.knees):
            x = _design(self.t, float(k))
            coef, *_ = np.linalg.lstsq(x, self.y, rcond=None)
            xtx_inv = np.linalg.pinv(x.T @ x)
            xt = _design(tt, float(k))
            mid = xt @ coef
            half = q * self.sd * np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", xt, xtx_inv, xt), 0.0))
            lo = np.minimum(lo, mid - half)
            hi = np.maximum(hi, mid + half)
        return lo, hi


def _some(knees: Floats, most: int = 200) -> Floats:
    """At most ``most`` knees of the interval, its ends always among them (a wide interval is sampled)."""
    if knees.size <= most:
        return knees
    return knees[np.unique(np.linspace(0, knees.size - 1, most).round().astype(int))]


def _design(t: Floats, knee: float) -> Floats:
    return np.column_stack([np.ones_like(t), np.minimum(t - knee, 0.0), np.maximum(t - knee, 0.0)])


def _rss(t: Floats, y: Floats, knee: float) -> tuple[float, Floats]:
    x = _design(t, knee)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    r = y - x @ coef
    return float(r @ r), np.asarray(coef, dtype=float)


def check_points(t: Sequence[float], what: str) -> None:
    """Raise UsageError unless there are enough points at enough temperatures for a knee."""
    distinct = len({round(float(v), 6) for v in t})
    if len(t) < MIN_POINTS or distinct < MIN_TEMPERATURES:
        raise UsageError(f"{what}: {len(t)} points at {distinct} inlet temperature(s): a curve with a knee needs "
                         f"at least {MIN_POINTS} points at {MIN_TEMPERATURES} or more temperatures (soak the "
                         "machine at more inlet temperatures)")


def fit(t: Sequence[float], y: Sequence[float], what: str = "derate") -> Fit:
    """The piecewise-linear fit of ``y`` against ``t`` (see the module docstring)."""
    check_points(t, what)
    tt, yy = np.asarray(t, dtype=float), np.asarray(y, dtype=float)
    if not (np.all(np.isfinite(tt)) and np.all(np.isfinite(yy))):
        raise UsageError(f"{what}: a point is not a finite number")
    u = np.unique(tt)
    start, end = float(u[1]), float(u[-2])
    step = max(GRID_STEP_C, (end - start) / MAX_GRID)
    grid = np.round(np.append(np.arange(start, end, step), end), 9) if end > start else np.array([start])
    rss = np.array([_rss(tt, yy, float(k))[0] for k in grid])
    best = int(np.argmin(rss))
    rss_min = float(rss[best])
    dof = tt.size - 4
    limit = rss_min * (1 + float(stats.f.ppf(CONFIDENCE, 1, dof)) / dof)
    limit = max(limit, 1e-18 * float(yy @ yy))
    inside = grid[rss <= limit]
    identified = bool(inside.size and inside[0] > grid[0] and inside[-1] < grid[-1])
    _, coef = _rss(tt, yy, float(grid[best]))
    return Fit(tt, yy, float(grid[best]), inside, coef, rss_min, identified)


def curve_record(f: Fit, quantity: str, unit: str) -> DerateCurve:
    """A fit as the result file stores it, with its band at :data:`BAND_POINTS` temperatures."""
    ts = np.linspace(float(f.t.min()), float(f.t.max()), BAND_POINTS)
    lo, hi = f.band(ts)
    mid = f.value(ts)
    return DerateCurve.model_validate({
        "quantity": quantity, "unit": unit, "knee_c": f.knee, "knee_low_c": float(f.knees.min()),
        "knee_high_c": float(f.knees.max()), "knee_identified": f.identified, "level": float(f.coef[0]),
        "slope_below": float(f.coef[1]), "slope_above": float(f.coef[2]), "residual_sd": f.sd,
        "points": int(f.t.size),
        "band": [BandPoint(t_c=float(a), value=float(b), low=float(c), high=float(d))
                 for a, b, c, d in zip(ts, mid, lo, hi)],
    }, strict=False)


@dataclass(frozen=True)
class Factors:
    """Throughput and power as fractions of the flat figure at each temperature, with low and high bounds."""

    throughput: Floats
    throughput_low: Floats
    throughput_high: Floats
    power: Floats
    power_low: Floats
    power_high: Floats


class Curve:
    """A machine's derating for sizing: fitted, declared, or none (factor 1 at every temperature)."""

    def __init__(self, record: Derating | None, note: str = "") -> None:
        self.record = record
        self.note = note
        self._thr: Fit | None = None
        self._pow: Fit | None = None
        if record is not None and record.source == "fitted" and record.throughput is not None:
            pts = record.points
            self._thr = refit(record, "throughput")
            self._pow = refit(record, "power") if sum(p.power_w is not None for p in pts) >= MIN_POINTS else None

    @property
    def source(self) -> str:
        """``fitted``, ``declared`` or ``none``."""
        return self.record.source if self.record is not None else "none"

    @property
    def knee_c(self) -> float | None:
        """The throughput knee (°C), None without a curve."""
        if self.record is None:
            return None
        if self.record.throughput is not None:
            return self.record.throughput.knee_c
        return self.record.knee_c

    @property
    def shutdown_c(self) -> float | None:
        """Above this inlet temperature the machine stops (declared, or seen in a fit's points)."""
        return self.record.shutdown_c if self.record is not None else None

    def factors(self, t: Floats) -> Factors:
        """The factors at inlet temperatures ``t``."""
        tt = np.asarray(t, dtype=float)
        one = np.ones_like(tt)
        if self.record is None:
            return Factors(one, one, one, one, one, one)
        if self._thr is not None:
            thr = _relative(self._thr, tt)
            pw = _relative(self._pow, tt) if self._pow is not None else (one, one, one)
        else:
            thr = (_steps(self.record.throughput_steps, tt),) * 3
            pw = (_steps(self.record.power_steps, tt),) * 3
        off = tt > self.shutdown_c if self.shutdown_c is not None else np.zeros(tt.shape, dtype=bool)
        t0, t1, t2, p0, p1, p2 = (np.asarray(np.clip(np.where(off, 0.0, a), 0.0, None), dtype=float)
                                  for a in (*thr, *pw))
        return Factors(t0, t1, t2, p0, p1, p2)


def _relative(f: Fit, t: Floats) -> tuple[Floats, Floats, Floats]:
    ref = float(f.value([f.knee])[0])
    if ref <= 0:
        raise UsageError(f"the derating curve's figure at its knee ({ref:g}) is not positive: cannot scale by it")
    lo, hi = f.band(t)
    return f.value(t) / ref, lo / ref, hi / ref


def _steps(steps: Sequence[DeclaredStep], t: Floats) -> Floats:
    out = np.ones_like(t)
    for s in sorted(steps, key=lambda s: s.above_c):
        out = np.where(t > s.above_c, s.factor, out)
    return out


def refit(record: Derating, quantity: str) -> Fit:
    """A fitted record's curve fitted again from its points (as ``validate`` does)."""
    pts = [p for p in record.points if quantity == "throughput" or p.power_w is not None]
    values = [p.throughput if quantity == "throughput" else float(p.power_w or 0.0) for p in pts]
    return fit([p.inlet_c for p in pts], values, f"derate ({quantity})")

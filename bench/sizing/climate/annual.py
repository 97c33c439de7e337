"""Annual figures: one sized allocation integrated hour by hour over a climate year.

For each hour ``h`` of the year (:mod:`bench.sizing.climate.year`), with the flat sizing's machines ``N``,
throughput ``T`` and power ``P`` per machine (:mod:`bench.sizing.model`):

    inlet(h)    = the cooling model's machine inlet for the hour's outdoor air (:mod:`...climate.cooling`)
    PUE(h)      = the allocation's PUE, rising with the heat as the cooling model says
    f(h), g(h)  = the machine's derating: throughput and power as factors of the flat figure at inlet(h)
                  (:mod:`bench.sizing.derate`; 1 without a curve, 0 above a shutdown temperature)
    running(h)  = N x min(1, MW x 1e6 / (N x P x g(h) x PUE(h)))   the allocation's MW is a hard cap: machines
                  are switched off (fractionally, as an average) when the hall would draw more
    thr(h)      = running(h) x T x f(h)                              units/s
    it_w(h)     = running(h) x P x g(h);  facility_w(h) = it_w(h) x PUE(h)

and over the year:

    throughput          = mean of thr(h) over the 8,760 hours (units/s, as the flat figure: while running)
    throughput per MW   = throughput / MW (facility MW of the allocation)
    J per unit          = sum facility_w / sum thr  (energy-weighted, facility; MW per unit/s = 1e-6 x this)
    machine J per unit  = sum it_w / sum thr
    energy MWh/yr       = sum facility_w x 1 h / 1e6 x availability
    worst month         = the month with the lowest mean thr(h)
    hours above knee    = hours with inlet(h) above the curve's knee; hours at shutdown likewise

Bounds: the low figure takes the flat sizing's low machines and throughput per machine, its high power
per machine and the curve's low throughput and high power factors; the high figure the other ends. Like
the flat bounds they are worst-case intervals, not confidence intervals.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bench.sizing.climate.cooling import Cooling
from bench.sizing.climate.psychro import Floats, dew_point, relative_humidity, wet_bulb
from bench.sizing.climate.year import MONTH_OF_HOUR, MONTHS, ClimateYear
from bench.sizing.derate import Curve
from bench.sizing.model import Sized

#: ASHRAE 2021 allowable inlet upper limits (recommended 27 °C; A1 32, A2 35, A3 40, A4 45 °C).
ASHRAE_LIMITS = {"recommended": 27.0, "A1": 32.0, "A2": 35.0, "A3": 40.0, "A4": 45.0}


@dataclass(frozen=True)
class Case:
    """One end of the bounds (or the middle): the hourly series and their sums."""

    thr: Floats
    it_w: Floats
    facility_w: Floats
    running: Floats

    @property
    def throughput(self) -> float:
        """Mean throughput over the year, units/s."""
        return float(self.thr.mean())

    @property
    def j_per_unit(self) -> float | None:
        """Facility joules per unit, energy-weighted."""
        total = float(self.thr.sum())
        return float(self.facility_w.sum()) / total if total > 0 else None

    @property
    def machine_j_per_unit(self) -> float | None:
        """IT (machine) joules per unit, energy-weighted."""
        total = float(self.thr.sum())
        return float(self.it_w.sum()) / total if total > 0 else None

    def monthly(self) -> list[float]:
        """Mean throughput per month, January first."""
        return [float(self.thr[MONTH_OF_HOUR == m].mean()) for m in range(12)]


@dataclass(frozen=True)
class Annual:
    """A sized allocation's year at one site with one cooling model, beside its flat figures."""

    site: str
    constructed: bool
    cooling: str
    curve: str
    curve_note: str
    knee_c: float | None
    shutdown_c: float | None
    mw: float
    unit: str
    flat_throughput: float
    flat_throughput_low: float
    flat_throughput_high: float
    flat_j_per_unit: float
    throughput: float
    throughput_low: float
    throughput_high: float
    j_per_unit: float | None
    j_per_unit_low: float | None
    j_per_unit_high: float | None
    machine_j_per_unit: float | None
    energy_mwh: float
    monthly: list[float]
    monthly_low: list[float]
    monthly_high: list[float]
    worst_month: int
    hours_above_knee: int | None
    hours_shutdown: int | None
    hours_curtailed: int
    inlet_max_c: float
    inlet_hours_above: dict[str, int]
    record_high_c: float | None = None
    record_inlet_c: float | None = None
    record_factor: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def per_mw(self) -> float:
        """Annual throughput per facility MW."""
        return self.throughput / self.mw

    @property
    def flat_per_mw(self) -> float:
        """The flat figure's throughput per facility MW."""
        return self.flat_throughput / self.mw

    @property
    def worst(self) -> float:
        """The worst month's mean throughput."""
        return self.monthly[self.worst_month]

    def to_json(self) -> dict[str, Any]:
        """Base units; months January first; ``worst_month`` by name."""
        out = asdict(self)
        out.update(worst_month=MONTHS[self.worst_month], throughput_per_mw=self.per_mw,
                   flat_throughput_per_mw=self.flat_per_mw, worst_month_throughput=self.worst,
                   worst_month_throughput_per_mw=self.worst / self.mw)
        return out


def _case(machines: int, t: float, p: float, f: Floats, g: Floats, pue: Floats, mw: float) -> Case:
    draw = machines * p * g * pue
    share = np.minimum(1.0, np.divide(mw * 1e6, draw, out=np.ones_like(draw), where=draw > 0))
    running = machines * share
    it_w = running * p * g
    return Case(running * t * f, it_w, it_w * pue, running)


def _record_high(year: ClimateYear, cooling: Cooling, curve: Curve) -> tuple[float, float, float] | None:
    """The inlet and throughput factor at the site's record high: the hottest month's record, with the dew
    point of that month's hottest constructed hour (the air's moisture kept, its temperature raised)."""
    if year.extremes is None:
        return None
    month = int(np.argmax(year.extremes.record_high_c))
    hot = year.extremes.record_high_c[month]
    hour = int(np.flatnonzero(MONTH_OF_HOUR == month)[np.argmax(year.dry_bulb_c[MONTH_OF_HOUR == month])])
    dew = float(dew_point(year.dry_bulb_c[hour], year.rh_pct[hour]))
    rh = relative_humidity(hot, dew)
    inlet = float(cooling.inlet(np.array([hot]), wet_bulb(hot, rh).reshape(1))[0])
    return hot, inlet, float(curve.factors(np.array([inlet])).throughput[0])


def annual(s: Sized, year: ClimateYear, cooling: Cooling, curve: Curve, availability: float = 1.0) -> Annual:
    """The year of one sized run (see the module docstring)."""
    inlet = cooling.year_inlet(year)
    pue = cooling.pue(s.pue, year.dry_bulb_c, year.wet_bulb_c)
    fac = curve.factors(inlet)
    t_lo = s.throughput_low / s.machines_low if s.machines_low else 0.0
    t_hi = s.throughput_high / s.machines_high if s.machines_high else 0.0
    mid = _case(s.machines, s.throughput_per_machine, s.power_w_per_machine, fac.throughput, fac.power, pue, s.mw)
    low = _case(s.machines_low, t_lo, s.power_w_per_machine_high, fac.throughput_low, fac.power_high, pue, s.mw)
    high = _case(s.machines_high, t_hi, s.power_w_per_machine_low, fac.throughput_high, fac.power_low, pue, s.mw)
    monthly = mid.monthly()
    jpu = sorted(j for j in (low.j_per_unit, high.j_per_unit) if j is not None)
    knee, shutdown = curve.knee_c, curve.shutdown_c
    rec = _record_high(year, cooling, curve)
    notes = list(year.notes[:1])
    if year.constructed:
        notes.append("the year is CONSTRUCTED from monthly means: no day is hotter than its month's mean maximum, "
                     "so heatwave hours are missing; see the record-high figures")
    return Annual(
        site=year.name, constructed=year.constructed, cooling=cooling.kind, curve=curve.source,
        curve_note=curve.note, knee_c=knee, shutdown_c=shutdown, mw=s.mw, unit=s.unit,
        flat_throughput=s.throughput, flat_throughput_low=s.throughput_low, flat_throughput_high=s.throughput_high,
        flat_j_per_unit=s.mw_per_throughput * 1e6,
        throughput=mid.throughput, throughput_low=min(low.throughput, mid.throughput),
        throughput_high=max(high.throughput, mid.throughput),
        j_per_unit=mid.j_per_unit, j_per_unit_low=jpu[0] if jpu else None, j_per_unit_high=jpu[-1] if jpu else None,
        machine_j_per_unit=mid.machine_j_per_unit,
        energy_mwh=float(mid.facility_w.sum()) / 1e6 * availability,
        monthly=monthly, monthly_low=low.monthly(), monthly_high=high.monthly(),
        worst_month=int(np.argmin(monthly)),
        hours_above_knee=int((inlet > knee).sum()) if knee is not None else None,
        hours_shutdown=int((inlet > shutdown).sum()) if shutdown is not None else None,
        hours_curtailed=int((mid.running < s.machines * (1 - 1e-12)).sum()),
        inlet_max_c=float(inlet.max()),
        inlet_hours_above={k: int((inlet > v).sum()) for k, v in ASHRAE_LIMITS.items()},
        record_high_c=rec[0] if rec else None, record_inlet_c=rec[1] if rec else None,
        record_factor=rec[2] if rec else None, notes=notes,
    )

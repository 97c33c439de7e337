"""The one rule for what a meter can read: an impossible reading is a gap with its reason, never a figure.

Every reading enters the power layer through a :class:`Screen` (the sampler keeps one per meter, for
polled reads, backfilled logs and readings a front end took itself:
:meth:`~bench.power.sampler.Sampler.admit`). It is admitted, or refused with one line saying why; a
refused reading is a gap like an unreachable meter's, the run goes on, and what was measured before
and after it is kept. A reading is impossible when:

- its time, power or energy is not a finite number (NaN, +-Inf, not a number at all);
- its power is negative, or beyond the meter's physical maximum (:func:`limit`);
- it was taken before the previous reading of the same meter;
- its energy counter went back (a restart or reset of the meter or its exporter: a meter whose counter
  wraps undoes the wrap itself, knowing its range, so what goes back here is no documented wrap), or
  advanced more than the maximum power could draw over the interval, allowing for one update period of
  the counter and the meter's stated latency (:attr:`~bench.power.meter.Meter.latency_s`).
  Either is a :class:`~bench.power.meter.CounterDiscontinuity`: the energy across it is unknown, a
  window holding it is refused, and the counter carries on from its new value, so energy never goes
  negative or leaps (an energy counter is kept from 0 at its first admitted reading).

Telemetry values (:attr:`Reading.extra`) that are not finite, or beyond what any record holds, are left
out of the reading; the power figures are judged above.

**Physical maximum** (W): what the meter declares (:attr:`~bench.power.meter.Meter.max_w`: NVML from
the board's power-limit range, else the catalog's board power in ``bench/data/hardware.csv``; a
Prometheus DCGM series from its ``modelName`` in the same catalog; each x :data:`MARGIN`), else by
scope: :data:`MARGIN` x the largest rating sold (:data:`RATED_W`) for a GPU, a superchip module, a CPU
package or a DRAM domain, summed over a ``+``-joined scope; and for a node, a wall socket, a modelled
estimate or any other scope the record's bound on one machine, :data:`~bench.record.bounds.MAX_MACHINE_W`
(1 MW: a reading beyond it could not be written at all). Nothing is ever allowed beyond that bound.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from bench.power.meter import CounterDiscontinuity, ImpossibleReading, Meter, Reading
from bench.record.bounds import MAX_MACHINE_W

#: Margin over a rated power that a reading may reach: boost and transients over a board or package
#: limit (a GPU's instant power, a CPU's PL2) stay well under twice the rating.
MARGIN = 2.0
#: The largest rating sold today per component scope (W): a GPU board (B300 and MI355X, 1,400 W), a
#: superchip module (GB200: two GPUs and a Grace CPU, 2,700 W), a CPU package (EPYC 9965 and Xeon
#: 6980P, 500 W), a DRAM domain (24 RDIMMs at about 20 W each, rounded up).
RATED_W = {"gpu": 1400.0, "module": 2700.0, "cpu-package": 500.0, "dram": 500.0}
#: Telemetry values beyond this (either sign) are not kept: the record's series hold no more.
MAX_TELEMETRY = 1e6


def declared(rated_w: float | None) -> float | None:
    """The physical maximum a meter declares from its device's rated power (``None`` when unknown)."""
    if rated_w is None or not math.isfinite(rated_w) or rated_w <= 0:
        return None
    return min(MARGIN * rated_w, MAX_MACHINE_W)


def scope_max_w(scope: str) -> tuple[float, str]:
    """The physical maximum of a scope (``gpu:0``, ``gpu:0+gpu:1``, ``node``...) and where it comes from."""
    total = 0.0
    for part in scope.split("+"):
        kind = part.partition(":")[0]
        if kind not in RATED_W:
            return MAX_MACHINE_W, "the record's bound per machine"
        total += MARGIN * RATED_W[kind]
    kinds = sorted({p.partition(":")[0] for p in scope.split("+")})
    return min(total, MAX_MACHINE_W), (f"{MARGIN:g} x the largest {' / '.join(kinds)} rating sold"
                                       + (f", over {len(scope.split('+'))} parts" if "+" in scope else ""))


def limit(meter: Meter) -> tuple[float, str]:
    """The most power ``meter`` can read (W), and where that bound comes from."""
    own = meter.max_w
    if own is not None and math.isfinite(own) and own > 0:
        return min(own, MAX_MACHINE_W), "declared by the meter from its device's rating"
    return scope_max_w(meter.scope)


def _finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite real number, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _describe(value: Any) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "NaN (not a number)"
    if isinstance(value, float) and math.isinf(value):
        return f"{value} (not a finite number)"
    return f"{str(value)[:40]!r} (not a finite number)"


def _telemetry(extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` without numbers that are not finite or beyond :data:`MAX_TELEMETRY` (the same dict when all are)."""
    bad = [k for k, v in extra.items() if isinstance(v, float) and not -MAX_TELEMETRY <= v <= MAX_TELEMETRY
           or isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_TELEMETRY]
    return {k: v for k, v in extra.items() if k not in bad} if bad else extra


class Screen:
    """Admits one meter's readings, in the order they were taken (see the module)."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter
        self.max_w, self.max_from = limit(meter)
        self._t: float | None = None  # time of the last reading admitted (or of a counter's break)
        self._raw_j: float | None = None  # the meter's own counter at its last admitted reading or break
        self._t_j = 0.0  # and when
        self._offset_j = 0.0  # added to the meter's counter: from 0 at the first, carried across breaks

    def _bound(self) -> str:
        return f"the most a {self.meter.scope} meter can read, {self.max_w:,.0f} W ({self.max_from})"

    def _power(self, value: Any) -> None:
        name = self.meter.name
        power = _finite(value)
        if power is None:
            raise ImpossibleReading(f"{name}: power reading {_describe(value)}")
        if power < 0:
            raise ImpossibleReading(f"{name}: power reading {power:g} W is negative")
        if power > self.max_w:
            raise ImpossibleReading(f"{name}: power reading {power:g} W is beyond {self._bound()}")

    def admit(self, reading: Reading) -> Reading:
        """The reading as kept (its counter carried on from 0, its bad telemetry left out).

        Raises:
            ImpossibleReading: a value no meter of its scope can read.
            CounterDiscontinuity: the counter went back or leapt; the counter carries on from its new value.
        """
        name = self.meter.name
        t = _finite(reading.t)
        if t is None:
            raise ImpossibleReading(f"{name}: reading time {_describe(reading.t)}")
        if self._t is not None and t < self._t:
            raise ImpossibleReading(f"{name}: a reading taken {self._t - t:.3g} s before the previous one")
        if reading.power_w is not None:
            self._power(reading.power_w)
        kept = reading.energy_j
        if reading.energy_j is not None:
            raw = _finite(reading.energy_j)
            if raw is None:
                raise ImpossibleReading(f"{name}: energy reading {_describe(reading.energy_j)}")
            kept = self._counter(raw, t)
        self._t = t
        extra = _telemetry(reading.extra)
        if kept == reading.energy_j and extra is reading.extra:
            return reading
        return replace(reading, energy_j=kept, extra=extra)

    def _counter(self, raw: float, t: float) -> float:
        if self._raw_j is None:  # the first: the counter is kept from 0 here
            self._raw_j, self._t_j, self._offset_j = raw, t, -raw
            return 0.0
        step, dt = raw - self._raw_j, t - self._t_j
        span = dt + self.meter.update_period_s + self.meter.latency_s  # the longest the step can cover
        if 0.0 <= step <= self.max_w * span:
            self._raw_j, self._t_j = raw, t
            return raw + self._offset_j
        kept = self._raw_j + self._offset_j
        before = self._raw_j
        self._raw_j, self._t_j, self._offset_j, self._t = raw, t, kept - raw, t  # carry on from the new value
        if step < 0:
            raise CounterDiscontinuity(f"{self.meter.name}: energy counter went back from {before:.6g} to {raw:.6g} J "
                                       "(a restart or reset): energy across it unknown")
        raise CounterDiscontinuity(f"{self.meter.name}: energy counter jumped by {step:.6g} J in {dt:.3g} s "
                                   f"({step / max(span, 1e-9):.3g} W), beyond {self._bound()}: energy across it unknown")

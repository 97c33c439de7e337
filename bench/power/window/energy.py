"""Energy, average and peak power of one meter over a window between markers.

Counters are differenced; polled power is integrated with the trapezoid
rule. A window is refused (``valid: false`` with the reason) when it has fewer
than :data:`MIN_READINGS` readings, lasts less than :data:`MIN_PERIODS` update
periods of the meter, holds a counter discontinuity or a known hole in a log,
or its readings cover too little of it. A window with fewer than two readings has no figure (None),
never 0.

Readings enter through the sampler's screen (:mod:`bench.power.plausible`), so none is impossible; a figure
that still falls outside what the record holds (readings a caller put in a log by hand) is withheld with
the reason rather than written, and a window lists at most :data:`MAX_GAPS` gaps, the last saying how many
there were in all.
"""

from __future__ import annotations

import numpy as np

from bench.power.meter import Reading
from bench.power.sampler import Marker, MeterLog
from bench.power.window import telemetry
from bench.record.bounds import MAX_ENERGY_J, MAX_MACHINE_W
from bench.record.power import Gap, MeterFigure

# Scopes from widest to narrowest; components are summed when nothing wider was measured.
WIDE_SCOPES = ("wall", "node")
#: EEHPC asks for at least 10 readings in the core phase.
MIN_READINGS = 10
#: A window must last this many update periods of the meter.
MIN_PERIODS = 10
#: Readings must span this fraction of the window, and no interval between two
#: readings of a polled meter may exceed (1 - this) of it.
MIN_COVERAGE = 0.9
#: Gaps listed per meter and window (a meter that fails every read for an hour has tens of thousands).
MAX_GAPS = 100


def _trace(readings: list[Reading], t_ref: float) -> list[list[float]]:
    if any(r.power_w is not None for r in readings):
        return [[round(r.t - t_ref, 4), float(r.power_w)] for r in readings if r.power_w is not None]
    out = []
    for a, b in zip(readings, readings[1:]):
        dt = b.t - a.t
        if dt > 0 and a.energy_j is not None and b.energy_j is not None and b.energy_j >= a.energy_j:
            # a counter that went back is a discontinuity, recorded as a gap: no negative point
            out.append([round((a.t + b.t) / 2 - t_ref, 4), (b.energy_j - a.energy_j) / dt])
    return out


def _recordable(trace: list[list[float]]) -> tuple[list[list[float]], int]:
    """The points of ``trace`` the record can hold (finite, 0 to one machine's bound), and how many were not."""
    kept = [p for p in trace if 0.0 <= p[1] <= MAX_MACHINE_W and abs(p[0]) < float("inf")]
    return kept, len(trace) - len(kept)


def _gaps(log: MeterLog, start: Marker, end: Marker, t_ref: float) -> list[Gap]:
    """The gaps touching the window, at most :data:`MAX_GAPS` (the last listed then counts the rest)."""
    touching = [g for g in log.gaps if g.overlaps(start.t, end.t)]
    gaps = [Gap(t=round(g.t - t_ref, 4), reason=g.reason[:2000]) for g in touching[:MAX_GAPS]]
    if len(touching) > MAX_GAPS:
        last, listed = touching[-1], MAX_GAPS - 1
        gaps[-1] = Gap(t=round(last.t - t_ref, 4),
                       reason=(f"{len(touching) - listed} more gaps to here ({len(touching)} in all); "
                               f"the last: {last.reason}")[:2000])
    return gaps


def select(log: MeterLog, start: Marker, end: Marker) -> list[Reading]:
    """The readings of ``log`` between two markers (inclusive of the readings taken with them)."""
    if log.meter.polled:
        name = log.meter.name
        first = max(start.index.get(name, log.offset) - log.offset, 0)
        last = end.index.get(name, log.offset + len(log.readings) - 1) - log.offset
        readings = log.readings[first : last + 1]
        return [r for r in readings if start.t - 1.0 <= r.t <= end.t + 1.0]
    # backfilled: no reading was taken at the markers; select by clock and interpolate the
    # power at both markers from the neighbouring readings, so energy covers the whole window
    inside = [r for r in log.readings if start.t <= r.t <= end.t]
    before = [r for r in log.readings if r.t < start.t and r.power_w is not None][-1:]
    after = [r for r in log.readings if r.t > end.t and r.power_w is not None][:1]
    pts = before + [r for r in inside if r.power_w is not None] + after
    head = [_at(start.t, pts[0], pts[1])] if before and len(pts) >= 2 else []
    tail = [_at(end.t, pts[-2], pts[-1])] if after and len(pts) >= 2 else []
    return head + inside + tail


def _at(t: float, a: Reading, b: Reading) -> Reading:
    """Power at ``t`` on the straight line between two readings of a polled-power log."""
    share = (t - a.t) / (b.t - a.t) if b.t != a.t else 0.0
    return Reading(t=t, power_w=a.power_w + share * (b.power_w - a.power_w))  # type: ignore[operator]


def _energy(readings: list[Reading]) -> tuple[float, str] | None:
    if readings[0].energy_j is not None and readings[-1].energy_j is not None:
        return readings[-1].energy_j - readings[0].energy_j, "counter difference"
    pts = [(r.t, r.power_w) for r in readings if r.power_w is not None]
    if len(pts) < 2:
        return None
    t, p = np.array(pts, dtype=float).T
    return float(np.sum((p[1:] + p[:-1]) / 2 * np.diff(t))), "trapezoid of polled power"


def refusals(log: MeterLog, readings: list[Reading], start: Marker, end: Marker) -> list[str]:
    """Why this window of this meter cannot be used for sizing (empty when it can)."""
    meter = log.meter
    span = end.t - start.t
    reasons = []
    if len(readings) < MIN_READINGS:
        reasons.append(f"{len(readings)} readings in the window, need >= {MIN_READINGS}")
    if span < MIN_PERIODS * meter.update_period_s:
        reasons.append(f"window of {span:.3g} s is shorter than {MIN_PERIODS} x the update period "
                       f"({meter.update_period_s:g} s)")
    if len(readings) >= 2 and span > 0:
        covered = readings[-1].t - readings[0].t
        if covered < MIN_COVERAGE * span:
            reasons.append(f"readings cover {covered / span:.0%} of the window")
        counter = readings[0].energy_j is not None and readings[-1].energy_j is not None
        if not counter:
            widest = max(b.t - a.t for a, b in zip(readings, readings[1:]))
            if widest > (1 - MIN_COVERAGE) * span:
                reasons.append(f"a {widest:.3g} s hole between readings ({widest / span:.0%} of the window)")
    broken = [g for g in log.gaps if g.discontinuity and g.overlaps(start.t, end.t)]
    if broken:
        what = "counter discontinuity" if readings and readings[0].energy_j is not None else "readings missing"
        reasons.append(f"{what} in the window: {broken[0].reason}")
    return reasons


def window(log: MeterLog, start: Marker, end: Marker, t_ref: float) -> MeterFigure:
    """Figures of one meter between two markers (inclusive of their readings)."""
    readings = select(log, start, end)
    trace, dropped = _recordable(_trace(readings, t_ref))
    fig = log.meter.figure(readings=len(readings), trace=trace, gaps=_gaps(log, start, end, t_ref), valid=False,
                           telemetry_summary=telemetry.summary(readings))
    beyond = [f"{dropped} trace points beyond what one machine draws ({MAX_MACHINE_W:,.0f} W) or not finite: "
              "left out"] if dropped else []
    result = _energy(readings) if len(readings) >= 2 else None
    duration = readings[-1].t - readings[0].t if len(readings) >= 2 else 0.0
    if result is None or duration <= 0:
        fig.invalid_reasons = [f"{len(readings)} readings in the window: no figure", *beyond]
        return fig
    energy, how = result
    if not (energy <= MAX_ENERGY_J and energy / duration <= MAX_MACHINE_W):  # NaN too
        fig.invalid_reasons = [f"{energy:.6g} J in {duration:.3g} s is beyond what one machine draws "
                               f"({MAX_MACHINE_W:,.0f} W): no figure", *beyond]
        return fig
    powers = [w for _, w in fig.trace]
    reasons = refusals(log, readings, start, end) + beyond
    fig.energy_j = max(energy, 0.0)
    fig.avg_w = fig.energy_j / duration
    fig.peak_w = max(powers) if powers else None
    fig.duration_s = duration
    fig.energy_method = how
    fig.valid = not reasons
    fig.invalid_reasons = reasons
    return fig


def trace(log: MeterLog, start: Marker, end: Marker, t_ref: float) -> list[list[float]]:
    """The trace :func:`window` records for one meter between two markers, without its other figures."""
    return _recordable(_trace(select(log, start, end), t_ref))[0]


def window_energy(log: MeterLog, start: Marker, end: Marker) -> float | None:
    """Energy of one meter between two markers (J), None without a figure."""
    readings = select(log, start, end)
    result = _energy(readings) if len(readings) >= 2 else None
    return max(result[0], 0.0) if result and result[0] <= MAX_ENERGY_J else None


def primary(meters: list[MeterFigure]) -> list[MeterFigure]:
    """The meters whose sum is the run's power: the widest measured scope.

    A valid wall meter, else a valid node meter, else the measured components
    (GPUs, CPU packages, DRAM) when every one of them is valid; then the same
    order with refused meters (a run so measured is refused for sizing, see
    :func:`missing_components`); else the modelled estimate. Components are
    all or nothing: a refused GPU is never dropped from the sum, which would
    make the machine look cheaper to run than it is.
    """
    usable = [m for m in meters if m.energy_j is not None]
    valid = [m for m in usable if m.valid]
    components = [m for m in meters if m.measured and m.scope not in WIDE_SCOPES]
    for pool in (valid, usable):
        for scope in WIDE_SCOPES:
            wide = [m for m in pool if m.measured and m.scope == scope]
            if wide:
                return wide[:1]
        if components and all(any(m is c for m in pool) for c in components):
            return components
    with_figure = [c for c in components if any(m is c for m in usable)]
    return with_figure or usable[:1]


def missing_components(meters: list[MeterFigure], chosen: list[MeterFigure]) -> list[MeterFigure]:
    """Measured component meters left out of a components sum because they gave no figure."""
    if any(m.scope in WIDE_SCOPES or not m.measured for m in chosen):
        return []
    return [m for m in meters if m.measured and m.scope not in WIDE_SCOPES and not any(m is c for c in chosen)]

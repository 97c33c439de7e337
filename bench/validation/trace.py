"""Plausibility of the power trace: energy matches the trace, time runs forward, durations agree.

The energy of a run, of each of its meters and of each window is recomputed as the integral of the
power trace the file carries, over the measured windows (its ``window-N`` phases). A trace that holds
no reading in the window leaves the energy without its ground, and is a finding. A trace that covers
only part of the window is allowed only where the file says the figure is not valid (a meter the
harness refused, a run not valid for sizing): the energy is then the integral over the part the trace
covers, as the harness computes it from the readings it had. The one exception is a meter the harness
refused with a gap in the window (a counter that went back, a hole in a log): its readings cannot
rebuild its energy, so the file must not use it for sizing, and the check leaves it out.
"""

from __future__ import annotations

import numpy as np

from bench.record import Document, MeterFigure, Run
from bench.validation.core import Finding, check
from bench.validation.windows import TOL_S, energy_meters, measured_runs, period_s, span, used_meters

#: Energy from the meter and the trapezoid of its trace may differ by this fraction
#: (plus one reading period at peak power at each edge of the window).
ENERGY_REL_TOL = 0.05


def _trapezoid(trace: np.ndarray, start: float, end: float) -> float:
    """Trapezoid of ``trace`` (``[[t, w], ...]`` as an array) over [start, end] (inside the trace's span)."""
    t, w = trace.T
    inside = (t > start) & (t < end)
    grid = np.concatenate([[start], t[inside], [end]])
    watts = np.interp(grid, t, w)
    return float(np.sum((watts[1:] + watts[:-1]) / 2 * np.diff(grid)))


def excused(meter: MeterFigure) -> bool:
    """A meter the harness refused with a gap in the window: its energy cannot be rebuilt from its trace."""
    return not meter.valid and bool(meter.gaps)


def _against_trace(trace: np.ndarray, start: float, end: float, energy: float, period: float,
                   whole: bool) -> str | None:
    """Why ``energy`` is not the trace's integral over [start, end] (None when it is).

    ``whole``: the trace must cover the window to within a reading period at each edge.
    """
    if len(trace) < 2:
        return "no power trace to recompute it from"
    slack = period + TOL_S
    t0, t1 = trace[0][0], trace[-1][0]
    lo, hi = max(start, t0), min(end, t1)
    if hi <= lo:
        return f"the power trace ({t0:.6g}..{t1:.6g} s) holds no reading in the window ({start:.6g}..{end:.6g} s)"
    if whole and (t0 > start + slack or t1 < end - slack):
        return (f"the power trace ({t0:.6g}..{t1:.6g} s) does not cover the window ({start:.6g}..{end:.6g} s), "
                "yet the figure is marked valid")
    got = _trapezoid(trace, lo, hi)
    peak = float(np.abs(trace[:, 1]).max())
    if abs(got - energy) > ENERGY_REL_TOL * abs(energy) + 2 * peak * slack:
        return f"{energy:.6g} J but the power trace integrates to {got:.6g} J over the window"
    return None


def _run_period(doc: Document, run: Run) -> float:
    return max((period_s(doc, m) for _, m in energy_meters(run)), default=0.0)


#: How a meter's energy is computed when it integrates its own readings (which the trace holds).
POLLED = "trapezoid of polled power"


def _edge_w(a: np.ndarray, t: float, slack: float) -> float:
    """What a polled trace's power could add or take at an edge ``t``: its spread within a reading period."""
    near = a[(a[:, 0] >= t - slack) & (a[:, 0] <= t + slack), 1]
    values = np.concatenate([near, np.interp([t - slack, t, t + slack], a[:, 0], a[:, 1])])
    return float(slack * (values.max() - values.min()) + TOL_S * np.abs(values).max())


def _window_energies(doc: Document, run: Run, trace: np.ndarray, base: str) -> list[Finding]:
    """Each window's energy against the run's trace over that window.

    Polled meters integrate the very readings the trace holds, so a window's energy may differ from the
    trace's only by what the power does within a reading period of its edges. A counter is read on its
    own clock (a scraped exporter, a firmware's counter), so a window's share of it may move by up to a
    reading period at peak power at each edge, as the run's total may.
    """
    p = run.power
    period = _run_period(doc, run)
    slack = period + TOL_S
    polled = bool(p.primary) and all(m.energy_method == POLLED for m in p.primary)
    peak = float(np.abs(trace[:, 1]).max())
    out = []
    for k, (e, ph) in enumerate(zip(p.window_energy_j, run.windows)):
        lo, hi = max(ph.start, float(trace[0, 0])), min(ph.end, float(trace[-1, 0]))
        if hi <= lo:
            out.append(Finding("energy-trace", f"{base}.window_energy_j[{k}]",
                               f"{ph.name}: the power trace holds no reading in it"))
            continue
        got = _trapezoid(trace, lo, hi)
        edges = _edge_w(trace, ph.start, slack) + _edge_w(trace, ph.end, slack) if polled else 2 * peak * slack
        if abs(got - e) > ENERGY_REL_TOL * abs(e) + edges:
            out.append(Finding("energy-trace", f"{base}.window_energy_j[{k}]",
                               f"{ph.name}: {e:.6g} J but the power trace integrates to {got:.6g} J over it"))
    return out


@check("energy-trace")
def energy_matches_trace(doc: Document) -> list[Finding]:
    """Each meter's, each window's and the run's energy is the integral of its power trace over the window."""
    out: list[Finding] = []
    for i, run in measured_runs(doc):
        ws, we = span(run)
        p = run.power
        base = f"$.runs[{i}].power"
        run_excused = not p.valid_for_sizing and any(excused(m) for m in p.primary)
        run_trace = np.asarray(p.trace, dtype=float)  # each trace made an array once, for every integral over it
        holders: list[tuple[str, np.ndarray, float | None, float, bool]] = []
        if not run_excused:
            holders.append((base, run_trace, p.energy_j, _run_period(doc, run), p.valid_for_sizing))
        for k, m in energy_meters(run):
            if m.trace and not excused(m):  # an empty trace is refused by power-derivation
                holders.append((f"{base}.meters[{k}]", np.asarray(m.trace, dtype=float), m.energy_j, period_s(doc, m),
                                m.valid))
        for path, trace, energy, period, whole in holders:
            if energy is None:
                continue
            why = _against_trace(trace, ws, we, energy, period, whole)
            if why:
                out.append(Finding("energy-trace", f"{path}.energy_j", why))
        if not run_excused and len(p.window_energy_j) == len(run.windows) and len(p.trace) >= 2:
            out += _window_energies(doc, run, run_trace, base)  # a count that differs is the power check's finding
    return out


@check("timestamps")
def timestamps_consistent(doc: Document) -> list[Finding]:
    """Trace times never go back; meter durations fit the window; windows last the configured time."""
    out: list[Finding] = []
    configured = doc.settings.timing.window_s if doc.settings and doc.settings.timing else None
    # a shard's windows start on the wall-clock grid, each at the first poll at or after its boundary, so one may
    # be up to a poll period shorter than configured (bench.miners.measure.window.cut)
    short = doc.shard.period_s if doc.shard is not None else 0.0
    for i, run in measured_runs(doc):
        p = run.power
        traces = [(f"$.runs[{i}].power.trace", p.trace)]
        traces += [(f"$.runs[{i}].power.meters[{k}].trace", m.trace) for k, m in used_meters(run)]
        for path, trace in traces:
            t = [pt[0] for pt in trace]
            back = next((j for j in range(1, len(t)) if t[j] < t[j - 1]), None)
            if back is not None:
                out.append(Finding("timestamps", f"{path}[{back}]", f"time goes back ({t[back - 1]} -> {t[back]} s)"))
        window = p.window_s
        for k, m in used_meters(run):
            if window is not None and m.duration_s is not None and m.duration_s > window + 2 * period_s(doc, m) + TOL_S:
                out.append(Finding("timestamps", f"$.runs[{i}].power.meters[{k}].duration_s",
                                   f"meter read over {m.duration_s:.6g} s, longer than the {window:.6g} s window"))
        for k, d in enumerate(run.throughput.durations_s):
            if configured is not None and 0 < d < configured - short - TOL_S:
                out.append(Finding("timestamps", f"$.runs[{i}].throughput.durations_s[{k}]",
                                   f"window of {d:.6g} s is shorter than the configured {configured:g} s"))
    return out

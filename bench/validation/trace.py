"""Plausibility of the power trace: energy matches the trace, time runs forward, durations agree."""

from __future__ import annotations

import numpy as np

from bench.record import Document
from bench.validation.core import Finding, check
from bench.validation.windows import TOL_S, measured_runs, period_s, span, used_meters

#: Energy from the meter and the trapezoid of its trace may differ by this fraction
#: (plus one reading period at peak power at each edge of the window).
ENERGY_REL_TOL = 0.05


def integrate(trace: list[list[float]], start: float, end: float) -> float | None:
    """Trapezoid of ``trace`` over [start, end], or None when the trace does not cover it."""
    if len(trace) < 2 or trace[0][0] > start or trace[-1][0] < end or end <= start:
        return None
    t, w = np.array(trace, dtype=float).T
    inside = (t > start) & (t < end)
    grid = np.concatenate([[start], t[inside], [end]])
    watts = np.interp(grid, t, w)
    return float(np.sum((watts[1:] + watts[:-1]) / 2 * np.diff(grid)))


@check("energy-trace")
def energy_matches_trace(doc: Document) -> list[Finding]:
    """Each meter's (and the run's) energy is the integral of its power trace over the measured window."""
    out: list[Finding] = []
    for i, run in measured_runs(doc):
        ws, we = span(run)
        p = run.power
        used = used_meters(run)
        holders = [(f"$.runs[{i}].power", p.trace, p.energy_j, max((period_s(doc, m) for _, m in used), default=0.0))]
        holders += [(f"$.runs[{i}].power.meters[{k}]", m.trace, m.energy_j, period_s(doc, m)) for k, m in used]
        for path, trace, energy, period in holders:
            got = integrate(trace, ws, we)
            if got is None or energy is None:
                continue
            peak = max(abs(w) for _, w in trace)
            if abs(got - energy) > ENERGY_REL_TOL * abs(energy) + 2 * peak * (period + TOL_S):
                out.append(Finding("energy-trace", f"{path}.energy_j",
                                   f"{energy:.6g} J but the power trace integrates to {got:.6g} J over the window"))
    return out


@check("timestamps")
def timestamps_consistent(doc: Document) -> list[Finding]:
    """Trace times never go back; meter durations fit the window; windows last the configured time."""
    out: list[Finding] = []
    configured = doc.settings.timing.window_s if doc.settings and doc.settings.timing else None
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
            if configured is not None and 0 < d < configured - TOL_S:
                out.append(Finding("timestamps", f"$.runs[{i}].throughput.durations_s[{k}]",
                                   f"window of {d:.6g} s is shorter than the configured {configured:g} s"))
    return out

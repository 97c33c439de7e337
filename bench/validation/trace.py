"""Plausibility of the power trace: energy matches the trace, time runs forward, durations agree."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.validation.core import Finding, check
from bench.validation.windows import TOL_S, measured_runs, period_s, used_meters, window_phases

#: Energy from the meter and the trapezoid of its trace may differ by this fraction
#: (plus one reading period at peak power at each edge of the window).
ENERGY_REL_TOL = 0.05


def _points(trace: Any) -> list[tuple[float, float]]:
    out = []
    for pt in trace or []:
        if isinstance(pt, list) and len(pt) >= 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pt[:2]):
            out.append((float(pt[0]), float(pt[1])))
    return out


def integrate(trace: list[tuple[float, float]], start: float, end: float) -> float | None:
    """Trapezoid of ``trace`` over [start, end], or None when the trace does not cover it."""
    if len(trace) < 2 or trace[0][0] > start or trace[-1][0] < end or end <= start:
        return None
    t, w = np.array(trace, dtype=float).T
    inside = (t > start) & (t < end)
    grid = np.concatenate([[start], t[inside], [end]])
    watts = np.interp(grid, t, w)
    return float(np.sum((watts[1:] + watts[:-1]) / 2 * np.diff(grid)))


@check("energy-trace")
def energy_matches_trace(doc: dict[str, Any]) -> list[Finding]:
    """Each meter's (and the run's) energy is the integral of its power trace over the measured window."""
    out: list[Finding] = []
    for i, run in measured_runs(doc):
        wins = window_phases(run)
        ws, we = wins[0][1]["start"], wins[-1][1]["end"]
        p = run["power"]
        holders = [(f"$.runs[{i}].power", p, max((period_s(doc, m) for _, m in used_meters(run)), default=0.0))]
        holders += [(f"$.runs[{i}].power.meters[{k}]", m, period_s(doc, m)) for k, m in used_meters(run)]
        for path, holder, period in holders:
            trace = _points(holder.get("trace"))
            got = integrate(trace, ws, we)
            energy = holder.get("energy_j")
            if got is None or not isinstance(energy, (int, float)):
                continue
            peak = max(abs(w) for _, w in trace)
            if abs(got - energy) > ENERGY_REL_TOL * abs(energy) + 2 * peak * (period + TOL_S):
                out.append(Finding("energy-trace", f"{path}.energy_j",
                                   f"{energy:.6g} J but the power trace integrates to {got:.6g} J over the window"))
    return out


@check("timestamps")
def timestamps_consistent(doc: dict[str, Any]) -> list[Finding]:
    """Trace times never go back; meter durations fit the window; windows last the configured time."""
    out: list[Finding] = []
    timing = ((doc.get("settings") or {}).get("timing") or {}) if isinstance(doc.get("settings"), dict) else {}
    configured = timing.get("window_s") if isinstance(timing, dict) else None
    for i, run in measured_runs(doc):
        p = run["power"]
        traces = [(f"$.runs[{i}].power.trace", p.get("trace"))]
        traces += [(f"$.runs[{i}].power.meters[{k}].trace", m.get("trace")) for k, m in used_meters(run)]
        for path, trace in traces:
            t = [pt[0] for pt in _points(trace)]
            back = next((j for j in range(1, len(t)) if t[j] < t[j - 1]), None)
            if back is not None:
                out.append(Finding("timestamps", f"{path}[{back}]", f"time goes back ({t[back - 1]} -> {t[back]} s)"))
        window = p.get("window_s")
        for k, m in used_meters(run):
            dur = m.get("duration_s")
            if isinstance(window, (int, float)) and isinstance(dur, (int, float)) \
                    and dur > window + 2 * period_s(doc, m) + TOL_S:
                out.append(Finding("timestamps", f"$.runs[{i}].power.meters[{k}].duration_s",
                                   f"meter read over {dur:.6g} s, longer than the {window:.6g} s window"))
        for k, d in enumerate((run.get("throughput") or {}).get("durations_s") or []):
            if isinstance(configured, (int, float)) and isinstance(d, (int, float)) and 0 < d < configured - TOL_S:
                out.append(Finding("timestamps", f"$.runs[{i}].throughput.durations_s[{k}]",
                                   f"window of {d:.6g} s is shorter than the configured {configured:g} s"))
    return out

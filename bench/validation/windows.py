"""Consistency of the measured window: phase markers, power readings and throughput share one window.

MLPerf-style: the performance markers must lie inside the power log, the power
figures must come from the same span as the throughput samples, and a meter
must have read often enough in it.
"""

from __future__ import annotations

from typing import Any

from bench.validation.core import Finding, check, is_declared

#: Phase times are rounded to 0.1 ms and a marker takes a reading of every meter:
#: allowance for the two when matching spans.
TOL_S = 2e-3
#: A meter must have at least this fraction of the readings its period allows in the window.
MIN_READING_FRACTION = 0.5


def _num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def window_phases(run: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """``(index, phase)`` of the measured windows (``window-N``) with numeric start and end."""
    return [(j, ph) for j, ph in enumerate(run.get("phases") or [])
            if isinstance(ph, dict) and str(ph.get("name", "")).startswith("window-")
            and _num(ph.get("start")) and _num(ph.get("end"))]


def measured_runs(doc: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """``(index, run)`` of ok runs in a measured file that recorded power and windows."""
    if is_declared(doc):
        return []
    return [(i, r) for i, r in enumerate(doc.get("runs") or [])
            if isinstance(r, dict) and r.get("status", "ok") == "ok" and isinstance(r.get("power"), dict)
            and _num(r["power"].get("energy_j")) and window_phases(r)]


def period_s(doc: dict[str, Any], meter: dict[str, Any]) -> float:
    """Seconds between two readings of ``meter``: its update period or the sampling period, the longer."""
    rate = (doc.get("settings") or {}).get("sample_rate_hz") if isinstance(doc.get("settings"), dict) else None
    sampling = 1.0 / rate if _num(rate) and rate > 0 else 0.0
    upd = meter.get("update_period_s")
    return max(float(upd) if _num(upd) and upd > 0 else 0.0, sampling)


def used_meters(run: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """Meters with a figure for the window that the harness did not refuse."""
    return [(k, m) for k, m in enumerate(run["power"].get("meters") or [])
            if isinstance(m, dict) and _num(m.get("energy_j")) and m.get("valid") is not False]


@check("markers")
def markers_in_power_window(doc: dict[str, Any]) -> list[Finding]:
    """The measured windows' phase markers span the power window and lie inside every meter's trace."""
    out: list[Finding] = []
    for i, run in measured_runs(doc):
        wins, p = window_phases(run), run["power"]
        ws, we = wins[0][1]["start"], wins[-1][1]["end"]
        window = p.get("window_s")
        if _num(window) and abs((we - ws) - window) > TOL_S + 1e-3 * window:
            out.append(Finding("markers", f"$.runs[{i}].power.window_s",
                               f"power window {window:.6g} s but the measured phases span {we - ws:.6g} s"))
        for k, m in used_meters(run):
            trace = [pt for pt in m.get("trace") or [] if isinstance(pt, list) and pt and _num(pt[0])]
            if len(trace) < 2:
                continue
            slack = TOL_S + period_s(doc, m)
            t0, t1 = trace[0][0], trace[-1][0]
            for j, ph in wins:
                if ph["start"] < t0 - slack or ph["end"] > t1 + slack:
                    out.append(Finding("markers", f"$.runs[{i}].phases[{j}]",
                                       f"{ph['name']} ({ph['start']}..{ph['end']} s) is outside the power "
                                       f"trace of meters[{k}] ({t0}..{t1} s)"))
    return out


@check("readings")
def enough_readings(doc: dict[str, Any]) -> list[Finding]:
    """Each meter read at least half as often in the window as its period allows."""
    out: list[Finding] = []
    for i, run in measured_runs(doc):
        window = run["power"].get("window_s")
        if not _num(window) or window <= 0:
            continue
        for k, m in used_meters(run):
            n, period = m.get("readings"), period_s(doc, m)
            if not isinstance(n, int) or period <= 0:
                continue
            need = int(MIN_READING_FRACTION * window / period)
            if n < need:
                out.append(Finding("readings", f"$.runs[{i}].power.meters[{k}].readings",
                                   f"{n} readings in a {window:.3g} s window at one per {period:.3g} s; need >= {need}"))
    return out


@check("same-window")
def power_and_throughput_same_window(doc: dict[str, Any]) -> list[Finding]:
    """Each throughput duration is its window phase, and together they fill the power window."""
    out: list[Finding] = []
    for i, run in measured_runs(doc):
        durs = (run.get("throughput") or {}).get("durations_s") or []
        wins = window_phases(run)
        base = f"$.runs[{i}].throughput.durations_s"
        if len(durs) != len(wins) or not all(_num(d) for d in durs):
            out.append(Finding("same-window", base, f"{len(durs)} throughput durations for {len(wins)} measured windows"))
            continue
        for k, (d, (_, ph)) in enumerate(zip(durs, wins)):
            if abs(d - (ph["end"] - ph["start"])) > TOL_S:
                out.append(Finding("same-window", f"{base}[{k}]",
                                   f"{d:.6g} s but {ph['name']} lasted {ph['end'] - ph['start']:.6g} s"))
        window = run["power"].get("window_s")
        if _num(window) and abs(sum(durs) - window) > TOL_S * len(durs) + 0.02 * window:
            out.append(Finding("same-window", f"$.runs[{i}].power.window_s",
                               f"power measured over {window:.6g} s, throughput over {sum(durs):.6g} s"))
    return out

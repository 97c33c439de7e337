"""Consistency of the measured window: phase markers, power readings and throughput share one window.

MLPerf-style: the performance markers must lie inside the power log, the power
figures must come from the same span as the throughput samples, and a meter
must have read often enough in it.
"""

from __future__ import annotations

from bench.record import Document, MeterFigure, Phase, Run
from bench.validation.core import Finding, check

#: Phase times are rounded to 0.1 ms and a marker takes a reading of every meter:
#: allowance for the two when matching spans.
TOL_S = 2e-3
#: A meter must have at least this fraction of the readings its period allows in the window.
MIN_READING_FRACTION = 0.5


def measured_runs(doc: Document) -> list[tuple[int, Run]]:
    """``(index, run)`` of the runs of a measured file that recorded power over measured windows: ok runs,
    and interrupted or failed runs that measured windows (a power figure without windows is refused by
    :mod:`bench.validation.basis`)."""
    if doc.declared:
        return []
    return [(i, r) for i, r in enumerate(doc.runs)
            if (r.ok or r.throughput.samples or r.throughput.units) and r.power.energy_j is not None and r.windows]


def period_s(doc: Document, meter: MeterFigure) -> float:
    """Seconds between two readings of ``meter``: its update period or the sampling period, the longer."""
    rate = doc.settings.sample_rate_hz if doc.settings else None
    sampling = 1.0 / rate if rate else 0.0
    return max(meter.update_period_s or 0.0, sampling)


def used_meters(run: Run) -> list[tuple[int, MeterFigure]]:
    """Meters with a figure for the window that the harness did not refuse."""
    return [(k, m) for k, m in enumerate(run.power.meters) if m.energy_j is not None and m.valid]


def energy_meters(run: Run) -> list[tuple[int, MeterFigure]]:
    """Meters with a figure for the window, refused by the harness or not."""
    return [(k, m) for k, m in enumerate(run.power.meters) if m.energy_j is not None]


def span(run: Run) -> tuple[float, float]:
    """Start of the first and end of the last measured window."""
    wins: list[Phase] = run.windows
    return wins[0].start, wins[-1].end


@check("markers")
def markers_in_power_window(doc: Document) -> list[Finding]:
    """The measured windows' phase markers span the power window and lie inside every meter's trace."""
    out: list[Finding] = []
    for i, run in measured_runs(doc):
        ws, we = span(run)
        window = run.power.window_s
        if window is not None and abs((we - ws) - window) > TOL_S + 1e-3 * window:
            out.append(Finding("markers", f"$.runs[{i}].power.window_s",
                               f"power window {window:.6g} s but the measured phases span {we - ws:.6g} s"))
        for k, m in used_meters(run):
            if len(m.trace) < 2:
                continue
            slack = TOL_S + period_s(doc, m)
            t0, t1 = m.trace[0][0], m.trace[-1][0]
            for j, ph in enumerate(run.phases):
                if ph.name.startswith("window-") and (ph.start < t0 - slack or ph.end > t1 + slack):
                    out.append(Finding("markers", f"$.runs[{i}].phases[{j}]",
                                       f"{ph.name} ({ph.start}..{ph.end} s) is outside the power "
                                       f"trace of meters[{k}] ({t0}..{t1} s)"))
    return out


@check("readings")
def enough_readings(doc: Document) -> list[Finding]:
    """Each meter read at least half as often in the window as its period allows."""
    out: list[Finding] = []
    for i, run in measured_runs(doc):
        window = run.power.window_s
        if not window:
            continue
        for k, m in used_meters(run):
            period = period_s(doc, m)
            if m.readings is None or period <= 0:
                continue
            need = int(MIN_READING_FRACTION * window / period)
            if m.readings < need:
                out.append(Finding("readings", f"$.runs[{i}].power.meters[{k}].readings",
                                   f"{m.readings} readings in a {window:.3g} s window at one per {period:.3g} s; "
                                   f"need >= {need}"))
    return out


@check("same-window")
def power_and_throughput_same_window(doc: Document) -> list[Finding]:
    """Each throughput duration is its window phase, and together they fill the power window."""
    out: list[Finding] = []
    for i, run in measured_runs(doc):
        durs = run.throughput.durations_s
        wins = run.windows
        base = f"$.runs[{i}].throughput.durations_s"
        if len(durs) != len(wins):
            out.append(Finding("same-window", base, f"{len(durs)} throughput durations for {len(wins)} measured windows"))
            continue
        for k, (d, ph) in enumerate(zip(durs, wins)):
            if abs(d - (ph.end - ph.start)) > TOL_S:
                out.append(Finding("same-window", f"{base}[{k}]",
                                   f"{d:.6g} s but {ph.name} lasted {ph.end - ph.start:.6g} s"))
        window = run.power.window_s
        if window is not None and abs(sum(durs) - window) > TOL_S * len(durs) + 0.02 * window:
            out.append(Finding("same-window", f"$.runs[{i}].power.window_s",
                               f"power measured over {window:.6g} s, throughput over {sum(durs):.6g} s"))
    return out

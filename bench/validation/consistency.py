"""Checks that recompute every derived figure of each measured run from its raw samples.

Throughput: samples = units / durations, and rate, median, p10, p90, mean,
min, max, cv and the unstable flag from the samples (:mod:`bench.record.figures`,
the runner's own code). Efficiency = total units / energy, ceiling fraction =
rate / ceiling. Power: avg_w = energy / window, the windows' energies add up
to the energy, each meter's average is its energy over its duration and its
peak the highest point of its trace in the window.
"""

from __future__ import annotations

import math

from bench.record import Document, Run, figures
from bench.validation.core import Finding, check, close

MIN_READINGS = 10


def measured(doc: Document) -> list[tuple[int, Run]]:
    """``(index, run)`` of the runs of a measured file that carry figures: ok runs, and interrupted or
    failed runs with windows (their figures are shown and recomputed like any other). A merged fleet's runs are
    its models' average miners, recomputed from its sums instead (:mod:`bench.validation.fleetdoc`)."""
    if doc.declared or doc.miners_fleet is not None:
        return []
    return [(i, r) for i, r in enumerate(doc.runs) if r.ok or r.throughput.samples or r.throughput.units]


@check("no-samples")
def no_figures_without_samples(doc: Document) -> list[Finding]:
    """A run that measured no window (failed, or stopped before one) carries no throughput, power or efficiency."""
    out: list[Finding] = []
    if doc.declared:
        return out
    for i, run in enumerate(doc.runs):
        t = run.throughput
        if run.ok or t.samples or t.units:
            continue
        held = [k for k in ("rate", "median", "p10", "p90", "mean", "min", "max", "cv") if getattr(t, k) is not None]
        if run.efficiency.per_joule is not None:
            held.append("efficiency.per_joule")
        if run.power.avg_w is not None or run.power.energy_j is not None:
            held.append("power")
        if held:
            out.append(Finding("no-samples", f"$.runs[{i}]",
                               f"a {run.status} run without windows holds figures ({', '.join(held)})"))
    return out


@check("declared")
def declared_figures(doc: Document) -> list[Finding]:
    """A declared run's efficiency is its throughput over its power, and its median its rate."""
    out: list[Finding] = []
    if not doc.declared:
        return out
    for i, run in enumerate(doc.runs):
        t, p = run.throughput, run.power
        if t.rate is not None and p.avg_w:
            if not close(run.efficiency.per_joule, t.rate / p.avg_w):
                out.append(Finding("declared", f"$.runs[{i}].efficiency.per_joule",
                                   f"{run.efficiency.per_joule} != throughput/power = {t.rate / p.avg_w}"))
            if t.median is not None and not close(t.median, t.rate):
                out.append(Finding("declared", f"$.runs[{i}].throughput.median", f"{t.median} != rate {t.rate}"))
        if p.avg_w is not None and any(m.avg_w is not None and not close(m.avg_w, p.avg_w) for m in p.meters):
            out.append(Finding("declared", f"$.runs[{i}].power.avg_w", "differs from the declared meter's figure"))
    return out


@check("samples")
def samples_match(doc: Document) -> list[Finding]:
    """``throughput.samples`` == units / durations, and every statistic == recomputed from the samples."""
    out: list[Finding] = []
    for i, run in measured(doc):
        t = run.throughput
        base = f"$.runs[{i}].throughput"
        if not t.samples:
            out.append(Finding("samples", f"{base}.samples", "no raw samples in a measured run"))
            continue
        if len(t.units) != len(t.samples) or len(t.durations_s) != len(t.samples):
            out.append(Finding("samples", base, f"{len(t.samples)} samples but {len(t.units)} units "
                                                f"and {len(t.durations_s)} durations"))
            continue
        bad = [j for j, (u, d, s) in enumerate(zip(t.units, t.durations_s, t.samples)) if not close(s, u / d)]
        for j in bad[:5]:
            out.append(Finding("samples", f"{base}.samples[{j}]", f"{t.samples[j]} != units/duration = "
                                                                 f"{t.units[j] / t.durations_s[j]}"))
        if bad:
            continue
        want = figures.throughput(t.units, t.durations_s, run.unit)
        for k in ("rate", "median", "p10", "p90", "mean", "min", "max", "cv"):
            got, exp = getattr(t, k), getattr(want, k)
            if not close(got, exp, 1e-6 if k != "cv" else 1e-4):
                out.append(Finding("samples", f"{base}.{k}", f"{got} != {exp} recomputed from the samples"))
        if t.unstable != want.unstable:
            out.append(Finding("samples", f"{base}.unstable", f"{t.unstable} but the samples' cv is {want.cv}"))
        if t.unit != want.unit:
            out.append(Finding("samples", f"{base}.unit", f"{t.unit!r} but the run counts {run.unit!r}"))
    return out


@check("efficiency")
def efficiency_matches(doc: Document) -> list[Finding]:
    """``efficiency.per_joule`` == sum(units) / energy, ``ceiling_fraction`` == rate / ceiling."""
    out: list[Finding] = []
    for i, run in measured(doc):
        t, p, e = run.throughput, run.power, run.efficiency
        want = figures.per_joule(t.units, p.energy_j)
        if t.units and not close(e.per_joule, want):
            out.append(Finding("efficiency", f"$.runs[{i}].efficiency.per_joule",
                               f"{e.per_joule} != sum(units)/energy_j = {want}"))
        frac = figures.ceiling_fraction(t.rate, run.ceiling)
        if not close(run.ceiling_fraction, frac):
            out.append(Finding("efficiency", f"$.runs[{i}].ceiling_fraction",
                               f"{run.ceiling_fraction} != rate/ceiling = {frac}"))
    return out


@check("power")
def power_consistent(doc: Document) -> list[Finding]:
    """avg_w == energy / window; the windows' energies sum to the energy; meters' figures from their own."""
    out: list[Finding] = []
    for i, run in measured(doc):
        p = run.power
        base = f"$.runs[{i}].power"
        if p.energy_j is not None and p.window_s and p.avg_w is not None \
                and not close(p.avg_w, p.energy_j / p.window_s, 1e-3):
            out.append(Finding("power", f"{base}.avg_w", f"{p.avg_w} != energy_j/window_s = {p.energy_j / p.window_s}"))
        if p.window_energy_j:
            if len(p.window_energy_j) != len(run.throughput.units):
                out.append(Finding("power", f"{base}.window_energy_j",
                                   f"{len(p.window_energy_j)} window energies for {len(run.throughput.units)} windows"))
            elif p.energy_j is not None and not close(sum(p.window_energy_j), p.energy_j, 1e-3):
                out.append(Finding("power", f"{base}.window_energy_j",
                                   f"sum {sum(p.window_energy_j):.6g} J != energy_j {p.energy_j:.6g} J"))
        primary = set((p.scope or "").split("+"))
        for k, m in enumerate(p.meters):
            where = f"{base}.meters[{k}]"
            if m.energy_j is not None and m.duration_s and m.avg_w is not None \
                    and not close(m.avg_w, m.energy_j / m.duration_s, 1e-6):
                out.append(Finding("power", f"{where}.avg_w", f"{m.avg_w} != energy_j/duration_s"))
            if not m.valid:  # refused by the harness itself: only its use for sizing is wrong
                if m.scope in primary and p.valid_for_sizing:
                    out.append(Finding("power", f"{base}.valid_for_sizing",
                                       f"meters[{k}] ({m.name}) was refused but the run is marked valid for sizing"))
            elif m.readings is not None and m.readings < MIN_READINGS:
                out.append(Finding("power", f"{where}.readings", f"{m.readings} readings, need >= {MIN_READINGS}"))
    return out


@check("peaks")
def peaks_match(doc: Document) -> list[Finding]:
    """Each meter's ``peak_w`` is the highest point of its trace in the measured window; the run's likewise."""
    out: list[Finding] = []
    for i, run in measured(doc):
        wins = run.windows
        if not wins:
            continue
        start, end = wins[0].start, wins[-1].end
        holders = [(f"$.runs[{i}].power", run.power.peak_w, run.power.trace)]
        holders += [(f"$.runs[{i}].power.meters[{k}]", m.peak_w, m.trace) for k, m in enumerate(run.power.meters)
                    if m.energy_j is not None]
        for path, peak, trace in holders:
            # a meter's figure uses the readings taken with the markers, up to 1 s outside the rounded phase times
            around = [w for t, w in trace if start - 1.0 <= t <= end + 1.0]
            within = [w for t, w in trace if start + 1e-3 < t < end - 1e-3]
            if peak is None or not around:
                continue
            if peak > max(around) * (1 + 1e-6) + 1e-9:
                out.append(Finding("peaks", f"{path}.peak_w",
                                   f"{peak:.6g} W but the trace never exceeds {max(around):.6g} W in the window"))
            elif within and peak < max(within) * (1 - 1e-6) - 1e-9:
                out.append(Finding("peaks", f"{path}.peak_w",
                                   f"{peak:.6g} W but the trace reaches {max(within):.6g} W inside the window"))
    return out


@check("phases")
def phases_monotonic(doc: Document) -> list[Finding]:
    """No phase ends before it starts, and phases follow each other in time."""
    out: list[Finding] = []
    for i, run in measured(doc):
        last = -math.inf
        for j, ph in enumerate(run.phases):
            if ph.end < ph.start or ph.start < last:
                out.append(Finding("phases", f"$.runs[{i}].phases[{j}]",
                                   f"phase {ph.name!r} not monotonic ({ph.start}..{ph.end} after {last})"))
            last = max(last, ph.end)
    return out

"""The ``power`` block of one run, from the sampler's markers.

Figures (W, J, s) over the measured windows from the primary meters (the
widest measured scope, :func:`bench.power.window.energy.primary`):
``energy_j``, ``window_s`` (the span of the windows), ``avg_w = energy_j /
window_s``, ``window_energy_j`` (the energy of each window) and ``peak_w``;
``idle_before_w`` / ``idle_after_w`` from the idle baseline and the idle tail;
``scope``, ``scope_class``, ``measured``; ``valid_for_sizing`` and
``invalid_reasons``; ``quality``; ``unattributed_w`` and ``crosschecks``;
``flags`` (gaps, refused meters, disagreements: anything a reader must know);
``meters`` (every meter's own figures, idle, trace and telemetry) and
``trace`` (the primary meters' summed power over the whole run).
"""

from __future__ import annotations

import numpy as np

from bench.power.sampler import Marker, MeterLog, Sampler
from bench.power.window import energy, telemetry
from bench.power.window.crosscheck import crosscheck
from bench.power.window.quality import quality, scope_class
from bench.record.bounds import MAX_ENERGY_J, MAX_MACHINE_W
from bench.record.power import Crosscheck, MeterFigure, PowerBlock, no_power


def _sum_traces(traces: list[list[list[float]]]) -> list[list[float]]:
    traces = [t for t in traces if t]
    if not traces:
        return []
    if len(traces) == 1:
        return traces[0]
    grid = np.array([p[0] for p in traces[0]])
    total = np.zeros_like(grid, dtype=float)
    for tr in traces:
        a = np.array(tr, dtype=float)
        total += np.interp(grid, a[:, 0], a[:, 1])
    return [[float(t), float(w)] for t, w in zip(grid, total)]


def _idle(sampler: Sampler, log: MeterLog, names: tuple[str, str] | None, t_ref: float,
          label: str, notes: list[str]) -> tuple[float | None, bool]:
    """The meter's average over an idle phase, and whether that window was good enough to count as measured."""
    if names is None:
        return None, False
    try:
        fig = energy.window(log, sampler.marker(names[0]), sampler.marker(names[1]), t_ref)
    except KeyError:
        return None, False
    if fig.avg_w is not None and fig.invalid_reasons:
        notes.append(f"idle {label}: indicative only ({'; '.join(fig.invalid_reasons)})"[:2000])
    return fig.avg_w, fig.avg_w is not None and not fig.invalid_reasons


def _sum_or_none(values: list[float | None]) -> float | None:
    return sum(v for v in values if v is not None) if values and all(v is not None for v in values) else None


def _window_energies(sampler: Sampler, chosen: list[MeterFigure], bounds: list[tuple[Marker, Marker]]) -> list[float]:
    logs = [sampler.logs[m.name] for m in chosen]
    out = []
    for start, end in bounds:
        parts = [energy.window_energy(log, start, end) for log in logs]
        if any(p is None for p in parts):
            return []
        out.append(float(sum(p for p in parts if p is not None)))
    return out


def device_not_covered(device: str | None, chosen: list[MeterFigure]) -> str | None:
    """Why the chosen meters cannot stand for a run on ``device`` (``cuda:N``), or None when they can.

    A GPU run measured at the wall or node is covered. Measured only by components, the run's own GPU
    (``gpu:N``, or ``module:N`` on a GH200) must be among them: without it (MIG, whose instances have no
    energy counter; a vGPU; a container without NVML) the components are the CPUs and DRAM, and work per
    joule would come out several times too high. A modelled estimate models the CPU, never the GPU.
    """
    kind, _, index = (device or "").partition(":")
    if kind != "cuda" or not chosen:
        return None
    scopes = {m.scope for m in chosen}
    if scopes & {"wall", "node"} and all(m.measured for m in chosen):
        return None
    if not all(m.measured for m in chosen):
        return (f"the run used {device} but the only power figure is a model of the CPU "
                "(no GPU meter opened: MIG, vGPU or no NVML in this container?)")
    if {f"gpu:{index}", f"module:{index}"} & scopes:
        return None
    return (f"the run used {device} but no meter measured that GPU (MIG instances and vGPUs have no energy "
            f"counter; is NVML reachable?): the components measured ({', '.join(sorted(scopes))}) leave it out")


def power_block(sampler: Sampler | None, t_ref: float, windows: list[tuple[str, str]],
                idle: tuple[str, str] | None, whole: tuple[str, str],
                tail: tuple[str, str] | None = None, device: str | None = None) -> PowerBlock:
    """The ``power`` block of a run.

    Args:
        windows: (start, end) marker names of the measured windows, in order; their
            span is the measured window.
        idle, tail: marker names of the idle baseline before and the idle tail after.
        whole: the markers bounding the full-run trace.
        device: the device the run used; a GPU run whose GPU no meter covers is refused for sizing.
    """
    if sampler is None or not sampler.logs or not windows:
        return no_power()
    bounds = [(sampler.marker(a), sampler.marker(b)) for a, b in windows]
    start, end = bounds[0][0], bounds[-1][1]
    first, last = sampler.marker(whole[0]), sampler.marker(whole[1])
    sampler.backfill(first.t, last.t)
    meters = []
    idle_ok: dict[str, tuple[bool, bool]] = {}
    for log in sampler.logs.values():
        fig = energy.window(log, start, end, t_ref)
        notes: list[str] = []
        fig.trace = energy.window(log, first, last, t_ref).trace
        fig.idle_before_w, ok_before = _idle(sampler, log, idle, t_ref, "before", notes)
        fig.idle_after_w, ok_after = _idle(sampler, log, tail, t_ref, "after", notes)
        idle_ok[fig.name] = (ok_before, ok_after)
        fig.notes = notes
        fig.telemetry = telemetry.series(energy.select(log, first, last), t_ref)
        meters.append(fig)
    chosen = energy.primary(meters)
    if not chosen:
        block = no_power("no meter gave a figure for the measured window")
        block.meters, block.flags = meters, _flags(meters, [])
        return block
    trace = [p for p in _sum_traces([m.trace for m in chosen]) if p[1] <= MAX_MACHINE_W]
    in_window = [w for t, w in trace if start.t - t_ref <= t <= end.t - t_ref]
    invalid = [f"{m.name}: {r}"[:2000] for m in chosen for r in m.invalid_reasons]
    invalid += [f"{m.name}: no figure for the measured window, so the components' sum would leave it out"
                for m in energy.missing_components(meters, chosen)]
    uncovered = device_not_covered(device, chosen)
    if uncovered:
        invalid.append(uncovered)
    total_j = float(sum(m.energy_j or 0.0 for m in chosen))
    span = end.t - start.t
    if span > 0 and not (total_j <= MAX_ENERGY_J and total_j / span <= MAX_MACHINE_W):
        block = no_power(f"the primary meters' sum, {total_j:.6g} J in {span:.3g} s, is beyond what one machine "
                         f"draws ({MAX_MACHINE_W:,.0f} W)")
        block.meters, block.flags = meters, _flags(meters, [])
        return block
    unattributed, checks = crosscheck(meters)
    idle_before = _sum_or_none([m.idle_before_w for m in chosen])
    idle_after = _sum_or_none([m.idle_after_w for m in chosen])
    # an idle phase too short to be refused-free is recorded, but does not count as idle measured
    before_ok = idle_before if all(idle_ok[m.name][0] for m in chosen) else None
    after_ok = idle_after if all(idle_ok[m.name][1] for m in chosen) else None
    return PowerBlock(
        avg_w=total_j / span if span > 0 else None, energy_j=total_j,
        peak_w=max(in_window) if in_window else None,
        idle_before_w=idle_before, idle_after_w=idle_after,
        scope="+".join(m.scope for m in chosen), scope_class=scope_class(chosen),
        measured=all(m.measured for m in chosen), window_s=span if span > 0 else None,
        window_energy_j=_window_energies(sampler, chosen, bounds),
        valid_for_sizing=not invalid, invalid_reasons=invalid,
        quality=quality(chosen, not invalid, before_ok, after_ok, checks),
        unattributed_w=unattributed, crosschecks=checks, flags=_flags(meters, checks),
        meters=meters, trace=trace,
    )


def _flags(meters: list[MeterFigure], checks: list[Crosscheck]) -> list[str]:
    flags = []
    for m in meters:
        if m.gaps:
            flags.append(f"{m.name}: {len(m.gaps)} gap(s) in the measured window, first: {m.gaps[0].reason}"[:2000])
        if m.invalid_reasons:
            flags.append(f"{m.name}: refused: {'; '.join(m.invalid_reasons)}"[:2000])
    flags += [c.note for c in checks if not c.agree]
    return flags

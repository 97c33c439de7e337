"""The ``power`` block of one run, from the sampler's markers.

Keys (all W, J, s): ``avg_w``, ``energy_j``, ``peak_w`` over the measured
window (the span of the measured repeats) from the primary meters (the widest
measured scope, :func:`bench.power.window.energy.primary`); ``idle_w`` (=
``idle_before_w``) and ``idle_after_w`` from the idle baseline and the idle
tail; ``scope``, ``scope_class``, ``measured``, ``window_s``; ``valid_for_sizing``
and ``invalid_reasons``; ``quality`` {level, reasons}; ``unattributed_w`` and
``crosschecks``; ``flags`` (gaps, refused meters, disagreements: anything a
reader must know); ``meters`` (every meter's own figures, idle, trace and
telemetry) and ``trace`` (the primary meters' summed power over the whole run).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.power.window import energy, telemetry
from bench.power.window.crosscheck import crosscheck
from bench.power.window.quality import quality, scope_class
from bench.power.sampler import MeterLog, Sampler


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


def empty_block() -> dict[str, Any]:
    """The block of a run without power (no meter, or no measured window)."""
    return {"avg_w": None, "energy_j": None, "peak_w": None, "idle_w": None, "idle_before_w": None,
            "idle_after_w": None, "scope": None, "scope_class": None, "measured": False, "window_s": None,
            "valid_for_sizing": False, "invalid_reasons": ["no power measured"],
            "quality": {"level": 0, "reasons": ["no power figure"]}, "unattributed_w": None,
            "crosschecks": [], "flags": [], "meters": [], "trace": []}


def _idle(sampler: Sampler, log: MeterLog, names: tuple[str, str] | None, t_ref: float,
          label: str, notes: list[str]) -> float | None:
    if names is None:
        return None
    try:
        fig = energy.window(log, sampler.marker(names[0]), sampler.marker(names[1]), t_ref)
    except KeyError:
        return None
    if fig["avg_w"] is not None and fig["invalid_reasons"]:
        notes.append(f"idle {label}: indicative only ({'; '.join(fig['invalid_reasons'])})")
    return fig["avg_w"]


def _sum_or_none(values: list[float | None]) -> float | None:
    return sum(v for v in values if v is not None) if values and all(v is not None for v in values) else None


def power_block(sampler: Sampler | None, t_ref: float, windows: list[tuple[str, str]],
                idle: tuple[str, str] | None, whole: tuple[str, str],
                tail: tuple[str, str] | None = None) -> dict[str, Any]:
    """The ``power`` block of a run.

    Args:
        windows: (start, end) marker names of the measured windows; their span
            is the measured window.
        idle, tail: marker names of the idle baseline before and the idle
            tail after the measured windows.
        whole: the markers bounding the full-run trace.
    """
    if sampler is None or not sampler.logs or not windows:
        return empty_block()
    start, end = sampler.marker(windows[0][0]), sampler.marker(windows[-1][1])
    first, last = sampler.marker(whole[0]), sampler.marker(whole[1])
    sampler.backfill(first.t, last.t)
    meters = []
    for log in sampler.logs.values():
        fig = energy.window(log, start, end, t_ref)
        run_fig = energy.window(log, first, last, t_ref)
        notes: list[str] = []
        fig["trace"] = run_fig["trace"]
        fig["idle_w"] = fig["idle_before_w"] = _idle(sampler, log, idle, t_ref, "before", notes)
        fig["idle_after_w"] = _idle(sampler, log, tail, t_ref, "after", notes)
        fig["notes"] = notes
        series = telemetry.series(energy.select(log, first, last), t_ref)
        if series:
            fig["telemetry"] = series
        meters.append(fig)
    chosen = energy.primary(meters)
    if not chosen:
        return {**empty_block(), "meters": meters, "flags": _flags(meters, []),
                "invalid_reasons": ["no meter gave a figure for the measured window"]}
    trace = _sum_traces([m["trace"] for m in chosen])
    in_window = [w for t, w in trace if start.t - t_ref <= t <= end.t - t_ref]
    invalid = [f"{m['name']}: {r}" for m in chosen for r in m["invalid_reasons"]]
    invalid += [f"{m['name']}: no figure for the measured window, so the components' sum would leave it out"
                for m in energy.missing_components(meters, chosen)]
    block: dict[str, Any] = {
        "avg_w": sum(m["avg_w"] for m in chosen),
        "energy_j": sum(m["energy_j"] for m in chosen),
        "peak_w": max(in_window) if in_window else None,
        "idle_w": _sum_or_none([m["idle_before_w"] for m in chosen]),
        "idle_before_w": _sum_or_none([m["idle_before_w"] for m in chosen]),
        "idle_after_w": _sum_or_none([m["idle_after_w"] for m in chosen]),
        "scope": "+".join(m["scope"] for m in chosen),
        "scope_class": scope_class(chosen),
        "measured": all(m["measured"] for m in chosen),
        "window_s": end.t - start.t,
        "valid_for_sizing": not invalid,
        "invalid_reasons": invalid,
        **crosscheck(meters),
        "meters": meters,
        "trace": trace,
    }
    block["flags"] = _flags(meters, block["crosschecks"])
    block["quality"] = quality(chosen, block)
    return block


def _flags(meters: list[dict[str, Any]], checks: list[dict[str, Any]]) -> list[str]:
    flags = []
    for m in meters:
        if m["gaps"]:
            flags.append(f"{m['name']}: {len(m['gaps'])} gap(s) in the measured window, first: {m['gaps'][0]['reason']}")
        if m["invalid_reasons"]:
            flags.append(f"{m['name']}: refused: {'; '.join(m['invalid_reasons'])}")
    flags += [c["note"] for c in checks if not c["agree"]]
    return flags

"""Energy, average and peak power of one meter over a window between markers.

Counters are differenced; polled power is integrated with the trapezoid
rule. A window with fewer than two readings has no figure (None), never 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.power.meter import Reading
from bench.power.sampler import Marker, MeterLog

# Scopes from widest to narrowest; components are summed when nothing wider was measured.
WIDE_SCOPES = ("wall", "node")


def _trace(readings: list[Reading], t_ref: float) -> list[list[float]]:
    if readings and readings[0].energy_j is not None:
        out = []
        for a, b in zip(readings, readings[1:]):
            dt = b.t - a.t
            if dt > 0:
                out.append([round((a.t + b.t) / 2 - t_ref, 4), (b.energy_j - a.energy_j) / dt])
        return out
    return [[round(r.t - t_ref, 4), r.power_w] for r in readings if r.power_w is not None]


def window(log: MeterLog, start: Marker, end: Marker, t_ref: float) -> dict[str, Any]:
    """Figures of one meter between two markers (inclusive of their readings)."""
    name = log.meter.name
    if log.meter.polled:
        readings = log.readings[start.index.get(name, 0) : end.index.get(name, -1) + 1]
        readings = [r for r in readings if start.t - 1.0 <= r.t <= end.t + 1.0]
    else:  # backfilled: no reading was taken at the markers, select by clock
        readings = [r for r in log.readings if start.t <= r.t <= end.t]
    gaps = [g for g in log.gaps if start.t <= g.t <= end.t]
    fig: dict[str, Any] = {
        **log.meter.describe(),
        "readings": len(readings),
        "energy_j": None,
        "avg_w": None,
        "peak_w": None,
        "duration_s": None,
        "trace": _trace(readings, t_ref),
        "gaps": [{"t": round(g.t - t_ref, 4), "reason": g.reason} for g in gaps],
    }
    if len(readings) < 2:
        return fig
    duration = readings[-1].t - readings[0].t
    if duration <= 0:
        return fig
    if readings[0].energy_j is not None:
        energy = readings[-1].energy_j - readings[0].energy_j
    else:
        t = np.array([r.t for r in readings])
        p = np.array([r.power_w for r in readings], dtype=float)
        energy = float(np.sum((p[1:] + p[:-1]) / 2 * np.diff(t)))
    powers = [w for _, w in fig["trace"]]
    fig.update(
        energy_j=energy,
        avg_w=energy / duration,
        peak_w=max(powers) if powers else None,
        duration_s=duration,
    )
    return fig


def primary(meters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The meters whose sum is the run's power: the widest measured scope.

    Wall, else node, else the sum of measured components (GPUs, CPU packages,
    DRAM), else the modelled estimate.
    """
    usable = [m for m in meters if m["energy_j"] is not None]
    measured = [m for m in usable if m["measured"]]
    for scope in WIDE_SCOPES:
        wide = [m for m in measured if m["scope"] == scope]
        if wide:
            return wide[:1]
    if measured:
        return measured
    return usable[:1]

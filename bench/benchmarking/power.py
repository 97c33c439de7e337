"""Power over a benchmark's timed rounds, for its ``extra_info``.

Meters come from :func:`bench.power.discovery.discover`; a modelled estimate is
kept and marked ``measured: false``, never passed off as a measurement.
"""

from __future__ import annotations

from typing import Any

from bench.power.window import energy
from bench.power.sampler import Sampler

START, END = "benchmark/start", "benchmark/end"


def open_sampler(rate_hz: float = 20.0) -> Sampler | None:
    """A started sampler over every meter that works here, or None when there is none."""
    from bench.power.discovery import discover

    try:
        meters, _ = discover()
    except Exception:  # a broken meter back-end must not fail a benchmark
        return None
    if not meters:
        return None
    sampler = Sampler(meters, rate_hz=rate_hz)
    sampler.start()
    return sampler


def power_info(sampler: Sampler, units: float) -> dict[str, Any] | None:
    """``{"power": ..., "efficiency": ...}`` between the START and END markers, or None."""
    start, end = sampler.marker(START), sampler.marker(END)
    meters = [energy.window(log, start, end, start.t) for log in sampler.logs.values()]
    chosen = energy.primary(meters)
    if not chosen:
        return None
    energy_j = sum(m["energy_j"] for m in chosen)
    measured = all(m["measured"] for m in chosen)
    return {
        "power": {"avg_w": sum(m["avg_w"] for m in chosen), "energy_j": energy_j,
                  "window_s": end.t - start.t, "scope": "+".join(m["scope"] for m in chosen),
                  "measured": measured, "modelled": not measured,
                  "valid": all(m.get("valid", True) for m in chosen),
                  "meters": [{k: m.get(k) for k in ("name", "scope", "method", "measured", "readings")}
                             for m in chosen]},
        "efficiency": {"per_joule": units / energy_j if energy_j > 0 else None},
    }

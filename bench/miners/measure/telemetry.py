"""A miner's telemetry in the layout GPU telemetry has in a result file.

Each poll gives per-board temperatures and chip counts, fan speeds, the hardware-error
count, the firmware's 5 s hash rate and its power figure. In the record they sit on the
meter standing for the miner's API (``miner-api:HOST``), as a GPU's clocks and temperature
sit on its NVML meter (:mod:`bench.power.window.telemetry`):

``telemetry``
    ``{key: [[t, value], ...]}`` over the whole run, ``t`` in seconds from the run's start;
    a point is kept when the value changes (the first and last always), and a series longer than
    :data:`MAX_POINTS` is thinned to that many evenly spaced points, so that a file of a thousand
    miners stays far below the format's 64 MB (the summary below is exact).
``telemetry_summary.series``
    ``{key: {"min", "mean", "max"}}`` over the polls of the measured windows.

Keys: ``hashrate_ths`` (the firmware's 5 s rate in TH/s: a telemetry value stays under 1e12),
``power_w_firmware``, ``hw_errors``, ``board<i>_temp_c``, ``board<i>_chip_temp_c``, ``board<i>_chips``,
``fan<i>_rpm`` (``i`` as the firmware numbers them). The readers find the hottest board or chip by
the ``_temp_c`` ending (:func:`bench.record.miners.max_temperature`).
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.miners.protocol.model import Poll
from bench.record import MinMeanMax, TelemetrySummary

#: The most series one meter may carry in a result file.
MAX_SERIES = 64
#: The most points a series keeps (about 20 bytes each; a miner reports some 15 series).
MAX_POINTS = 50


def values(p: Poll) -> dict[str, float]:
    """The telemetry figures of one poll (a figure the firmware does not report is left out)."""
    rate = p.rates_hs.get("5s", p.rates_hs.get("realtime"))
    out: dict[str, float | int | None] = {
        "hashrate_ths": None if rate is None else rate / 1e12,
        "power_w_firmware": p.power_w, "hw_errors": p.hw_errors,
    }
    for b in p.boards:
        out.update({f"board{b.index}_temp_c": b.temp_board_c, f"board{b.index}_chip_temp_c": b.temp_chip_c,
                    f"board{b.index}_chips": b.chips})
    for i, rpm in enumerate(p.fans_rpm):
        out[f"fan{i}_rpm"] = rpm
    return {k: float(v) for k, v in out.items() if v is not None}


def series(polls: Sequence[Poll], t_ref: float) -> dict[str, list[list[float]]]:
    """Every key's time series (a point on change, the last point always), ``t`` from ``t_ref``."""
    out: dict[str, list[list[float]]] = {}
    last: dict[str, list[float]] = {}
    for p in polls:
        for key, v in values(p).items():
            pt = [round(p.t - t_ref, 4), v]
            if key not in out:
                if len(out) >= MAX_SERIES:
                    continue
                out[key] = [pt]
            elif out[key][-1][1] != v:
                if last[key] is not out[key][-1]:
                    out[key].append(last[key])  # the value held until here: a step, not a ramp
                out[key].append(pt)
            last[key] = pt
    for key, pts in out.items():
        if last[key] is not pts[-1]:
            pts.append(last[key])
        if len(pts) > MAX_POINTS:
            out[key] = [pts[round(i * (len(pts) - 1) / (MAX_POINTS - 1))] for i in range(MAX_POINTS)]
    return out


def summary(polls: Sequence[Poll]) -> TelemetrySummary | None:
    """Min/mean/max of every key over ``polls`` (the measured windows'); None without any figure."""
    seen: dict[str, list[float]] = {}
    for p in polls:
        for key, v in values(p).items():
            seen.setdefault(key, []).append(v)
    if not seen:
        return None
    keys = list(seen)[:MAX_SERIES]
    return TelemetrySummary(series={k: MinMeanMax(min=min(seen[k]), mean=sum(seen[k]) / len(seen[k]),
                                                  max=max(seen[k])) for k in keys})

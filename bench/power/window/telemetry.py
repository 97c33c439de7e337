"""Device telemetry recorded beside power (GPU clocks, temperature, throttle reasons).

A meter puts these keys in :attr:`Reading.extra`; the result file carries them
per meter in one layout that the report and fleet verdicts read:

``meter["telemetry"]``
    ``{key: [[t, value], ...]}`` over the whole run, ``t`` in seconds from the
    run's start, for every numeric key in :data:`SERIES_KEYS`.
``meter["telemetry_summary"]``
    over the measured window: ``"series": {key: {"min", "mean", "max"}}`` for the
    same keys, ``"throttle_reasons": {name: fraction of readings}`` and
    ``"throttled": bool`` (a reason outside :data:`BENIGN_REASONS` was active).
"""

from __future__ import annotations

from bench.power.meter import Reading
from bench.power.plausible import MAX_TELEMETRY
from bench.record.power import MinMeanMax, TelemetrySummary

#: Numeric extras kept as time series.
SERIES_KEYS = ("sm_clock_mhz", "mem_clock_mhz", "temperature_c", "memory_temperature_c", "gpu_power_w")
#: The extra holding the list of active throttle (clock event) reason names.
REASONS_KEY = "throttle_reasons"
#: Reasons that are not throttling: idle, a clock set by the user or the display, and the GPU holding
#: its power limit (``sw_power_cap``), which is how a power-bound GPU such as an H100 runs at full
#: load; thermal and hardware slowdowns remain throttling.
BENIGN_REASONS = frozenset({"gpu_idle", "applications_clocks_setting", "display_clock_setting", "sw_power_cap"})
#: Telemetry series keep at most one point per this many seconds.
MIN_SPACING_S = 0.5


def _number(value: object) -> bool:
    """True for a telemetry value the record can hold (a reading's screen keeps only those; a log filled by
    hand may hold others, which are left out here rather than refused by the record)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and -MAX_TELEMETRY <= value <= MAX_TELEMETRY)


def series(readings: list[Reading], t_ref: float) -> dict[str, list[list[float]]]:
    """The telemetry time series of ``readings`` (empty when the meter records none).

    To keep result files small a point is kept only when the value changed and
    :data:`MIN_SPACING_S` passed since the last kept one (the first and last
    points always); ``telemetry_summary`` holds the exact min/mean/max.
    """
    out: dict[str, list[list[float]]] = {}
    for key in SERIES_KEYS:
        pts = [[round(r.t - t_ref, 4), float(r.extra[key])] for r in readings if _number(r.extra.get(key))]
        if not pts:
            continue
        kept = [pts[0]]
        for pt in pts[1:-1]:
            if pt[1] != kept[-1][1] and pt[0] - kept[-1][0] >= MIN_SPACING_S:
                kept.append(pt)
        if len(pts) > 1:
            kept.append(pts[-1])
        out[key] = kept
    return out


def summary(readings: list[Reading]) -> TelemetrySummary | None:
    """Min/mean/max per series key and throttle reasons over ``readings``; None when none recorded."""
    series: dict[str, MinMeanMax] = {}
    for key in SERIES_KEYS:
        values = [float(r.extra[key]) for r in readings if _number(r.extra.get(key))]
        if values:
            series[key] = MinMeanMax(min=min(values), mean=sum(values) / len(values), max=max(values))
    with_reasons = [r.extra[REASONS_KEY] for r in readings if isinstance(r.extra.get(REASONS_KEY), list)]
    reasons: dict[str, float] = {}
    if with_reasons:
        counts: dict[str, int] = {}
        for names in with_reasons:
            for name in names:
                counts[name] = counts.get(name, 0) + 1
        reasons = {k: v / len(with_reasons) for k, v in sorted(counts.items())}
    if not series and not with_reasons:
        return None
    return TelemetrySummary(series=series, throttle_reasons=reasons,
                            throttled=any(k not in BENIGN_REASONS for k in reasons))

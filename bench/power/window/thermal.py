"""A run's ``thermal`` block (:mod:`bench.record.thermal`): every temperature channel and throttle per window.

Channels come from three places, all timed by ``time.monotonic()`` like the power readings:

- power meters that read temperatures with power (NVML: a GPU's core and memory temperature and its
  clock-event reasons), listed in the meter's ``thermal_channels`` (:class:`~bench.power.thermal.source.MeterChannel`)
  and read from ``Reading.extra`` in the sampler's logs;
- the temperature sources polled beside the sampler (``sampler.thermal``: hwmon, a BMC, a PDU's probe);
- a front end's own points (a miner's polls), through :func:`channel` directly.

A window is ``[start, end)`` of its ``window-N`` phase; a reading at the boundary of two windows belongs
to the later one, as the derating fit counts them. A window without a reading of its own holds the last
reading before it when that is at most :data:`~bench.record.thermal.HOLD_PERIODS` periods old.
Throttled time is sample-and-hold: each reading's reasons hold until the next reading.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bench.power.sampler import Sampler
from bench.power.thermal.sampler import ThermalLog
from bench.power.thermal.source import Channel, ThermalSource
from bench.power.window.telemetry import BENIGN_REASONS, REASONS_KEY
from bench.record import Phase
from bench.record.power import MinMeanMax
from bench.record.thermal import (
    HOLD_PERIODS,
    MAX_CHANNELS,
    MAX_SERIES_POINTS,
    ChannelWindow,
    Role,
    SourceKind,
    Thermal,
    ThermalChannel,
    ThermalUnit,
    Throttle,
    ThrottleWindow,
)

#: Meter kinds whose readings carry clock-event reasons the record knows (:data:`~bench.record.thermal.SourceKind`).
REASON_SOURCES: dict[str, SourceKind] = {"nvml": "nvml"}
Bounds = list[tuple[float, float]]


@dataclass(frozen=True)
class Info:
    """What a channel is, before its readings: the record's fields other than the figures."""

    name: str
    source: SourceKind
    device: str
    role: Role
    unit: ThermalUnit
    sensor: str = ""
    period_s: float | None = None
    thresholds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, source: ThermalSource, c: Channel) -> Info:
        """A polled source's channel."""
        return cls(c.name, source.kind, c.device, c.role, c.unit, c.sensor, source.period_s, dict(c.thresholds))


def window_bounds(phases: Sequence[Phase], t_ref: float) -> Bounds:
    """The measured windows (``window-N`` phases, in order) as ``time.monotonic()`` spans."""
    return [(t_ref + p.start, t_ref + p.end) for p in phases if p.name.startswith("window-")]


def _stats(values: list[float]) -> MinMeanMax:
    return MinMeanMax(min=min(values), mean=sum(values) / len(values), max=max(values))


def _slices(times: Sequence[float], bounds: Bounds) -> list[tuple[int, int]]:
    """For each window ``[a, b)`` the index range of the (time-ordered) readings inside it, by bisection."""
    return [(bisect.bisect_left(times, a), bisect.bisect_left(times, b)) for a, b in bounds]


def _per_window(points: Sequence[tuple[float, float]], bounds: Bounds, period_s: float | None) -> list[ChannelWindow | None]:
    times = [t for t, _ in points]
    out: list[ChannelWindow | None] = []
    for (a, _), (lo, hi) in zip(bounds, _slices(times, bounds)):
        inside = [v for _, v in points[lo:hi]]
        if inside:
            s = _stats(inside)
            out.append(ChannelWindow(min=s.min, mean=s.mean, max=s.max, readings=len(inside)))
            continue
        last = points[lo - 1] if lo > 0 else None
        fresh = period_s is not None and last is not None and a - last[0] <= HOLD_PERIODS * period_s
        out.append(ChannelWindow(min=last[1], mean=last[1], max=last[1], readings=0, held=True)
                   if fresh and last is not None else None)
    return out


def _series(points: Sequence[tuple[float, float]], t_ref: float, limit: int) -> list[list[float]]:
    """A point where the value changes (the first and last always), at most ``limit`` evenly spaced."""
    if limit <= 0:
        return []
    kept: list[list[float]] = []
    for i, (t, v) in enumerate(points):
        if not kept or v != kept[-1][1] or i == len(points) - 1:
            kept.append([round(t - t_ref, 4), float(v)])
    if len(kept) > limit:
        kept = [kept[round(i * (len(kept) - 1) / (limit - 1))] for i in range(limit)] if limit > 1 else kept[-1:]
    return kept


def channel(info: Info, points: Sequence[tuple[float, float]], bounds: Bounds, t_ref: float,
            gaps: Sequence[tuple[float, str]] = (), since: float | None = None,
            series_points: int = MAX_SERIES_POINTS) -> ThermalChannel:
    """One channel's record from its ``(t, value)`` points (time order) over the windows ``bounds``.

    ``since`` (default ``t_ref``) starts the series kept for plots, of at most ``series_points`` points (0: none,
    where a file holds thousands of runs); ``gaps`` count when inside the windows.
    """
    start = since if since is not None else t_ref
    times = [t for t, _ in points]
    inside = [v for lo_i, hi_i in _slices(times, bounds) for _, v in points[lo_i:hi_i]]
    lo, hi = (bounds[0][0], bounds[-1][1]) if bounds else (t_ref, t_ref)
    missed = [reason for t, reason in gaps if lo <= t <= hi]
    return ThermalChannel(
        name=info.name[:200], source=info.source, device=info.device[:200], role=info.role, unit=info.unit,
        sensor=info.sensor[:2000], period_s=info.period_s if info.period_s and info.period_s > 0 else None,
        windows=_per_window(points, bounds, info.period_s), summary=_stats(inside) if inside else None,
        thresholds={k[:200]: v for k, v in list(info.thresholds.items())[:16]}, gaps=len(missed),
        gap_reason=missed[0][:2000] if missed else "",
        series=_series([(t, v) for t, v in points if t >= start], t_ref, min(series_points, MAX_SERIES_POINTS)),
    )


def throttle(device: str, source: SourceKind, samples: Sequence[tuple[float, list[str]]], bounds: Bounds,
             period_s: float | None = None) -> Throttle:
    """One device's clock-event reasons per window, sample-and-hold (each reading's until the next)."""
    times = [t for t, _ in samples]
    windows: list[ThrottleWindow | None] = []
    total: dict[str, float] = {}
    throttled_total = span_total = 0.0
    for a, b in bounds:
        reasons: dict[str, float] = {}
        throttled = covered = 0.0
        for i in range(max(0, bisect.bisect_right(times, a) - 1), len(samples)):
            t, names = samples[i]
            if t >= b:
                break
            until = samples[i + 1][0] if i + 1 < len(samples) else b
            lo, hi = max(t, a), min(until, b)
            if hi <= lo:
                continue
            covered += hi - lo
            for name in names:
                reasons[name] = reasons.get(name, 0.0) + (hi - lo)
            if any(n not in BENIGN_REASONS for n in names):
                throttled += hi - lo
        if covered <= 0:
            windows.append(None)
            continue
        span = b - a
        windows.append(ThrottleWindow(seconds=throttled, fraction=min(1.0, throttled / span) if span > 0 else 0.0,
                                      reasons={k[:200]: v for k, v in sorted(reasons.items())[:64]}))
        throttled_total += throttled
        span_total += span
        for k, v in reasons.items():
            total[k] = total.get(k, 0.0) + v
    how = ("clock-event reasons polled with the power readings" + (f" every {period_s:.3g} s" if period_s else "")
           + "; each reading's reasons held until the next; throttled: any reason but "
           + ", ".join(sorted(BENIGN_REASONS)))
    return Throttle(device=device[:200], source=source, method=how, windows=windows, seconds=throttled_total,
                    fraction=min(1.0, throttled_total / span_total) if span_total > 0 else 0.0,
                    reasons={k[:200]: v for k, v in sorted(total.items())[:64]})


def _meter_channels(sampler: Sampler, bounds: Bounds, t_ref: float) -> tuple[list[ThermalChannel], list[Throttle]]:
    channels: list[ThermalChannel] = []
    throttles: list[Throttle] = []
    for log in sampler.logs.values():
        meter = log.meter
        source = REASON_SOURCES.get(meter.kind)
        gaps = [(g.t, g.reason) for g in log.gaps]
        for mc in getattr(meter, "thermal_channels", ()):
            points = [(r.t, float(r.extra[mc.extra])) for r in log.readings
                      if isinstance(r.extra.get(mc.extra), (int, float)) and not isinstance(r.extra.get(mc.extra), bool)]
            if not points or source is None:
                continue
            info = Info(f"{meter.scope}.{mc.key}", source, meter.scope, mc.role, mc.unit, mc.sensor,
                        sampler.period_s, dict(mc.thresholds))
            channels.append(channel(info, points, bounds, t_ref, gaps))
        samples = [(r.t, [str(n) for n in r.extra[REASONS_KEY]]) for r in log.readings
                   if isinstance(r.extra.get(REASONS_KEY), list)]
        if samples and source is not None:
            throttles.append(throttle(meter.scope, source, samples, bounds, sampler.period_s))
    return channels, throttles


def run_thermal(sampler: Sampler | None, t_ref: float, phases: Sequence[Phase],
                windows: Sequence[tuple[str, str]] = ()) -> Thermal | None:
    """The ``thermal`` block of a run measured with ``sampler`` (None when nothing was read).

    ``windows`` names the sampler's markers bounding each measured window, whose exact times are used
    (the phases' times are rounded to 0.1 ms); without them the ``window-N`` phases bound the windows.
    """
    if sampler is None:
        return None
    try:
        bounds = [(sampler.marker(a).t, sampler.marker(b).t) for a, b in windows]
    except KeyError:
        bounds = []
    bounds = bounds or window_bounds(phases, t_ref)
    channels, throttles = _meter_channels(sampler, bounds, t_ref)
    notes: list[str] = []
    if sampler.thermal is not None:
        more, notes = polled_channels(sampler.thermal.snapshot(), bounds, t_ref)
        channels += more
    return block(channels, throttles, notes)


def polled_channels(logs: Mapping[str, ThermalLog], bounds: Bounds, t_ref: float,
                    series_points: int = MAX_SERIES_POINTS) -> tuple[list[ThermalChannel], list[str]]:
    """The channels of polled temperature sources (a :meth:`~bench.power.thermal.sampler.ThermalSampler.snapshot`)
    over the windows ``bounds``, in the sources' order, and the sources' notes; a channel never read and
    without a gap is left out."""
    channels: list[ThermalChannel] = []
    for log in logs.values():
        for c in log.source.channels:
            points = log.points(c.name)
            if points or log.gaps:
                channels.append(channel(Info.of(log.source, c), points, bounds, t_ref, log.gaps, series_points=series_points))
    return channels, [n[:2000] for log in logs.values() for n in log.source.notes]


def block(channels: list[ThermalChannel], throttles: list[Throttle], notes: list[str] | None = None) -> Thermal | None:
    """The ``thermal`` block of these channels (at most :data:`MAX_CHANNELS`, a note when more); None when empty."""
    notes = list(notes or [])
    if not channels and not throttles:
        return None
    if len(channels) > MAX_CHANNELS:
        notes.append(f"{len(channels)} channels read; the first {MAX_CHANNELS} kept")
        channels = channels[:MAX_CHANNELS]
    return Thermal(channels=channels, throttle=throttles[:64], notes=notes[:1000])

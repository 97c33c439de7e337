"""Report plots drawn with matplotlib's Agg backend and returned as inline SVG text.

Every function returns an ``<svg>`` string (no external fonts or images) or
None when the data to draw is absent.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

from bench import units
from bench.plotting import (
    DECLARED_COLOUR,
    MODELLED_COLOUR,
    PALETTE,
    label,
    log_axis,
    plain_ticks,
    plt,
    short_unit,
    si_scale,
    svg,
    wants_log,
)
from bench.record import Phase, Run
from bench.sizing.frontier import Envelope, Point
from bench.sizing.model import Sized

PHASE_COLOURS = {"idle": "#d9d9d9", "setup": "#fde9c9", "verify": "#fde9c9", "warmup": "#ffd59e",
                 "measured": "#cfe8cf", "tail": "#e6e6e6"}


def phase_kind(name: str) -> str:
    """``window-3`` -> ``measured``; other phase names as they are."""
    return "measured" if str(name).startswith("window") else str(name)


def _shade(ax: Any, phases: list[Phase], show_label: bool) -> None:
    seen: set[str] = set()
    for ph in phases:
        kind = phase_kind(ph.name)
        ax.axvspan(ph.start, ph.end, color=PHASE_COLOURS.get(kind, "#eeeeee"), alpha=0.7, lw=0,
                   label=kind if show_label and kind not in seen else None)
        seen.add(kind)


#: Telemetry series drawn per run, and per panel; a miner reports some 16, a GPU 4 per meter.
MAX_SERIES = 32
MAX_PER_PANEL = 12
#: Telemetry panels by what the series measures, told by the key's suffix (``board0_temp_c``, ``fan1_rpm``,
#: ``sm_clock_mhz``): each quantity gets its own axis, so 6000 rpm fans do not flatten 70 °C temperatures.
#: Power (``gpu_power_w``, ``power_w_firmware``) is drawn dashed on the power panel, in the same W.
QUANTITIES = (("temperature", "°C"), ("fan", "fan rpm"), ("clock", "MHz"), ("other", "other"))


def quantity(key: str) -> str:
    """``temperature``, ``fan``, ``clock``, ``power`` or ``other``: which axis a telemetry key is drawn on."""
    k = key.lower()
    if k.endswith("_rpm") or k.startswith("fan"):
        return "fan"
    if k.endswith(("_c", "_temp", "_celsius")) or "temp" in k:
        return "temperature"
    if k.endswith("_mhz"):
        return "clock"
    if k.endswith("_w") or "power_w" in k:
        return "power"
    return "other"


def _telemetry(run: Run) -> list[tuple[str, str, list[list[float]]]]:
    """``(label, key, points)`` of every recorded telemetry series, at most :data:`MAX_SERIES`; the label
    names the meter only when several meters carry telemetry."""
    found = [(m.name, key, pts) for m in run.power.meters[:16] for key, pts in m.telemetry.items() if pts]
    several = len({name for name, _, _ in found}) > 1
    return [(label(f"{name} {key}" if several else key), key, thin(pts)) for name, key, pts in found[:MAX_SERIES]]


def telemetry_series(run: Run) -> dict[str, list[list[float]]]:
    """GPU clocks, temperature, a miner's fans and the like where recorded: ``{label: [[t, value], ...]}``."""
    return {name: pts for name, _, pts in _telemetry(run)}


def telemetry_groups(run: Run) -> list[tuple[str, dict[str, list[list[float]]]]]:
    """The telemetry split by quantity: ``[(axis label, {label: points})]`` for each of :data:`QUANTITIES`
    recorded (power, drawn on the power panel, is not among them)."""
    by: dict[str, dict[str, list[list[float]]]] = {}
    for name, key, pts in _telemetry(run):
        group = by.setdefault(quantity(key), {})
        if len(group) < MAX_PER_PANEL:
            group[name] = pts
    return [(axis, by[q]) for q, axis in QUANTITIES if by.get(q)]


def _legend_right(ax: Any, count: int) -> None:
    if count:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
                  ncol=1 if count <= 7 else 2, borderaxespad=0)


def run_timeline(run: Run) -> str | None:
    """Power per meter over time with phases shaded, throughput per window, and telemetry one quantity per panel."""
    power = run.power
    meters = [(label(m.name), thin(m.trace)) for m in power.meters[:16] if m.trace]
    total = thin(power.trace)
    windows = run.windows
    samples = run.throughput.samples
    groups = telemetry_groups(run)
    watts = [(name, tp) for name, key, tp in _telemetry(run) if quantity(key) == "power"][:MAX_PER_PANEL]
    if not meters and not total and not samples:
        return None
    pyplot = plt()
    rows = 2 + len(groups)
    fig, axes = pyplot.subplots(rows, 1, figsize=(8.6, 1.5 * rows + 1.4), sharex=True, layout="constrained",
                                gridspec_kw={"height_ratios": [2] + [1] * (rows - 1)})
    ax = axes[0]
    _shade(ax, run.phases, show_label=True)
    for i, (name, trace) in enumerate(meters):
        ax.plot([t for t, _ in trace], [w for _, w in trace], lw=1.1, color=PALETTE[i % len(PALETTE)], label=name)
    if total and len(meters) != 1:
        ax.plot([t for t, _ in total], [w for _, w in total], lw=1.4, color="black", label="total")
    for i, (name, tp) in enumerate(watts):
        ax.plot([t for t, _ in tp], [v for _, v in tp], lw=1, ls="--", color=PALETTE[(i + 3) % len(PALETTE)],
                label=name)
    if not meters and not total:
        ax.text(0.5, 0.5, "no power recorded", transform=ax.transAxes, ha="center", va="center", color="#888")
    ax.set_ylabel("W")
    ax.legend(loc="lower left", fontsize=7, ncol=6, frameon=False, bbox_to_anchor=(0, 1.02), borderaxespad=0)
    ax = axes[1]
    _shade(ax, run.phases, show_label=False)
    pts = list(zip(windows, samples))[:500]
    if pts:
        scale, prefix = si_scale([s for _, s in pts])
        for w, s in pts:
            ax.hlines(s / scale, w.start, w.end, color=PALETTE[0], lw=2.2)
        ax.plot([(w.start + w.end) / 2 for w, _ in pts], [s / scale for _, s in pts], "o", color=PALETTE[0], ms=3)
        ax.set_ylim(bottom=0)
        ax.set_ylabel(f"{prefix}{short_unit(run.unit)}/s")
    else:
        ax.text(0.5, 0.5, "no per-window throughput", transform=ax.transAxes, ha="center", va="center", color="#888")
    for ax, (axis, series) in zip(axes[2:], groups):
        for i, (name, tp) in enumerate(series.items()):
            ax.plot([t for t, _ in tp], [v for _, v in tp], lw=1, color=PALETTE[(i + 2) % len(PALETTE)], label=name)
        ax.set_ylabel(axis)
        _legend_right(ax, len(series))
    axes[-1].set_xlabel("seconds since the run started")
    fig.align_ylabels(axes)
    return svg(fig)


def efficiency_value(per_joule: float, unit: str) -> tuple[float, str, bool]:
    """A per-joule figure in the unit people quote; the flag is True when lower is better."""
    if unit == "hash":
        return 1e12 / per_joule, "J/TH", True
    if unit == "token":
        return 1.0 / per_joule, "J/token", True
    return per_joule, f"{unit}/J", False


def _colour(s: Sized) -> str:
    return DECLARED_COLOUR if s.source == "declared" else MODELLED_COLOUR if s.modelled else PALETTE[0]


#: At most this many panels (workloads) and bars per panel: a file of a thousand runs is drawn in bounded time.
MAX_PANELS = 6
MAX_BARS = 30
#: Points per series on a timeline; longer traces are thinned (min and max of each stretch kept).
MAX_POINTS = 2000


def thin(points: list[list[float]], limit: int = MAX_POINTS) -> list[list[float]]:
    """At most ``limit`` points that keep each stretch's lowest and highest reading (peaks stay visible)."""
    if len(points) <= limit:
        return points
    step = 2 * len(points) // limit + 1
    out: list[list[float]] = []
    for i in range(0, len(points), step):
        chunk = points[i:i + step]
        lo, hi = min(chunk, key=lambda p: p[1]), max(chunk, key=lambda p: p[1])
        out.extend(sorted([lo, hi], key=lambda p: p[0]) if lo is not hi else [lo])
    return out


def _panels(rows: list[tuple[str, Sized]]) -> tuple[Any, list[tuple[Any, str, list[tuple[str, Sized]]]]]:
    """One panel per workload, stacked (full width each, so titles and long names never collide), each as tall
    as its bars; constrained layout keeps titles and tick labels clear of the next panel."""
    pyplot = plt()
    workloads = list(dict.fromkeys(s.workload for _, s in rows))[:MAX_PANELS]
    groups = [[(n, s) for n, s in rows if s.workload == wl][:MAX_BARS] for wl in workloads]
    per_bar = min(0.32, 24.0 / sum(len(g) for g in groups))
    heights = [0.7 + per_bar * len(g) for g in groups]
    fig, axes = pyplot.subplots(len(groups), 1, figsize=(8.6, sum(heights)), squeeze=False, layout="constrained",
                                gridspec_kw={"height_ratios": heights})
    fig.get_layout_engine().set(h_pad=0.08)
    return fig, [(ax, wl, g) for ax, wl, g in zip(axes[:, 0], workloads, groups)]


def _title(ax: Any, text: str) -> None:
    ax.set_title(textwrap.fill(text, 100), fontsize=9, loc="left")


def _bars(ax: Any, mine: list[tuple[str, Sized]], vals: list[float], lows: list[float], highs: list[float],
          text: list[str]) -> bool:
    """Horizontal bars with whiskers from ``lows`` to ``highs`` and each figure written at its end, on a log axis
    when the values span more than :data:`bench.plotting.LOG_DECADES` decades; True when the axis is log."""
    y = list(range(len(mine)))
    lows = [min(lo, v) for lo, v in zip(lows, vals)]
    highs = [max(hi, v) for hi, v in zip(highs, vals)]
    top = max(highs + vals, default=0.0) or 1.0
    log = wants_log(vals)
    if log:
        floor = 10.0 ** math.floor(math.log10(min(v for v in vals if v > 0)) - 0.05)  # the shortest bar shows
        lows = [max(lo, floor) for lo in lows]
        ax.barh(y, [max(v - floor, 0.0) for v in vals], left=floor, height=0.6, color=[_colour(s) for _, s in mine])
        log_axis(ax, "x")
        ax.set_xlim(floor, top * max((top / floor) ** 0.12, 2.0))
    else:
        ax.barh(y, vals, height=0.6, color=[_colour(s) for _, s in mine])
        ax.set_xlim(0, top * 1.22)
        plain_ticks(ax, "x")
    ax.errorbar(vals, y, xerr=[[v - lo for v, lo in zip(vals, lows)], [hi - v for v, hi in zip(vals, highs)]],
                fmt="none", ecolor="black", elinewidth=1, capsize=3)
    for yi, hi, t in zip(y, highs, text):
        ax.annotate(t, (hi, yi), xytext=(4, 0), textcoords="offset points", va="center", fontsize=7.5)
    ax.set_yticks(y, [label(n) for n, _ in mine], fontsize=8)
    ax.set_ylim(len(mine) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    return log


def _figure(v: float) -> str:
    return f"{v:,.0f}" if v >= 1000 else f"{v:.3g}"


def efficiency_bars(rows: list[tuple[str, Sized]]) -> str | None:
    """Efficiency per hardware option (the sizing model's), one panel per workload, with its bounds.

    Bars are the machine-level efficiency (with any node overhead) in the unit people quote, on a log axis
    where one panel's figures span more than :data:`bench.plotting.LOG_DECADES` decades (a CPU beside ASICs).
    """
    if not rows:
        return None
    fig, panels = _panels(rows)
    for ax, wl, mine in panels:
        vals: list[float] = []
        lows: list[float] = []
        highs: list[float] = []
        unit_label = ""
        for _, s in mine:
            v, unit_label, _ = efficiency_value(s.machine_efficiency, s.unit)
            a = efficiency_value(s.machine_efficiency_low, s.unit)[0] if s.machine_efficiency_low else v
            b = efficiency_value(s.machine_efficiency_high, s.unit)[0] if s.machine_efficiency_high else v
            vals.append(v)
            lows.append(min(a, b))
            highs.append(max(a, b))
        log = _bars(ax, mine, vals, lows, highs, [f"{_figure(v)} {unit_label}" for v in vals])
        better = "lower is better" if efficiency_value(1.0, mine[0][1].unit)[2] else "higher is better"
        _title(ax, f"{label(wl)}: {unit_label}, {better}" + (" (log scale)" if log else ""))
    return svg(fig)


def sizing_bars(rows: list[tuple[str, Sized]]) -> str | None:
    """Throughput the allocation buys per hardware option, one panel per workload, with its bounds (log axis as
    :func:`efficiency_bars`)."""
    if not rows:
        return None
    fig, panels = _panels(rows)
    for ax, wl, mine in panels:
        scale, prefix = si_scale([s.throughput_high for _, s in mine])
        vals = [s.throughput / scale for _, s in mine]
        log = _bars(ax, mine, vals, [s.throughput_low / scale for _, s in mine],
                    [s.throughput_high / scale for _, s in mine], [units.rate(s.throughput, s.unit) for _, s in mine])
        first = mine[0][1]
        _title(ax, f"{label(wl)}: {prefix}{short_unit(first.unit)}/s from {first.mw:g} MW at PUE {first.pue:g}"
               + (" (log scale)" if log else ""))
    return svg(fig)


def envelope_plot(env: Envelope, chosen: Point | None = None) -> str | None:
    """One operating envelope: throughput against power and energy per unit against power, per machine, each point
    with its bounds as error bars, the Pareto frontier joined and marked, the stock and chosen points labelled."""
    points = list(env.points[:MAX_BARS * 4])
    if not points:
        return None
    pyplot = plt()
    fig, (left, right) = pyplot.subplots(1, 2, figsize=(8.6, 3.4), layout="constrained")
    colour = DECLARED_COLOUR if env.declared else PALETTE[0]
    power = [p.power_w for p in points]
    perr = [[p.power_w - p.sized.power_w_per_machine_low for p in points],
            [p.sized.power_w_per_machine_high - p.power_w for p in points]]
    scale, prefix = si_scale([p.throughput_high for p in points])
    thr = [p.throughput / scale for p in points]
    terr = [[(p.throughput - p.throughput_low) / scale for p in points],
            [(p.throughput_high - p.throughput) / scale for p in points]]
    eff = [efficiency_value(p.sized.machine_efficiency, env.unit) for p in points]
    lo = [efficiency_value(p.sized.machine_efficiency_low, env.unit)[0] for p in points]
    hi = [efficiency_value(p.sized.machine_efficiency_high, env.unit)[0] for p in points]
    e_val = [v for v, _, _ in eff]
    e_err = [[max(v - min(a, b), 0.0) for v, a, b in zip(e_val, lo, hi)],
             [max(max(a, b) - v, 0.0) for v, a, b in zip(e_val, lo, hi)]]
    front = [i for i, p in enumerate(points) if p.on_frontier]
    for ax, ys, yerr in ((left, thr, terr), (right, e_val, e_err)):
        ax.errorbar(power, ys, xerr=perr, yerr=yerr, fmt="o", color=colour, ecolor="#999999", elinewidth=1,
                    capsize=2, ms=4, label="measured point" if not env.declared else "declared point")
        ax.plot([power[i] for i in front], [ys[i] for i in front], "-", color=PALETTE[1], lw=1.2,
                label="Pareto frontier")
        ax.plot([power[i] for i in front], [ys[i] for i in front], "o", mfc="none", mec=PALETTE[1], ms=9)
        for i, p in enumerate(points):
            tags = (["stock"] if p.setting.stock else []) + (["chosen"] if p is chosen else [])
            if tags:
                ax.annotate(f"{p.label.replace(' (stock)', '')}: {', '.join(tags)}", (power[i], ys[i]),
                            xytext=(6, 6), textcoords="offset points", fontsize=7.5)
        ax.set_xlabel("W per machine")
        plain_ticks(ax, "x")
    left.set_ylabel(f"{prefix}{short_unit(env.unit)}/s per machine")
    unit_label, lower = eff[0][1], eff[0][2]
    right.set_ylabel(f"{unit_label} ({'lower' if lower else 'higher'} is better)")
    left.legend(fontsize=7, frameon=False, loc="lower right")
    fig.suptitle(label(env.title) + (" (DECLARED)" if env.declared else ""), fontsize=9, x=0.01, ha="left")
    return svg(fig)

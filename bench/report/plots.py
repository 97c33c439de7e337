"""Report plots drawn with matplotlib's Agg backend and returned as inline SVG text.

Every function returns an ``<svg>`` string (no external fonts or images) or
None when the data to draw is absent.
"""

from __future__ import annotations

from typing import Any

from bench.plotting import DECLARED_COLOUR, MODELLED_COLOUR, PALETTE, label, plt, short_unit, si_scale, svg
from bench.record import Phase, Run
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


def telemetry_series(run: Run) -> dict[str, list[list[float]]]:
    """GPU clocks, temperature and the like where recorded: ``{label: [[t, value], ...]}``."""
    series = {label(f"{m.name} {key}"): thin(pts) for m in run.power.meters[:16] for key, pts in m.telemetry.items()
              if pts}
    return dict(list(series.items())[:12])


def run_timeline(run: Run) -> str | None:
    """Power per meter over time with phases shaded, throughput per window, and telemetry."""
    power = run.power
    meters = [(label(m.name), thin(m.trace)) for m in power.meters[:16] if m.trace]
    total = thin(power.trace)
    windows = run.windows
    samples = run.throughput.samples
    tele = telemetry_series(run)
    if not meters and not total and not samples:
        return None
    pyplot = plt()
    rows = 2 + (1 if tele else 0)
    fig, axes = pyplot.subplots(rows, 1, figsize=(8.6, 1.9 * rows + 0.6), sharex=True,
                                gridspec_kw={"height_ratios": [2] + [1] * (rows - 1)})
    ax = axes[0]
    _shade(ax, run.phases, show_label=True)
    for i, (name, trace) in enumerate(meters):
        ax.plot([t for t, _ in trace], [w for _, w in trace], lw=1.1, color=PALETTE[i % len(PALETTE)], label=name)
    if total and len(meters) != 1:
        ax.plot([t for t, _ in total], [w for _, w in total], lw=1.4, color="black", label="total")
    if not meters and not total:
        ax.text(0.5, 0.5, "no power recorded", transform=ax.transAxes, ha="center", va="center", color="#888")
    ax.set_ylabel("W")
    ax.legend(loc="upper left", fontsize=7, ncol=6, frameon=False, bbox_to_anchor=(0, 1.22))
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
    if tele:
        ax = axes[2]
        for i, (name, tp) in enumerate(tele.items()):
            ax.plot([t for t, _ in tp], [v for _, v in tp], lw=1, color=PALETTE[(i + 2) % len(PALETTE)], label=name)
        ax.legend(loc="upper left", fontsize=7, ncol=4, frameon=False)
        ax.set_ylabel("telemetry")
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
    pyplot = plt()
    workloads = list(dict.fromkeys(s.workload for _, s in rows))[:MAX_PANELS]
    rows = [(n, s) for n, s in rows if s.workload in workloads]
    tallest = min(MAX_BARS, max(sum(1 for _, s in rows if s.workload == w) for w in workloads))
    fig, axes = pyplot.subplots(1, len(workloads), figsize=(min(4.3 * len(workloads), 9.5), 1.3 + 0.42 * tallest),
                                squeeze=False)
    return fig, [(ax, wl, [(n, s) for n, s in rows if s.workload == wl][:MAX_BARS])
                 for ax, wl in zip(axes[0], workloads)]


def efficiency_bars(rows: list[tuple[str, Sized]]) -> str | None:
    """Efficiency per hardware option (the sizing model's), one panel per workload, with its bounds.

    Bars are the machine-level efficiency (with any node overhead) in the unit people quote.
    """
    if not rows:
        return None
    fig, panels = _panels(rows)
    for ax, wl, mine in panels:
        vals: list[float] = []
        errs: list[list[float]] = [[], []]
        unit_label = ""
        for _, s in mine:
            v, unit_label, _ = efficiency_value(s.machine_efficiency, s.unit)
            lo = efficiency_value(s.machine_efficiency_low, s.unit)[0]
            hi = efficiency_value(s.machine_efficiency_high, s.unit)[0]
            vals.append(v)
            errs[0].append(max(v - min(lo, hi), 0.0))
            errs[1].append(max(max(lo, hi) - v, 0.0))
        y = list(range(len(mine)))
        ax.barh(y, vals, xerr=errs, color=[_colour(s) for _, s in mine], capsize=3, height=0.6)
        ax.set_yticks(y, [label(n) for n, _ in mine], fontsize=8)
        ax.invert_yaxis()
        better = "lower is better" if efficiency_value(1.0, mine[0][1].unit)[2] else "higher is better"
        ax.set_title(f"{label(wl)}: {unit_label} ({better})", fontsize=9, loc="left")
        ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return svg(fig)


def sizing_bars(rows: list[tuple[str, Sized]]) -> str | None:
    """Throughput the allocation buys per hardware option, one panel per workload, with its bounds."""
    if not rows:
        return None
    fig, panels = _panels(rows)
    for ax, wl, mine in panels:
        scale, prefix = si_scale([s.throughput_high for _, s in mine])
        y = list(range(len(mine)))
        vals = [s.throughput / scale for _, s in mine]
        ax.barh(y, vals, height=0.6, color=[_colour(s) for _, s in mine], capsize=3,
                xerr=[[max(v - s.throughput_low / scale, 0) for v, (_, s) in zip(vals, mine)],
                      [max(s.throughput_high / scale - v, 0) for v, (_, s) in zip(vals, mine)]])
        ax.set_yticks(y, [label(n) for n, _ in mine], fontsize=8)
        ax.invert_yaxis()
        first = mine[0][1]
        ax.set_title(f"{label(wl)}: {prefix}{short_unit(first.unit)}/s from {first.mw:g} MW at PUE {first.pue:g}",
                     fontsize=9, loc="left")
        ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return svg(fig)

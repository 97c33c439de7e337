"""Report plots drawn with matplotlib's Agg backend and returned as inline SVG text.

Every function returns an ``<svg>`` string (no external fonts or images) or
None when the data to draw is absent.
"""

from __future__ import annotations

import io
import math
from typing import Any

PHASE_COLOURS = {"idle": "#d9d9d9", "setup": "#fde9c9", "verify": "#fde9c9", "warmup": "#ffd59e",
                 "measured": "#cfe8cf", "tail": "#e6e6e6"}
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                         "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
                         "font.family": "sans-serif"})
    return plt


def _svg(fig: Any) -> str:
    plt = _plt()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _pairs(trace: Any) -> list[tuple[float, float]]:
    """``[[t, v], ...]`` as finite float pairs, anything malformed dropped."""
    out = []
    for item in trace or []:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            t, v = item
            if isinstance(t, (int, float)) and isinstance(v, (int, float)) and math.isfinite(t) and math.isfinite(v):
                out.append((float(t), float(v)))
    return out


def phase_kind(name: str) -> str:
    """``window-3`` -> ``measured``; other phase names as they are."""
    return "measured" if str(name).startswith("window") else str(name)


def _shade(ax: Any, phases: list[dict[str, Any]], label: bool) -> None:
    seen: set[str] = set()
    for ph in phases or []:
        start, end = ph.get("start"), ph.get("end")
        if not isinstance(start, (int, float)) or not isinstance(end, (int, float)):
            continue
        kind = phase_kind(ph.get("name", ""))
        colour = PHASE_COLOURS.get(kind, "#eeeeee")
        ax.axvspan(start, end, color=colour, alpha=0.7, lw=0,
                   label=kind if label and kind not in seen else None)
        seen.add(kind)


def telemetry_series(run: dict[str, Any]) -> dict[str, list[tuple[float, float]]]:
    """GPU clocks, temperature and the like where recorded: ``{label: [(t, value)]}``.

    Read from each meter's ``telemetry`` (``{name: [[t, v], ...]}``, the layout of
    bench.power.window.telemetry); empty when nothing was recorded.
    """
    found: dict[str, list[tuple[float, float]]] = {}
    sources = [(str(m.get("name", "?")) + " ", m.get("telemetry"))
               for m in (run.get("power") or {}).get("meters") or [] if isinstance(m, dict)]
    for prefix, block in sources:
        if isinstance(block, dict):
            for key, trace in block.items():
                pts = _pairs(trace)
                if pts:
                    found[f"{prefix}{key}"] = pts
    return found


def run_timeline(run: dict[str, Any]) -> str | None:
    """Power per meter over time with phases shaded, throughput per window, and telemetry."""
    power = run.get("power") or {}
    meters = [(str(m.get("name", "?")), _pairs(m.get("trace"))) for m in power.get("meters") or []
              if isinstance(m, dict)]
    meters = [(n, p) for n, p in meters if p]
    total = _pairs(power.get("trace"))
    windows = [ph for ph in run.get("phases") or [] if phase_kind(ph.get("name", "")) == "measured"]
    samples = (run.get("throughput") or {}).get("samples") or []
    tele = telemetry_series(run)
    if not meters and not total and not samples:
        return None
    plt = _plt()
    rows = 2 + (1 if tele else 0)
    fig, axes = plt.subplots(rows, 1, figsize=(8.6, 1.9 * rows + 0.6), sharex=True,
                             gridspec_kw={"height_ratios": [2] + [1] * (rows - 1)})
    ax = axes[0]
    _shade(ax, run.get("phases") or [], label=True)
    for i, (name, pts) in enumerate(meters):
        ax.plot([t for t, _ in pts], [w for _, w in pts], lw=1.1, color=PALETTE[i % len(PALETTE)], label=name)
    if total and len(meters) != 1:
        ax.plot([t for t, _ in total], [w for _, w in total], lw=1.4, color="black", label="total")
    if not meters and not total:
        ax.text(0.5, 0.5, "no power recorded", transform=ax.transAxes, ha="center", va="center", color="#888")
    ax.set_ylabel("W")
    ax.legend(loc="upper left", fontsize=7, ncol=6, frameon=False, bbox_to_anchor=(0, 1.22))
    ax = axes[1]
    _shade(ax, run.get("phases") or [], label=False)
    pts = [(w, s) for w, s in zip(windows, samples) if isinstance(s, (int, float))]
    if pts:
        scale, prefix = _scale([s for _, s in pts])
        for w, s in pts:
            ax.hlines(s / scale, w["start"], w["end"], color=PALETTE[0], lw=2.2)
        ax.plot([(w["start"] + w["end"]) / 2 for w, _ in pts], [s / scale for _, s in pts], "o",
                color=PALETTE[0], ms=3)
        ax.set_ylim(bottom=0)
        ax.set_ylabel(f"{prefix}{_short(run.get('unit', ''))}/s")
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
    return _svg(fig)


def _short(unit: str) -> str:
    return {"hash": "H", "token": "tok"}.get(unit, unit)


def _scale(values: list[float]) -> tuple[float, str]:
    top = max((abs(v) for v in values), default=0.0)
    for scale, prefix in ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if top >= scale:
            return scale, prefix
    return 1.0, ""


def efficiency_value(per_joule: float, unit: str) -> tuple[float, str, bool]:
    """A per-joule figure in the unit people quote; the flag is True when lower is better."""
    if unit == "hash":
        return 1e12 / per_joule, "J/TH", True
    if unit == "token":
        return 1.0 / per_joule, "J/token", True
    return per_joule, f"{unit}/J", False


def efficiency_bars(rows: list[dict[str, Any]]) -> str | None:
    """Efficiency per system, one panel per workload, error bars from the p10-p90 throughput spread.

    ``rows``: dicts with ``label``, ``workload``, ``unit``, ``per_joule``, ``lo``, ``hi``
    (per-joule bounds or None) and ``measured``.
    """
    rows = [r for r in rows if r.get("per_joule")]
    if not rows:
        return None
    plt = _plt()
    workloads = list(dict.fromkeys(r["workload"] for r in rows))
    fig, axes = plt.subplots(1, len(workloads), figsize=(min(4.3 * len(workloads), 9.5), 0.5 + 0.42 * max(
        sum(1 for r in rows if r["workload"] == w) for w in workloads) + 0.8), squeeze=False)
    for ax, wl in zip(axes[0], workloads):
        mine = [r for r in rows if r["workload"] == wl]
        vals, errs, colours = [], [[], []], []
        label = ""
        for r in mine:
            v, label, _ = efficiency_value(r["per_joule"], r["unit"])
            lo = efficiency_value(r["lo"], r["unit"])[0] if r.get("lo") else v
            hi = efficiency_value(r["hi"], r["unit"])[0] if r.get("hi") else v
            vals.append(v)
            errs[0].append(max(v - min(lo, hi), 0.0))
            errs[1].append(max(max(lo, hi) - v, 0.0))
            colours.append(PALETTE[0] if r.get("measured") else "#f0a030")
        y = list(range(len(mine)))
        ax.barh(y, vals, xerr=errs, color=colours, capsize=3, height=0.6)
        ax.set_yticks(y, [r["label"] for r in mine], fontsize=8)
        ax.invert_yaxis()
        better = "lower is better" if efficiency_value(1.0, mine[0]["unit"])[2] else "higher is better"
        ax.set_title(f"{wl}: {label} ({better})", fontsize=9, loc="left")
        ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return _svg(fig)


def sizing_bars(rows: list[dict[str, Any]], mw: float, pue: float) -> str | None:
    """Throughput the allocation buys per hardware option, one panel per workload.

    ``rows``: dicts with ``label``, ``workload``, ``unit``, ``throughput`` (units/s for the allocation).
    """
    rows = [r for r in rows if r.get("throughput")]
    if not rows:
        return None
    plt = _plt()
    workloads = list(dict.fromkeys(r["workload"] for r in rows))
    fig, axes = plt.subplots(1, len(workloads), figsize=(min(4.3 * len(workloads), 9.5), 0.5 + 0.42 * max(
        sum(1 for r in rows if r["workload"] == w) for w in workloads) + 0.8), squeeze=False)
    for ax, wl in zip(axes[0], workloads):
        mine = [r for r in rows if r["workload"] == wl]
        scale, prefix = _scale([r["throughput"] for r in mine])
        y = list(range(len(mine)))
        ax.barh(y, [r["throughput"] / scale for r in mine], height=0.6,
                color=[PALETTE[2] if r.get("measured") else "#f0a030" for r in mine])
        ax.set_yticks(y, [r["label"] for r in mine], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{wl}: {prefix}{_short(mine[0]['unit'])}/s from {mw:g} MW at PUE {pue:g}", fontsize=9,
                     loc="left")
        ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return _svg(fig)


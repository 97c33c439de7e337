"""Throughput per MW per month (with bounds, the flat figure dashed), and a derating curve with its points."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.plotting import DECLARED_COLOUR, PALETTE, label, plt, save, short_unit, si_scale, svg
from bench.record.derating import DerateCurve, Derating
from bench.sizing.climate.render import Row
from bench.sizing.climate.year import MONTHS


def months_figure(rows: Sequence[Row], title: str = "") -> Any:
    """One panel per unit: each option's throughput per facility MW month by month, its bounds shaded and
    its flat figure dashed."""
    pyplot = plt()
    groups = list(dict.fromkeys(r.annual.unit for r in rows))
    fig, axes = pyplot.subplots(len(groups), 1, figsize=(8, 0.6 + 3.0 * len(groups)), squeeze=False)
    x = np.arange(12)
    for ax, unit in zip(axes[:, 0], groups):
        mine = [r for r in rows if r.annual.unit == unit]
        tops = [max(max(r.annual.monthly_high), r.annual.flat_per_mw * r.annual.mw) / r.annual.mw for r in mine]
        scale, prefix = si_scale(tops)
        for i, r in enumerate(mine):
            a, colour = r.annual, PALETTE[i % len(PALETTE)]
            ax.plot(x, np.array(a.monthly) / a.mw / scale, marker="o", ms=3, color=colour,
                    label=label(f"{r.label}: {r.system}"))
            ax.fill_between(x, np.array(a.monthly_low) / a.mw / scale, np.array(a.monthly_high) / a.mw / scale,
                            color=colour, alpha=0.15, lw=0)
            ax.axhline(a.flat_per_mw / scale, color=colour, ls="--", lw=1)
        ax.set_xticks(x, MONTHS, fontsize=8)
        ax.set_ylabel(f"{prefix}{short_unit(unit)}/s per facility MW", fontsize=8)
        ax.legend(fontsize=7, frameon=False, loc="lower left")
    if title:
        axes[0, 0].set_title(title, fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def months_plot(rows: Sequence[Row], path: str, title: str = "") -> Path:
    """:func:`months_figure` written to a .png or .svg file."""
    return save(months_figure(rows, title), path)


def months_svg(rows: Sequence[Row], title: str = "") -> str | None:
    """:func:`months_figure` as inline SVG for the report; None without rows."""
    return svg(months_figure(rows, title)) if rows else None


def sibling(path: str, suffix: str = "-months") -> str:
    """``plan.png`` -> ``plan-months.png``: where the monthly plot goes beside a command's ``--plot``."""
    p = Path(path)
    return str(p.with_name(f"{p.stem}{suffix}{p.suffix}"))


def derating_svg(d: Derating) -> str | None:
    """A derating curve: the points, the fitted curve with its band and knee interval (or a declared step)."""
    pyplot = plt()
    fig, axes = pyplot.subplots(1, 2 if d.power is not None else 1, figsize=(8, 3.2), squeeze=False)
    panels: list[tuple[str, DerateCurve | None, list[float | None]]] = [
        ("throughput", d.throughput, [p.throughput for p in d.points]),
        ("power", d.power, [p.power_w for p in d.points])]
    for ax, (name, curve, values) in zip(axes[0], panels):
        ts = [p.inlet_c for p, v in zip(d.points, values) if v is not None]
        vs = [v for v in values if v is not None]
        if curve is not None:
            scale, prefix = si_scale([b.high for b in curve.band] + vs)
            bt = [b.t_c for b in curve.band]
            ax.fill_between(bt, [b.low / scale for b in curve.band], [b.high / scale for b in curve.band],
                            color=PALETTE[0], alpha=0.2, lw=0, label="95% band")
            ax.plot(bt, [b.value / scale for b in curve.band], color=PALETTE[0], label="fit")
            ax.axvspan(curve.knee_low_c, curve.knee_high_c, color=PALETTE[1], alpha=0.15,
                       label=f"knee {curve.knee_c:.3g} °C ({curve.knee_low_c:.3g}-{curve.knee_high_c:.3g})")
            ax.scatter(ts, [v / scale for v in vs], s=8, color="black", label="windows")
            ax.set_ylabel(f"{name} ({prefix}{curve.unit})", fontsize=8)
        elif d.source == "declared" and name == "throughput":
            edges = [0.0] + [s.above_c for s in d.throughput_steps] + ([d.shutdown_c] if d.shutdown_c else [])
            factors = [1.0] + [s.factor for s in d.throughput_steps] + ([0.0] if d.shutdown_c else [])
            ax.step(edges + [edges[-1] + 5], factors + [factors[-1]], where="post", color=DECLARED_COLOUR,
                    label="DECLARED")
            ax.set_xlim(max(edges[1] - 20, 0) if len(edges) > 1 else 0, edges[-1] + 5)
            ax.set_ylabel("factor of the flat figure", fontsize=8)
        ax.set_xlabel("inlet °C", fontsize=8)
        ax.legend(fontsize=7, frameon=False)
    axes[0, 0].set_title(label(f"{d.source}: {d.workload} on {d.system}"), fontsize=9, loc="left")
    fig.tight_layout()
    return svg(fig)

"""Sizing plots (matplotlib Agg): throughput per MW with error bars per hardware option, and a plan's split.

Written to a ``.png`` or ``.svg`` file, drawn through :mod:`bench.plotting`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.errors import UsageError
from bench.plotting import DECLARED_COLOUR, MODELLED_COLOUR, PALETTE, label, plt, save, short_unit, si_scale
from bench.record import check_writable
from bench.sizing.model import Sized

FORMATS = (".png", ".svg")


def check_path(path: str) -> None:
    """Raise UsageError unless ``path`` ends in .png or .svg and can be written (checked before any work)."""

    if Path(path).suffix.lower() not in FORMATS:
        raise UsageError(f"--plot {path}: must end in .png or .svg")
    check_writable(path, "--plot")


def _colour(s: Sized) -> str:
    if s.source == "declared":
        return DECLARED_COLOUR
    return MODELLED_COLOUR if s.modelled else PALETTE[0]


def _per_mw_panel(ax: Any, rows: Sequence[Sized]) -> None:
    """Horizontal bars of throughput per facility MW (1 / mw_per_throughput) with their bounds."""
    vals = [1 / s.mw_per_throughput for s in rows]
    lows = [1 / s.mw_per_throughput_high for s in rows]
    highs = [1 / s.mw_per_throughput_low for s in rows]
    scale, prefix = si_scale(highs)
    y = list(range(len(rows)))
    ax.barh(y, [v / scale for v in vals], color=[_colour(s) for s in rows], height=0.6, capsize=3,
            xerr=[[max(v - lo, 0) / scale for v, lo in zip(vals, lows)],
                  [max(hi - v, 0) / scale for v, hi in zip(vals, highs)]])
    tags = ["declared" if s.source == "declared" else "MODELLED" if s.modelled else "measured" for s in rows]
    ax.set_yticks(y, [f"{label(s.system)}\n{label(s.workload)}, {tag}" for s, tag in zip(rows, tags)], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log" if max(highs) > 1000 * min(lows) > 0 else "linear")
    ax.set_xlabel(f"{prefix}{short_unit(rows[0].unit)}/s per facility MW")
    ax.grid(axis="y", visible=False)


def sizing_plot(rows: Sequence[Sized], path: str, title: str = "") -> Path:
    """Throughput per MW with error bars, one panel per unit (hashes, tokens, ...)."""
    check_path(path)
    pyplot = plt()
    groups = list(dict.fromkeys(s.unit for s in rows))
    if not groups:
        raise UsageError(f"--plot {path}: nothing was sized, nothing to draw")
    tallest = max(sum(1 for s in rows if s.unit == u) for u in groups)
    fig, axes = pyplot.subplots(len(groups), 1, figsize=(8, 0.9 + len(groups) * (0.6 + 0.55 * tallest)), squeeze=False)
    for ax, unit in zip(axes[:, 0], groups):
        _per_mw_panel(ax, [s for s in rows if s.unit == unit])
    if title:
        axes[0, 0].set_title(title, fontsize=9, loc="left")
    fig.tight_layout()
    return save(fig, path)


def plan_plot(options: Sequence[Sized], split: Sequence[dict[str, Any]], path: str, title: str = "") -> Path:
    """The plan's hardware options (throughput per MW, error bars) and its split of MW per allocation.

    ``split``: one dict per allocation with ``name``, ``mw`` and ``uses``
    (a list of ``(use name, MW)``).
    """
    check_path(path)
    pyplot = plt()
    groups = list(dict.fromkeys(s.unit for s in options))
    fig, axes = pyplot.subplots(len(groups) + 1, 1, squeeze=False,
                             figsize=(8, 1.2 + 1.6 * len(groups) + 0.5 * max(len(split), 2)))
    for ax, unit in zip(axes[:-1, 0], groups):
        _per_mw_panel(ax, [s for s in options if s.unit == unit])
    ax = axes[-1, 0]
    names = list(dict.fromkeys(u for a in split for u, _ in a["uses"]))
    colour = {n: PALETTE[(i + 1) % len(PALETTE)] for i, n in enumerate(names)}
    for y, a in enumerate(split):
        left = 0.0
        for use, mw in a["uses"]:
            ax.barh(y, mw, left=left, color=colour[use], height=0.6, label=use)
            left += mw
        if a["mw"] > left:
            ax.barh(y, a["mw"] - left, left=left, color="#eeeeee", height=0.6, hatch="//",
                    label="unallocated")
    ax.set_yticks(range(len(split)), [label(a["name"]) for a in split], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("facility MW")
    handles, labels = ax.get_legend_handles_labels()
    seen = dict(zip(labels, handles))
    ax.legend(seen.values(), seen.keys(), fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", visible=False)
    if title:
        axes[0, 0].set_title(title, fontsize=9, loc="left")
    fig.tight_layout()
    return save(fig, path)

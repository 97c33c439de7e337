"""Annual figures for what ``size`` and ``plan`` sized: the glue between the commands and the year.

``size`` gives one climate and cooling model for every option; ``plan`` one per use, from the command line
or the plan (:func:`bench.sizing.climate.options.per_use`: a list with one entry per use, in order, None for
a use without a climate). Each sized option's derating curve comes from
:mod:`bench.sizing.climate.curves`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from rich.markup import escape

from bench.record import Document, load
from bench.sizing.climate.annual import annual
from bench.sizing.climate.cooling import Cooling
from bench.sizing.climate.curves import curve_for
from bench.sizing.climate.plots import months_plot, sibling
from bench.sizing.climate.render import Row, annual_table, climate_notes, json_block
from bench.sizing.climate.year import MONTHS, ClimateYear
from bench.sizing.model import Sized
from bench.sizing.plan import Plan, UseResult


@lru_cache(maxsize=64)
def _doc(path: str) -> Document | None:
    try:
        return load(path)
    except Exception:  # noqa: BLE001 - the file was read once already; without it no curve of its own
        return None


def size_rows(sized: Sequence[Sized], year: ClimateYear, cool: Cooling) -> list[Row]:
    """Every sized option's year at one site."""
    return [Row(s.workload, s.system, annual(s, year, cool, curve_for(s, _doc(s.file)))) for s in sized]


Climates = Sequence[tuple[ClimateYear, Cooling] | None]


def plan_rows(plan: Plan, results: Sequence[UseResult], climates: Climates) -> list[Row]:
    """Every use of every allocation that has a climate (``climates``: one per use, in the plan's order, as
    ``results`` are)."""
    availability = {a.name: a.availability for a in plan.allocations}
    rows = []
    for r, climate in zip(results, climates):
        if climate is None:
            continue
        year, cool = climate
        s = r.sized
        rows.append(Row(f"{r.allocation}: {r.use}", s.system,
                        annual(s, year, cool, curve_for(s, _doc(s.file)), availability[r.allocation])))
    return rows


def totals(rows: Sequence[Row]) -> dict[str, dict[str, Any]]:
    """Per unit: the flat and annual throughput summed over the rows, and the worst month of the sum."""
    out: dict[str, dict[str, Any]] = {}
    for unit in dict.fromkeys(r.annual.unit for r in rows):
        mine = [r.annual for r in rows if r.annual.unit == unit]
        monthly = np.sum([a.monthly for a in mine], axis=0)
        worst = int(np.argmin(monthly))
        out[unit] = {"mw": sum(a.mw for a in mine), "flat_throughput": sum(a.flat_throughput for a in mine),
                     "throughput": sum(a.throughput for a in mine),
                     "throughput_low": sum(a.throughput_low for a in mine),
                     "throughput_high": sum(a.throughput_high for a in mine),
                     "energy_mwh": sum(a.energy_mwh for a in mine),
                     "monthly": [float(v) for v in monthly], "worst_month": MONTHS[worst],
                     "worst_month_throughput": float(monthly[worst])}
    return out


def print_size(out: Any, rows: Sequence[Row], year: ClimateYear, cool: Cooling, mw: float) -> None:
    """``size --climate``: the annual table and its notes."""
    out.print(annual_table(rows, f"{mw:g} MW over a year at {year.name}, {cool.kind} cooling: flat and annual "
                                 "throughput per facility MW (low - high), worst month, energy per unit"))
    for line in climate_notes([("climate", year, cool)], rows):
        out.print(line)


@dataclass(frozen=True)
class Applied:
    """One climate and cooling model and what they apply to: an allocation whose uses share them
    (``use`` None), else one use of it."""

    allocation: str
    use: str | None
    year: ClimateYear
    cool: Cooling

    @property
    def label(self) -> str:
        return f"allocation {self.allocation!r}" + (f" use {self.use!r}" if self.use is not None else "")

    @property
    def key(self) -> str:
        return self.allocation if self.use is None else f"{self.allocation}: {self.use}"


def labelled(plan: Plan, climates: Climates) -> tuple[list[Applied], list[str]]:
    """Each climate with what it applies to (an allocation whose uses share one, else each use of it), and the
    allocations (or uses) without one."""
    found: list[Applied] = []
    missing: list[str] = []
    k = 0
    for a in plan.allocations:
        mine = list(climates[k:k + len(a.uses)])
        k += len(a.uses)
        if len({(id(c[0]), c[1].kind) if c is not None else None for c in mine}) == 1:
            if mine[0] is None:
                missing.append(a.name)
            else:
                found.append(Applied(a.name, None, *mine[0]))
            continue
        for u, c in zip(a.uses, mine):
            if c is None:
                missing.append(f"{a.name}: {u.name}")
            else:
                found.append(Applied(a.name, u.name, *c))
    return found, missing


def print_plan(out: Any, plan: Plan, rows: Sequence[Row], climates: Climates) -> None:
    """``plan --climate``: the annual table per use, the totals flat against annual, and the notes."""
    from rich.table import Table

    from bench import units

    out.print(annual_table(rows, f"{plan.name}: throughput per facility MW, flat (today) and over the year, per use"))
    table = Table(title="Totals: flat (today's figure) against the year", title_justify="left")
    for col in ("unit", "MW", "flat throughput", "annual throughput", "worst month", "energy MWh/yr"):
        table.add_column(col, justify="left" if col == "unit" else "right")
    for unit, t in totals(rows).items():
        change = t["throughput"] / t["flat_throughput"] - 1 if t["flat_throughput"] else 0.0
        worst = t["worst_month_throughput"] / t["flat_throughput"] - 1 if t["flat_throughput"] else 0.0
        table.add_row(unit, f"{t['mw']:,.4g}", units.rate(t["flat_throughput"], unit),
                      f"{units.rate(t['throughput'], unit)} ({change:+.1%})\n[dim]"
                      f"{units.rate(t['throughput_low'], unit)} - {units.rate(t['throughput_high'], unit)}[/dim]",
                      f"{t['worst_month']}: {units.rate(t['worst_month_throughput'], unit)} ({worst:+.1%})",
                      f"{t['energy_mwh']:,.0f}")
    out.print(table)
    found, missing = labelled(plan, climates)
    if missing:
        out.print(f"[yellow]no climate for {escape(', '.join(missing))}: flat figures only (--climate NAME=SITE, "
                  "or climate = ... in the plan)[/yellow]")
    for line in climate_notes([(f.label, f.year, f.cool) for f in found], rows):
        out.print(line)


def size_json(objects: list[dict[str, Any]], sized: Sequence[Sized], rows: Sequence[Row], year: ClimateYear,
              cool: Cooling) -> dict[str, Any]:
    """``size --climate --json``: the flat objects, each sized one with its ``annual`` block, and the climate."""
    by_key = {(s.file, s.run, s.system): r.annual.to_json() for s, r in zip(sized, rows)}
    for o in objects:
        key = (o.get("file"), o.get("run"), o.get("system"))
        if key in by_key:
            o["annual"] = by_key[key]
    return {"climate": json_block(year, cool), "runs": objects}


def plan_json(plan: Plan, rows: Sequence[Row], climates: Climates) -> dict[str, Any]:
    """``plan --climate --json``: the ``climate`` block added to the plan's JSON: each climate by what it applies
    to (an allocation's name, or ``allocation: use`` where its uses differ), each use's year with its site and
    cooling model, the totals."""
    found, _ = labelled(plan, climates)
    used = [c for c in climates if c is not None]
    return {"allocations": {f.key: json_block(f.year, f.cool) for f in found},
            "uses": [{"use": r.label, "system": r.system, "site": y.name, "cooling": c.kind, **r.annual.to_json()}
                     for r, (y, c) in zip(rows, used)],
            "totals": totals(rows)}


def plot(rows: Sequence[Row], path: str, title: str) -> str:
    """The monthly plot beside a command's ``--plot`` file; returns where it went."""
    return str(months_plot(rows, sibling(path), title))

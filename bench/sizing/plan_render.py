"""Output of ``sitebench plan``: one table of uses per allocation and in total, totals, and JSON."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from rich.table import Table

from bench import units
from bench.sizing.plan import Plan, UseResult
from bench.sizing.render import count, span
from bench.tables import cut


def money(v: float | None) -> str:
    """``"12.3M"``, ``"1.2G"``; ``"-"`` without a price."""
    return "-" if v is None else units.si(v, "", 3).replace(" ", "")


def _use(r: UseResult) -> str:
    s = r.sized
    tag = "declared" if s.source == "declared" else "[yellow]MODELLED[/yellow]" if s.modelled else "measured"
    return f"{cut(r.use)}\n[dim]{cut(s.system)}, {tag}[/dim]"


def plan_table(plan: Plan, results: Sequence[UseResult]) -> Table:
    """Per allocation and use: MW, hardware, machines, throughput, energy, cost and revenue per year."""
    cur = plan.prices.currency
    table = Table(title=f"{plan.name}: per year, figures (low - high)", title_justify="left")
    for col in ("allocation", "use: hardware", "MW", "machines", "throughput", "energy MWh/yr",
                f"cost/yr {cur}", f"revenue/yr {cur}"):
        table.add_column(col, justify="left" if col in ("allocation", "use: hardware") else "right",
                         no_wrap=col != "use: hardware")
    for a in plan.allocations:
        mine = [r for r in results if r.allocation == a.name]
        for i, r in enumerate(mine):
            s = r.sized
            table.add_row(
                cut(a.name) if i == 0 else "", _use(r), f"{r.mw:,.4g}",
                span(count(s.machines), s.machines_low, s.machines_high, count),
                span(units.rate(s.throughput, s.unit), s.throughput_low, s.throughput_high,
                     functools.partial(units.rate, unit=s.unit)),
                f"{r.energy_mwh:,.0f}", money(r.cost),
                money(r.revenue) if r.revenue is None else span(
                    money(r.revenue), r.revenue_low or 0.0, r.revenue_high or 0.0, money),
            )
        used = sum(r.mw for r in mine)
        if used < a.mw:
            table.add_row("", "[dim]unallocated[/dim]", f"{a.mw - used:,.4g}", "", "", "", "", "")
        table.add_section()
    return table


def totals(plan: Plan, results: Sequence[UseResult]) -> dict[str, Any]:
    """MW, energy, cost, revenue and throughput per unit, per allocation and for the whole plan."""
    def block(rows: Sequence[UseResult], mw: float) -> dict[str, Any]:
        costs = [r.cost for r in rows]
        revs = [r.revenue for r in rows if r.revenue is not None]
        thr: dict[str, dict[str, float]] = {}
        for r in rows:
            t = thr.setdefault(r.sized.unit, {"throughput": 0.0, "throughput_low": 0.0, "throughput_high": 0.0,
                                              "machines": 0})
            t["throughput"] += r.sized.throughput
            t["throughput_low"] += r.sized.throughput_low
            t["throughput_high"] += r.sized.throughput_high
            t["machines"] += r.sized.machines
        cost = sum(c for c in costs if c is not None) if any(c is not None for c in costs) else None
        revenue = sum(revs) if revs else None
        return {"mw": mw, "mw_used": sum(r.mw for r in rows), "energy_mwh": sum(r.energy_mwh for r in rows),
                "cost": cost, "revenue": revenue,
                "margin": revenue - cost if revenue is not None and cost is not None else None, "by_unit": thr}

    per = {a.name: block([r for r in results if r.allocation == a.name], a.mw) for a in plan.allocations}
    return {"allocations": per, "total": block(results, sum(a.mw for a in plan.allocations))}


def totals_table(plan: Plan, tot: dict[str, Any]) -> Table:
    """Per allocation and in total: MW used, machines and throughput per unit, energy, cost, revenue, margin."""
    cur = plan.prices.currency
    table = Table(title="Totals per year", title_justify="left")
    for col in ("allocation", "MW used", "machines", "throughput", "energy MWh/yr", f"cost/yr {cur}",
                f"revenue/yr {cur}", f"margin/yr {cur}"):
        table.add_column(col, justify="left" if col == "allocation" else "right")
    rows = [*tot["allocations"].items(), ("[bold]total[/bold]", tot["total"])]
    for name, b in rows:
        by = b["by_unit"]
        table.add_row(
            name if name.startswith("[bold]") else cut(name), f"{b['mw_used']:,.4g} of {b['mw']:,.4g}",
            "\n".join(f"{count(t['machines'])}" for t in by.values()),
            "\n".join(units.rate(t["throughput"], u) for u, t in by.items()),
            f"{b['energy_mwh']:,.0f}", money(b["cost"]), money(b["revenue"]), money(b["margin"]))
    return table


def as_json(plan: Plan, results: Sequence[UseResult], warnings: list[str]) -> dict[str, Any]:
    """The whole plan evaluation in base units."""
    return {
        "plan": plan.name, "file": str(plan.path), "prices": asdict(plan.prices),
        "uses": [{**{k: v for k, v in asdict(r).items() if k != "sized"}, "sizing": r.sized.to_dict()}
                 for r in results],
        "totals": totals(plan, results), "warnings": warnings,
    }

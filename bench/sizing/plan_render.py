"""Output of ``sitebench plan``: what each use buys, the money (illustrative), totals, and JSON.

Three tables: per allocation and use, the machines, throughput and energy per year (from the result
files); where the plan gives prices or capex, the money per use, per allocation and for the plan, headed
ILLUSTRATIVE with notes on what it rests on and leaves out; and the physical totals.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from rich.table import Table

from bench import units
from bench.sizing.plan import Plan, UseResult, payback_years
from bench.sizing.render import count, span
from bench.tables import cut

#: Currencies written with their sign in front; any other is written by its code after the number.
SIGNS = {"USD": "$", "EUR": "€", "GBP": "£"}
_WORDS = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def _scaled(a: float) -> tuple[str, str]:
    """``a`` >= 0 as (number, word): ``("14.1", "billion")``, ``("4,000", "")``."""
    scale, word = next(((sc, w) for sc, w in _WORDS if float(f"{a / sc:.3g}") >= 1), (1.0, ""))
    if word:
        return f"{a / scale:.3g}", word
    return (f"{a:,.0f}" if a >= 100 or a == int(a) else f"{a:,.2f}"), ""


def _with_currency(sign: str, number: str, currency: str) -> str:
    code = currency.strip()
    return f"{sign}{SIGNS[code]}{number}" if code in SIGNS else f"{sign}{number} {cut(code, 12)}"


def money(v: float | None, currency: str = "USD") -> str:
    """``"$14.1 billion"``, ``"$266 million"``, ``"$4,000"`` (``"14.1 billion PKR"`` in a currency without a
    sign here); ``"-"`` without a figure."""
    if v is None or not math.isfinite(v):
        return "-"
    number, word = _scaled(abs(v))
    text = f"{number} {word}".strip()
    return _with_currency("-" if v < 0 and number.strip("0.,") else "", text, currency)


def money_range(low: float, high: float, currency: str = "USD") -> str:
    """Bounds, the shared word once: ``"$564 - 689 million"``, else ``"$950 million - $1.2 billion"``."""
    a, b = sorted((low, high))
    (na, wa), (nb, wb) = _scaled(abs(a)), _scaled(abs(b))
    if a >= 0 and wa == wb:
        return _with_currency("", f"{na} - {nb} {wb}".strip(), currency)
    return f"{money(a, currency)} - {money(b, currency)}"


def years(v: float | None, revenue: float | None = None, cost: float | None = None,
          capex: float | None = None) -> str:
    """A payback in years (``"1.9 years"``), ``"never"`` when the revenue does not exceed the energy cost,
    ``"-"`` when a price or the capex is missing."""
    if v is not None:
        return f"{v:.2g} years" if v < 10 else f"{v:,.0f} years"
    if capex is not None and revenue is not None and cost is not None:
        return "[red]never[/red]"
    return "-"


def priced(plan: Plan, results: Sequence[UseResult]) -> bool:
    """Whether the plan gives any price or capex (and so has money to show)."""
    p = plan.prices
    return any(x is not None for x in (p.electricity_per_mwh, p.revenue_per_ph_day, p.revenue_per_million_tokens,
                                       *(r.capex_per_machine for r in results)))


def money_notes(plan: Plan, results: Sequence[UseResult]) -> list[str]:
    """What the money figures rest on and leave out (plain text), for a plan with prices or capex."""
    if not priced(plan, results):
        return []
    p, cur = plan.prices, plan.prices.currency
    given = [text for value, text in (
        (p.electricity_per_mwh, f"electricity {money(p.electricity_per_mwh, cur)} per MWh"),
        (p.revenue_per_ph_day, f"{money(p.revenue_per_ph_day, cur)} per PH/s per day"),
        (p.revenue_per_million_tokens, f"{money(p.revenue_per_million_tokens, cur)} per million tokens"),
    ) if value is not None]
    out = [f"money is ILLUSTRATIVE: the prices ({'; '.join(given) or 'none'}) and capex per machine are the "
           "plan's own assumptions, not quotes or market data; replace them with contract figures before "
           "relying on them",
           "energy cost is electricity only; revenue assumes every hash and token is sold at the price all the "
           "hours the allocation runs (no demand limit, no pool or platform fees)"]
    if any(r.capex_per_machine is not None for r in results):
        out.append("capex = machines x capex per machine (the machines only: no buildings, power or cooling "
                   "plant, networking); payback = capex / (revenue - energy cost) per year, before maintenance, "
                   "staff, financing, taxes, depreciation and changes in prices or difficulty")
        missing = [f"{r.allocation}: {r.use}" for r in results if r.capex_per_machine is None]
        if missing:
            out.append(f"no capex_per_machine for {', '.join(missing)}: no capex or payback for those uses, "
                       "nor for the totals that hold them")
    else:
        out.append("capital cost is left out (no capex_per_machine in the plan's uses), so there is no payback")
    return out


def _use(r: UseResult) -> str:
    s = r.sized
    tag = "declared" if s.source == "declared" else "[yellow]MODELLED[/yellow]" if s.modelled else "measured"
    at = f" at {cut(r.choice['label'])}" if r.choice else ""
    return f"{cut(r.use)}\n[dim]{cut(s.system)}{at}, {tag}[/dim]"


def choice_lines(results: Sequence[UseResult]) -> list[str]:
    """For each use sized from a sweep: the setting chosen for its MW and its gain over stock (plain text)."""
    out = []
    for r in results:
        if r.choice:
            out.append(f"{r.allocation}: {r.use}: {r.choice['gain']}")
    return out


def plan_table(plan: Plan, results: Sequence[UseResult]) -> Table:
    """Per allocation and use: MW, hardware, machines, throughput and energy per year."""
    table = Table(title=f"{plan.name}: per year, figures (low - high)", title_justify="left")
    for col in ("allocation", "use: hardware", "MW", "machines", "throughput", "energy MWh/yr"):
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
                f"{r.energy_mwh:,.0f}",
            )
        used = sum(r.mw for r in mine)
        if used < a.mw:
            table.add_row("", "[dim]unallocated[/dim]", f"{a.mw - used:,.4g}", "", "", "")
        table.add_section()
    return table


def money_table(plan: Plan, results: Sequence[UseResult]) -> Table:
    """Per use, per allocation and for the plan: energy cost, revenue (low - high), revenue less the energy
    cost, and capex and payback where the plan gives a capex per machine; the title says it is illustrative."""
    cur = plan.prices.currency
    fmt = functools.partial(money, currency=cur)
    tot = totals(plan, results)
    table = Table(title=f"Money per year, ILLUSTRATIVE: the plan's assumed prices and capex, not quotes "
                        f"({cut(cur, 12)}; notes below)", title_justify="left")
    for col in ("allocation", "use", "energy cost/yr", "revenue/yr", "revenue - energy cost/yr", "capex",
                "payback"):
        table.add_column(col, justify="left" if col in ("allocation", "use") else "right", no_wrap=col != "use")

    def row(name: str, use: str, b: dict[str, Any], revenue_range: str = "", each: float | None = None) -> None:
        capex = fmt(b["capex"]) + (f"\n[dim]{fmt(each)} each[/dim]" if each is not None else "")
        table.add_row(name, use, fmt(b["cost"]), fmt(b["revenue"]) + revenue_range, fmt(b["margin"]), capex,
                      years(b["payback_years"], b["revenue"], b["cost"], b["capex"]))

    for a in plan.allocations:
        mine = [r for r in results if r.allocation == a.name]
        for i, r in enumerate(mine):
            bounds = "" if r.revenue_low is None or r.revenue_high is None else \
                f"\n[dim]{money_range(r.revenue_low, r.revenue_high, cur)}[/dim]"
            row(cut(a.name) if i == 0 else "", cut(r.use), _block(r.cost, r.revenue, r.capex), bounds,
                r.capex_per_machine)
        if len(mine) > 1:
            row("", "[bold]allocation total[/bold]", tot["allocations"][a.name])
        table.add_section()
    row("[bold]plan total[/bold]", "", tot["total"])
    return table


def _block(cost: float | None, revenue: float | None, capex: float | None) -> dict[str, Any]:
    margin = revenue - cost if revenue is not None and cost is not None else None
    return {"cost": cost, "revenue": revenue, "margin": margin, "capex": capex,
            "payback_years": payback_years(capex, revenue, cost)}


def totals(plan: Plan, results: Sequence[UseResult]) -> dict[str, Any]:
    """MW, energy, energy cost, revenue, revenue less the energy cost (``margin``), capex (only when every use
    has one: a sum over some would understate it), payback and throughput per unit, per allocation and for
    the whole plan."""
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
        capex = sum(r.capex for r in rows if r.capex is not None) if rows and all(
            r.capex is not None for r in rows) else None
        return {"mw": mw, "mw_used": sum(r.mw for r in rows), "energy_mwh": sum(r.energy_mwh for r in rows),
                **_block(cost, revenue, capex), "by_unit": thr}

    per = {a.name: block([r for r in results if r.allocation == a.name], a.mw) for a in plan.allocations}
    return {"allocations": per, "total": block(results, sum(a.mw for a in plan.allocations))}


def totals_table(plan: Plan, tot: dict[str, Any]) -> Table:
    """Per allocation and in total: MW used, machines and throughput per unit, energy per year (the money
    totals are in :func:`money_table`)."""
    table = Table(title="Totals per year", title_justify="left")
    for col in ("allocation", "MW used", "machines", "throughput", "energy MWh/yr"):
        table.add_column(col, justify="left" if col == "allocation" else "right")
    rows = [*tot["allocations"].items(), ("[bold]total[/bold]", tot["total"])]
    for name, b in rows:
        by = b["by_unit"]
        table.add_row(
            name if name.startswith("[bold]") else cut(name), f"{b['mw_used']:,.4g} of {b['mw']:,.4g}",
            "\n".join(f"{count(t['machines'])}" for t in by.values()),
            "\n".join(units.rate(t["throughput"], u) for u, t in by.items()),
            f"{b['energy_mwh']:,.0f}")
    return table


def as_json(plan: Plan, results: Sequence[UseResult], warnings: list[str]) -> dict[str, Any]:
    """The whole plan evaluation in base units (money in the plan's currency, payback in years), with the
    notes on what the money figures assume."""
    return {
        "plan": plan.name, "file": str(plan.path), "prices": asdict(plan.prices),
        "uses": [{**{k: v for k, v in asdict(r).items() if k != "sized"}, "sizing": r.sized.to_dict()}
                 for r in results],
        "totals": totals(plan, results), "warnings": warnings,
        "money_notes": money_notes(plan, results),
    }

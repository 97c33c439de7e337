"""Human tables for ``sitebench size``: the units miners and operators use, each figure with its bounds.

Measured and declared entries are always in separate tables.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table

from bench import units
from bench.sizing.model import WITH_OVERHEAD, Sized, Skipped
from bench.tables import MAX_ROWS, cut, efficiency_header, more_row


def span(mid: str, lo: float, hi: float, fmt: Callable[[float], str]) -> str:
    """``"12.3 J/TH\n11 - 13.1"``: the figure over its bounds (sorted), for a table cell."""
    a, b = sorted((lo, hi))
    return f"{mid}\n[dim]{fmt(a)} - {fmt(b)}[/dim]"


def _g(v: float) -> str:
    return f"{v:.3g}"


def count(v: float) -> str:
    """Machines: ``"12,345"`` below a million, ``"5.04 M"`` above."""
    return f"{v:,.0f}" if v < 1e6 else units.si(v)


def _efficiency_span(mid: float, low: float, high: float, unit: str, label: str = "") -> str:
    text = units.efficiency(mid, unit) + label
    scale = {"hash": 1e12, "token": 1.0}.get(unit)
    if scale is None:
        return span(text, low, high, _g)
    return span(text, scale / high, scale / low, _g)


def efficiency_text(s: Sized) -> str:
    """J/TH for hashing, J/token for tokens, unit/J otherwise, bounds below; the machine-level
    efficiency (with the node overhead) beside the measured one when an overhead was added."""
    measured = _efficiency_span(s.efficiency, s.efficiency_low, s.efficiency_high, s.unit)
    if not s.node_overhead_w:
        return measured
    measured = _efficiency_span(s.efficiency, s.efficiency_low, s.efficiency_high, s.unit, " measured")
    machine = _efficiency_span(s.machine_efficiency, s.machine_efficiency_low, s.machine_efficiency_high, s.unit,
                               f" {WITH_OVERHEAD}")
    return f"{measured}\n{machine}"


def mw_per_text(s: Sized) -> str:
    """Facility MW per EH/s (hashing) or per M tok/s (tokens); bounds below."""
    scale, label = units.throughput_per_mw_unit(s.unit)
    return span(f"{s.mw_per_throughput * scale:.4g} per {label}", s.mw_per_throughput_low * scale,
                s.mw_per_throughput_high * scale, _g)


def power_text(s: Sized) -> str:
    """``"3.53 kW wall, declared"``, ``"19.4 W MODELLED"``, ``"676 W components\n+ 156 W overhead"``."""
    text = f"{units.watts(s.power_w_per_machine)} {s.scope_class}"
    if s.node_overhead_w:
        text = f"{units.watts(s.power_w_per_machine - s.node_overhead_w)} components\n+ " \
               f"{units.watts(s.node_overhead_w)} overhead = {units.watts(s.power_w_per_machine)}"
    if s.source == "declared":
        text += ", declared"
    elif s.modelled:
        text = f"{units.watts(s.power_w_per_machine)} [yellow]MODELLED[/yellow]"
    return span(text, s.power_w_per_machine_low, s.power_w_per_machine_high, units.watts)


def size_table(rows: Sequence[Sized], title: str) -> Table:
    """One row per sized run: machines, throughput, J/TH or J/token (units per joule for other units),
    facility MW per unit of throughput, power per machine."""
    table = Table(title=title, title_justify="left")
    energy = efficiency_header(s.unit for s in rows)
    for col in ("workload", "system", "machines", "throughput", energy, "facility MW", "power per machine"):
        table.add_column(col, justify="left" if col in ("workload", "system", "power per machine") else "right",
                         no_wrap=col in (energy, "facility MW"))
    for s in rows[:MAX_ROWS]:
        table.add_row(
            cut(s.workload), cut(s.system),
            span(count(s.machines), s.machines_low, s.machines_high, count),
            span(units.rate(s.throughput, s.unit) + (" [yellow](unstable)[/yellow]" if s.unstable else ""),
                 s.throughput_low, s.throughput_high, functools.partial(units.rate, unit=s.unit)),
            efficiency_text(s), mw_per_text(s), power_text(s),
        )
    more_row(table, min(len(rows), MAX_ROWS), len(rows))
    return table


def notes(rows: Sequence[Sized], skipped: Sequence[Skipped]) -> list[str]:
    """Lines under the tables: bounds' sources, node overhead, MODELLED warnings, runs not sized."""
    grouped: dict[str, list[str]] = {}
    for s in rows:
        note = f"power scope {s.scope}, {s.accuracy_note}" + (f"; {s.node_overhead_note}" if s.node_overhead_note else "")
        if s.quality_level is not None:
            note += f"; measurement quality level {s.quality_level}"
        grouped.setdefault(note, []).append(f"{s.workload[:60]} on {s.system[:60]}")
    out = [escape(f"{', '.join(dict.fromkeys(who))}: {note}") for note, who in grouped.items()]
    for s in rows:
        if s.unstable:
            out.append(f"[yellow]warning: {escape(s.workload)} on {cut(s.system)}: unstable run (throughput varies "
                       "over 10% between windows): sized, but measure again before relying on it[/yellow]")
        if s.contended:
            out.append(f"[yellow]warning: {escape(s.workload)} on {cut(s.system)}: CONTENDED run (measured on a busy "
                       "machine: see sitebench show): sized, but measure again on a quiet machine[/yellow]")
    if any(s.modelled for s in rows):
        out.append("[yellow]warning: MODELLED power (not measured): the bounds are wide and the figures "
                   "are estimates; use a real meter (sitebench run --meter) before sizing a site[/yellow]")
    for k in skipped:
        out.append(escape(f"not sized: {k.file} run {k.run} ({k.workload[:60]} on {k.device[:60]}): {k.reason[:300]}"))
    return out


def print_sizing(console: Any, rows: Sequence[Sized], skipped: Sequence[Skipped], mw: float, pue: float,
                 max_machines: int | None = None) -> None:
    """Measured table, declared table, then the notes."""
    cap = f", at most {max_machines:,} machines" if max_machines is not None else ""
    head = f"{mw:g} MW at PUE {pue:g} ({mw / pue:.4g} MW IT){cap}; figures (low-high)"
    measured = [s for s in rows if s.source != "declared"]
    declared = [s for s in rows if s.source == "declared"]
    if measured:
        console.print(size_table(measured, f"Runs measured by sitebench (power MODELLED where marked): what {head}"))
    if declared:
        console.print(size_table(declared, f"Declared (vendor figures, not measured): what {head}"))
    for line in notes(rows, skipped):
        console.print(line)


def as_json(rows: Sequence[Sized | Skipped]) -> list[dict[str, Any]]:
    """One object per run, sized or not, in base units."""
    return [r.to_dict() for r in rows]

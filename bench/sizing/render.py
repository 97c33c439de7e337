"""Human tables for ``sitebench size``: the units miners and operators use, each figure with its bounds.

Measured and declared entries are always in separate tables.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from rich.markup import escape
from rich.table import Table

from bench import units
from bench.sizing.model import Sized, Skipped


def span(mid: str, lo: float, hi: float, fmt: Callable[[float], str]) -> str:
    """``"12.3 J/TH\n11 - 13.1"``: the figure over its bounds (sorted), for a table cell."""
    a, b = sorted((lo, hi))
    return f"{mid}\n[dim]{fmt(a)} - {fmt(b)}[/dim]"


def _g(v: float) -> str:
    return f"{v:.3g}"


def count(v: float) -> str:
    """Machines: ``"12,345"`` below a million, ``"5.04 M"`` above."""
    return f"{v:,.0f}" if v < 1e6 else units.si(v)


def efficiency_text(s: Sized) -> str:
    """J/TH for hashing, J/token for tokens, unit/J otherwise; bounds in the same unit below."""
    mid = units.efficiency(s.efficiency, s.unit)
    scale = {"hash": 1e12, "token": 1.0}.get(s.unit)
    if scale is None:
        return span(mid, s.efficiency_low, s.efficiency_high, _g)
    return span(mid, scale / s.efficiency_high, scale / s.efficiency_low, _g)


def mw_per_text(s: Sized) -> str:
    """Facility MW per EH/s (hashing) or per M tok/s (tokens); bounds below."""
    scale, label = units.throughput_per_mw_unit(s.unit)
    return span(f"{s.mw_per_throughput * scale:.4g} per {label}", s.mw_per_throughput_low * scale,
                s.mw_per_throughput_high * scale, _g)


def power_text(s: Sized) -> str:
    """``"3.53 kW wall, declared"``, ``"19.4 W MODELLED"``, ``"676 W components + 156 W overhead"``."""
    text = f"{units.watts(s.power_w_per_machine)} {s.scope_class}"
    if s.node_overhead_w:
        text = f"{units.watts(s.power_w_per_machine)} = {units.watts(s.power_w_per_machine - s.node_overhead_w)} " \
               f"components + {units.watts(s.node_overhead_w)} overhead"
    if s.source == "declared":
        text += ", declared"
    elif s.modelled:
        text = f"{units.watts(s.power_w_per_machine)} [yellow]MODELLED[/yellow]"
    return span(text, s.power_w_per_machine_low, s.power_w_per_machine_high, units.watts)


def size_table(rows: Sequence[Sized], title: str) -> Table:
    """One row per sized run: machines, throughput, efficiency, MW per throughput, power per machine."""
    table = Table(title=title, title_justify="left")
    for col in ("workload", "system", "machines", "throughput", "efficiency", "facility MW", "power per machine"):
        table.add_column(col, justify="left" if col in ("workload", "system", "power per machine") else "right")
    for s in rows:
        table.add_row(
            s.workload, s.system,
            span(count(s.machines), s.machines_low, s.machines_high, count),
            span(units.rate(s.throughput, s.unit), s.throughput_low, s.throughput_high,
                 lambda v: units.rate(v, s.unit)),
            efficiency_text(s), mw_per_text(s), power_text(s),
        )
    return table


def notes(rows: Sequence[Sized], skipped: Sequence[Skipped]) -> list[str]:
    """Lines under the tables: bounds' sources, node overhead, MODELLED warnings, runs not sized."""
    grouped: dict[str, list[str]] = {}
    for s in rows:
        note = f"power scope {s.scope}, {s.accuracy_note}" + (f"; {s.node_overhead_note}" if s.node_overhead_note else "")
        if s.quality_level is not None:
            note += f"; measurement quality level {s.quality_level}"
        grouped.setdefault(note, []).append(f"{s.workload} on {s.system}")
    out = [escape(f"{', '.join(dict.fromkeys(who))}: {note}") for note, who in grouped.items()]
    if any(s.modelled for s in rows):
        out.append("[yellow]warning: MODELLED power (not measured): the bounds are wide and the figures "
                   "are estimates; use a real meter (sitebench run --meter) before sizing a site[/yellow]")
    for k in skipped:
        out.append(escape(f"not sized: {k.file} run {k.run} ({k.workload} on {k.device}): {k.reason}"))
    return out


def print_sizing(console: Any, rows: Sequence[Sized], skipped: Sequence[Skipped], mw: float, pue: float) -> None:
    """Measured table, declared table, then the notes."""
    head = f"{mw:g} MW at PUE {pue:g} ({mw / pue:.4g} MW IT); figures (low-high)"
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

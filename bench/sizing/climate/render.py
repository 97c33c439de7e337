"""Tables and JSON of the annual figures: each beside the flat figure used today, the worst month beside both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.markup import escape
from rich.table import Table

from bench import units
from bench.sizing.climate.annual import Annual
from bench.sizing.climate.cooling import Cooling
from bench.sizing.climate.year import MONTHS, ClimateYear
from bench.tables import cut


@dataclass(frozen=True)
class Row:
    """One sized option (``size``) or one use of an allocation (``plan``) with its year."""

    label: str
    system: str
    annual: Annual


def rate(value: float, unit: str) -> str:
    """A throughput as people read it (``"253 PH/s"``)."""
    return units.rate(value, unit)


def energy_per_unit(j: float | None, unit: str) -> str:
    """Facility J/TH, J/token or J/unit."""
    return units.efficiency(1 / j, unit) if j else "-"


def _change(new: float, old: float) -> str:
    if old <= 0:
        return ""
    d = new / old - 1
    colour = "red" if d < -0.005 else "green" if d > 0.005 else "dim"
    return f"[{colour}]{d:+.1%}[/{colour}]"


def _hours(a: Annual) -> str:
    if a.knee_c is None:
        return f"{a.inlet_hours_above['A2']:,} h > 35 °C\n[dim](ASHRAE A2)[/dim]"
    text = f"{a.hours_above_knee:,} h > {a.knee_c:.3g} °C"
    if a.shutdown_c is not None:
        text += f"\n{a.hours_shutdown:,} h > {a.shutdown_c:.3g} °C off"
    return text


def _record(a: Annual) -> str:
    if a.record_high_c is None or a.record_inlet_c is None or a.record_factor is None:
        return "-"
    tag = "[red]OFF[/red]" if a.record_factor == 0 else f"{a.record_factor:.0%}"
    return f"{a.record_high_c:.3g} °C: {tag}\n[dim]inlet {a.record_inlet_c:.3g} °C[/dim]"


CURVES = {"fitted": "fitted curve", "declared": "[yellow]DECLARED curve[/yellow]"}


def annual_table(rows: Sequence[Row], title: str) -> Table:
    """Flat and annual throughput per facility MW, the worst month, energy per unit, hours above the knee and
    the shutdown, and what the site's record high does."""
    table = Table(title=title, title_justify="left")
    for col in ("option", "flat", "annual", "worst month", "facility energy", "inlet hours", "record high"):
        table.add_column(col, justify="left" if col in ("option", "inlet hours") else "right",
                         no_wrap=col != "option")
    for r in rows:
        a = r.annual
        table.add_row(
            f"{cut(r.label)}\n[dim]{cut(r.system)}, {CURVES.get(a.curve, 'no curve')}[/dim]",
            f"{rate(a.flat_per_mw, a.unit)}\n[dim]per MW[/dim]",
            f"{rate(a.per_mw, a.unit)} {_change(a.per_mw, a.flat_per_mw)}\n[dim]"
            f"{rate(a.throughput_low / a.mw, a.unit)} - {rate(a.throughput_high / a.mw, a.unit)}[/dim]",
            f"{MONTHS[a.worst_month]} {rate(a.worst / a.mw, a.unit)}\n{_change(a.worst, a.flat_throughput)}",
            f"{energy_per_unit(a.flat_j_per_unit, a.unit)} flat\n{energy_per_unit(a.j_per_unit, a.unit)} annual",
            _hours(a), _record(a),
        )
    return table


def climate_notes(climates: Sequence[tuple[str, ClimateYear, Cooling]], rows: Sequence[Row]) -> list[str]:
    """What the annual figures rest on: each climate and cooling model, how a constructed year is made, the
    curves (the sources of every figure are in the site's data file and in ``--json``)."""
    out = []
    for label, year, cool in climates:
        where = f"CONSTRUCTED typical year from {year.source}" if year.constructed else year.source
        stand_in = next((n for n in year.notes if n.startswith("figures for ")), "")
        out.append(f"{label}: {year.name}, {where}" + (f" ({stand_in})" if stand_in else "")
                   + f"; cooling: {cool.summary}")
    constructed = next((y.notes[0] for _, y, _ in climates if y.constructed), None)
    if constructed:
        out.append(constructed + ": no day is hotter than its month's mean maximum, so heatwave hours are "
                   "missing (the record-high column shows what one does)")
    for note in dict.fromkeys(r.annual.curve_note for r in rows):
        out.append(f"curve: {note}")
    out.append("annual = hour by hour over 8,760 hours: inlet from the cooling model, derating factor at that inlet, "
               "PUE rising with heat, the allocation's MW a hard cap (machines off when the hall would draw more); "
               "bounds as the flat figure's, widened by the curve's; energy per unit is energy-weighted, facility")
    return [escape(line) for line in out]


def json_block(year: ClimateYear, cool: Cooling) -> dict[str, Any]:
    """A climate and cooling model as JSON: name, source, constructed, notes, monthly means."""
    return {"site": year.name, "source": year.source, "constructed": year.constructed, "notes": list(year.notes),
            "cooling": cool.kind, "cooling_model": cool.summary,
            "monthly_mean_dry_bulb_c": year.monthly_mean(year.dry_bulb_c),
            "monthly_mean_wet_bulb_c": year.monthly_mean(year.wet_bulb_c),
            "monthly_mean_rh_pct": year.monthly_mean(year.rh_pct),
            "record_high_c": list(year.extremes.record_high_c) if year.extremes else None}

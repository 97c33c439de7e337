"""Leaderboard: stored submissions ranked per workload by work per joule.

The figures are the runs' own (throughput over the measured windows, units per
joule over the same windows), printed in the units every other command uses.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from bench import units
from bench.sizing.model import WITH_OVERHEAD, machine_efficiency
from bench.sizing.sources import system_name
from bench.store import DEFAULT_STORE, submissions
from bench.tables import ENERGY_PER, MAX_ROWS, cut, efficiency_header, more_row


@dataclass
class Entry:
    """One run of one submission."""

    workload: str
    org: str
    system: str
    device: str
    throughput: float | None
    unit: str
    per_joule: float | None
    machine_per_joule: float | None
    source: str
    power: str
    unstable: bool
    signed: bool
    id: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)


def entries(store: str | os.PathLike[str] = DEFAULT_STORE, workload: str | None = None) -> list[Entry]:
    """Every ok run in the store: per workload, measured before declared, then work per joule (best first)."""

    out: list[Entry] = []
    for org, _path, doc in submissions(store):
        for run in doc.runs:
            if not run.ok or (workload and run.workload != workload):
                continue
            power = "declared" if doc.declared else "MODELLED" if run.power.modelled else \
                "measured" if run.power.avg_w is not None else "none"
            out.append(Entry(run.workload, org, system_name(doc.system, run), run.device, run.throughput.rate,
                             run.unit, run.efficiency.per_joule, machine_efficiency(run, doc.declared), doc.source,
                             power, run.throughput.unstable,
                             doc.signature is not None, doc.id))
    out.sort(key=lambda x: (x.workload, x.source == "declared", -(x.per_joule or 0.0)))
    return out


def format_table(rows: list[Entry]) -> Any:
    """A rich Table; declared and modelled-power rows are marked, long names cut.

    Rows are ranked by efficiency (units per joule, best first) and show it the way every other command
    does: J/TH for hashing and J/token for tokens (energy per unit of work: lower is better), units per
    joule for other units; the column is headed by what it holds.
    """
    from rich.table import Table


    energy = efficiency_header(r.unit for r in rows)
    inverse = [text for u, text in ENERGY_PER.items() if any(r.unit == u for r in rows)]
    table = Table(title="leaderboard per workload, most work per joule (over the measured windows) first"
                  + (f" = lowest {' or '.join(inverse)} first" if inverse else ""))
    for col in ("workload", "#", "org", "system", "device", "throughput", energy, "power source", "signed"):
        table.add_column(col, justify="right" if col in ("#", "throughput", energy) else "left")

    rank: dict[tuple[str, str], int] = {}
    for r in rows[:MAX_ROWS]:
        group = (r.workload, r.source)
        rank[group] = rank.get(group, 0) + 1
        thr = units.rate(r.throughput, r.unit)
        table.add_row(cut(r.workload), str(rank[group]), cut(r.org), cut(r.system),
                      cut(r.device, 40), f"[yellow]{thr} (unstable)[/yellow]" if r.unstable else thr,
                      units.efficiency(r.per_joule, r.unit) + (
                          f"\n{units.efficiency(r.machine_per_joule, r.unit)} {WITH_OVERHEAD}" if r.machine_per_joule
                          else ""),
                      f"[yellow]{r.power}[/yellow]" if r.power != "measured" else r.power, "yes" if r.signed else "no")
    more_row(table, min(len(rows), MAX_ROWS), len(rows))
    return table

"""Leaderboard: stored submissions ranked per workload by work per joule."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from bench.store import DEFAULT_STORE, submissions


@dataclass
class Entry:
    """One run of one submission."""

    workload: str
    org: str
    system: str
    device: str
    median: float | None
    unit: str
    per_joule: float | None
    per_joule_unit: str
    source: str
    power_measured: bool
    signed: bool
    id: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)


def entries(store: str | os.PathLike[str] = DEFAULT_STORE, workload: str | None = None) -> list[Entry]:
    """Every ok run in the store: per workload, measured before declared, then work per joule (best first)."""
    out: list[Entry] = []
    for org, path, doc in submissions(store):
        if not isinstance(doc, dict):
            continue
        for run in doc.get("runs") or []:
            if not isinstance(run, dict) or run.get("status", "ok") != "ok":
                continue
            if workload and run.get("workload") != workload:
                continue
            t, e, p = run.get("throughput") or {}, run.get("efficiency") or {}, run.get("power") or {}
            med, pj = t.get("median"), e.get("per_joule")
            out.append(Entry(str(run.get("workload")), org, path.parent.name, str(run.get("device")),
                             med if isinstance(med, (int, float)) else None, str(run.get("unit") or ""),
                             pj if isinstance(pj, (int, float)) else None, str(e.get("unit") or ""),
                             str(doc.get("source") or "measured"), bool(p.get("measured")),
                             isinstance(doc.get("signature"), dict), str(doc.get("id"))))
    out.sort(key=lambda x: (x.workload, x.source == "declared", -(x.per_joule or 0.0)))
    return out


def format_table(rows: list[Entry]) -> Any:
    """A rich Table; declared and modelled-power rows are marked."""
    from rich.table import Table

    table = Table(title="leaderboard (work per joule)")
    for col in ("workload", "#", "org", "system", "device", "median", "per joule", "power", "signed"):
        table.add_column(col)
    rank: dict[tuple[str, str], int] = {}
    for r in rows:
        group = (r.workload, r.source)
        rank[group] = rank.get(group, 0) + 1
        power = "declared" if r.source == "declared" else "measured" if r.power_measured else "MODELLED"
        table.add_row(r.workload, str(rank[(r.workload, r.source)]), r.org, r.system, r.device,
                      "-" if r.median is None else f"{r.median:.4g} {r.unit}/s",
                      "-" if r.per_joule is None else f"{r.per_joule:.4g} {r.per_joule_unit}",
                      power, "yes" if r.signed else "no")
    return table

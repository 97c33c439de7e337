"""Tables of runs and of what a megawatt buys."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from bench import units
from bench.sizing import per_megawatt


def labels(runs: list[dict[str, Any]]) -> list[str]:
    """Each run's workload name, plus the parameters that tell apart runs of the same workload (a sweep)."""
    out = []
    for run in runs:
        peers = [r for r in runs if r["workload"] == run["workload"] and r["device"] == run["device"]]
        params = run.get("params", {})
        differ = [k for k in params if any(p.get("params", {}).get(k) != params[k] for p in peers)]
        out.append(run["workload"] + "".join(f" {k}={params[k]}" for k in differ))
    return out


def quality_label(power: dict[str, Any]) -> str:
    """``L0``..``L3`` (the power layer's measurement quality level), red when refused for sizing."""
    level = (power.get("quality") or {}).get("level")
    text = "-" if level is None else f"L{level}"
    return text if power.get("valid_for_sizing", True) else f"[red]{text} refused[/red]"


def power_notes(runs: list[dict[str, Any]]) -> list[str]:
    """One line per run whose power was refused for sizing, had gaps or meters that disagree."""
    notes = []
    for run, label in zip(runs, labels(runs)):
        pw = run.get("power") or {}
        reasons = [*(pw.get("invalid_reasons") or []), *(pw.get("flags") or [])]
        for reason in dict.fromkeys(str(r) for r in reasons):
            notes.append(f"{label} on {run['device']}: {reason}")
    return notes


def runs_table(runs: list[dict[str, Any]], title: str | None = None) -> Table:
    """Workload, device, throughput, average W, efficiency, ceiling fraction, verified, status."""
    table = Table(title=title, title_justify="left")
    for col in ("workload", "device", "throughput", "cv", "avg W", "efficiency", "ceiling", "quality", "verified",
                "status"):
        table.add_column(col, justify="right" if col not in ("workload", "device", "status") else "left")
    for run, label in zip(runs, labels(runs)):
        thr = run["throughput"]
        pw = run["power"]
        watts = units.watts(pw.get("avg_w"))
        if pw.get("avg_w") is not None and not pw.get("measured"):
            watts += " (modelled)"
        frac = run.get("ceiling_fraction")
        cv = thr.get("cv")
        table.add_row(
            label,
            run["device"],
            units.rate(thr.get("median"), run["unit"]),
            f"{cv:.1%}" if cv is not None else "-",
            watts,
            units.efficiency(run["efficiency"].get("per_joule"), run["unit"]),
            f"{frac:.1%}" if frac is not None else "-",
            quality_label(pw),
            "yes" if run["verified"] else "[red]no[/red]",
            run["status"] if run["status"] == "ok" else f"[red]{run['status']}[/red]",
        )
    return table


def per_mw_table(runs: list[dict[str, Any]]) -> tuple[Table, bool]:
    """What one MW of IT power buys per run; the flag says whether any power was modelled."""
    table = Table(title="What 1 MW of IT power buys (PUE 1.0, no node overhead)", title_justify="left")
    for col in ("workload", "device", "machines / MW", "throughput / MW", "MW per", "power"):
        table.add_column(col, justify="right" if col not in ("workload", "device", "power") else "left")
    modelled = False
    for run, name in zip(runs, labels(runs)):
        fig = per_megawatt(run)
        if fig is None:
            refused = (run.get("power") or {}).get("valid_for_sizing") is False
            table.add_row(name, run["device"], "-", "-", "-", "[red]refused[/red]" if refused else "no power figure")
            continue
        scale, label = units.throughput_per_mw_unit(run["unit"])
        modelled |= not fig["measured"]
        table.add_row(
            name,
            run["device"],
            f"{fig['machines_per_mw']:,.0f}",
            units.rate(fig["throughput_per_mw"], run["unit"]),
            f"{fig['mw_per_unit_per_s'] * scale:.4g} MW per {label}",
            "measured" if fig["measured"] else "[yellow]MODELLED[/yellow]",
        )
    return table, modelled


def fleet_table(doc: dict[str, Any]) -> Table | None:
    """Per workload and node of a fleet file: ranks, throughput and power (each meter scope once per node)."""
    fleet = doc.get("fleet")
    if not fleet:
        return None
    unit_of = {r["workload"]: r["unit"] for r in doc.get("runs", [])}
    lost = fleet.get("lost_ranks") or []
    title = f"fleet: {fleet.get('world_size', '?')} ranks on {len(fleet.get('nodes', {}))} node(s)"
    table = Table(title=title + (f", LOST ranks {lost}" if lost else ""), title_justify="left")
    for col in ("workload", "node", "ranks", "throughput", "avg W"):
        table.add_column(col, justify="left" if col in ("workload", "node") else "right")
    for workload, tot in (fleet.get("totals") or {}).items():
        unit = unit_of.get(workload, "")
        for name, node in tot.get("nodes", {}).items():
            ranks = fleet.get("nodes", {}).get(name, {}).get("ranks", [])
            watts = units.watts(node.get("avg_w")) if node.get("avg_w") is not None else "[red]meter failed[/red]"
            table.add_row(workload, name, str(len(ranks)), units.rate(node.get("throughput"), unit), watts)
        total_w = units.watts(tot.get("avg_w")) if tot.get("avg_w") is not None else "[red]incomplete[/red]"
        table.add_row(f"[bold]{workload}[/bold]", "[bold]fleet[/bold]", str(fleet.get("world_size", "")),
                      units.rate(tot.get("throughput"), unit), total_w)
    return table

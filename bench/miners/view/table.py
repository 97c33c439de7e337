"""The table ``sitebench miners run`` prints: one row per miner (per miner and point in a sweep), figures from its
run record."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from bench import units
from bench.record import Document, Run
from bench.record.miners import figures, is_miner


def _status(run: Run) -> str:
    if not run.ok:
        return f"[red]{run.status}[/red]: {escape((run.error or '')[:160])}"
    text = "[green]verified[/green]" if run.verified else f"[red]not verified[/red]: {escape((run.error or '')[:160])}"
    flags = [f for f in run.power.flags if "DISAGREE" in f]
    note = run.metrics.get("note")
    if isinstance(note, str):
        text += f"; {escape(note)}"
    return text + "".join(f"; [yellow]{escape(f[:160])}[/yellow]" for f in flags)


def _setting(run: Run) -> str:
    """``1905 W``, ``2850 W (stock)``, a read-back that differs, ``OVER LIMIT``: the point a run was measured at."""
    s = run.setting
    if s is None:
        return "-"
    text = s.requested if isinstance(s.requested, str) else f"{s.requested:g} {s.unit}"
    if s.read_back is not None and s.read_back != s.requested:
        text += f" (read back {s.read_back if isinstance(s.read_back, str) else f'{s.read_back:g}'})"
    text = escape(text) + (" (stock)" if s.stock else "")
    return text + (" [yellow]OVER LIMIT[/yellow]" if s.over_limit else "")


def run_table(doc: Document) -> Table:
    """Miner, (its setting, in a sweep), model, TH/s, power and its source, J/TH, chips present/expected, hottest
    board, errors, verdict."""
    table = Table(title=f"Miners measured ({len(doc.runs)})", title_justify="left")
    swept = any(r.setting is not None for r in doc.runs)
    for col in ("miner", *(("setting",) if swept else ()), "model", "hash rate", "power", "J/TH", "chips", "max °C",
                "HW err", "result"):
        table.add_column(col, justify="right" if col in ("hash rate", "power", "J/TH", "chips", "max °C", "HW err")
                         else "left")
    for run in doc.runs:
        if not is_miner(run) and run.ok:
            continue
        f = figures(run)
        chips = "-" if f.chips is None else f"{f.chips}" + (f"/{f.chips_expected}" if f.chips_expected else "")
        if f.chips_missing:
            chips = f"[red]{chips}[/red]"
        power = "-" if f.watts is None else f"{units.watts(f.watts)} {f.power}"
        table.add_row(escape(f.key), *((_setting(run),) if swept else ()),
                      escape(f"{f.make} {f.model}" if run.hardware is not None else "-"),
                      units.rate(run.throughput.rate, run.unit), escape(power),
                      "-" if f.j_per_th is None else f"{f.j_per_th:.2f}", chips,
                      "-" if f.temp_max_c is None else f"{f.temp_max_c:.0f}",
                      "-" if f.hw_error_rate is None else f"{f.hw_error_rate:.3%}", _status(run))
    return table

"""The report's operating envelopes: per sweep, its points (power, throughput, efficiency with bounds), the
Pareto frontier, the plot of throughput and energy per unit against power, and the setting chosen for the MW.

Figures are :mod:`bench.sizing.frontier`'s, so the same as ``sitebench size`` and ``show`` print.
"""

from __future__ import annotations

from bench import units
from bench.report import model, plots
from bench.report.page import esc, figure, nowrap, section, table
from bench.sizing.frontier import Envelope, choose, envelopes
from bench.sizing.model import Allocation

#: Envelopes drawn; a file of many sweeps gets its first ones plotted and every one tabled.
MAX_PLOTS = 12


def _rows(env: Envelope, chosen: object) -> list[list[str]]:
    out = []
    for p in env.points:
        s = p.sized
        rb = p.setting.read_back
        out.append([
            esc(p.label), esc("declared" if env.declared else "-" if rb is None else
                              rb if isinstance(rb, str) else f"{rb:g} {p.setting.unit}"),
            f"{nowrap(units.watts(p.power_w))} ({nowrap(units.watts(s.power_w_per_machine_low))} – "
            f"{nowrap(units.watts(s.power_w_per_machine_high))})",
            f"{nowrap(units.rate(p.throughput, env.unit))} ({nowrap(units.rate(p.throughput_low, env.unit))} – "
            f"{nowrap(units.rate(p.throughput_high, env.unit))})",
            nowrap(units.efficiency(s.machine_efficiency, env.unit)),
            esc("on the frontier" if p.on_frontier else "dominated"),
            '<span class="ok">chosen</span>' if p is chosen else "",
        ])
    return out


def envelopes_section(sources: list[model.Source], mw: float, pue: float) -> str:
    """One table and one plot per operating envelope of every file; empty when no run carries a setting."""
    alloc = Allocation(mw, pue)
    body, drawn = "", 0
    for src in sources:
        for env in envelopes(src.doc, src.path, alloc):
            choice = choose(env, mw, pue) if env.points else None
            head = "DECLARED (vendor curve, not measured): " if env.declared else ""
            body += f"<h3>[{esc(src.tag)}] {esc(head)}{esc(env.title)}</h3>"
            body += table(["setting", "read back", "power per machine", "throughput per machine", "efficiency",
                           "frontier", f"for {mw:g} MW"], _rows(env, choice.point if choice else None),
                          numeric={2, 3, 4}, wrap={2, 3})
            if choice is not None:
                body += f'<p>Chosen for {esc(f"{mw:g}")} MW at PUE {esc(f"{pue:g}")}: {esc(choice.gain_text())}</p>'
            if drawn < MAX_PLOTS:
                body += figure(f"{env.title}: throughput and energy per unit against power per machine (whiskers: "
                               "bounds; red: the Pareto frontier)",
                               plots.envelope_plot(env, choice.point if choice else None), "no point could be sized")
                drawn += 1
    if not body:
        return ""
    note = ('<p class="note">An operating envelope is the runs of one machine and workload that differ only in their '
            "setting (a power limit, clocks, a miner's power target). A point is on the Pareto frontier when no other "
            "draws less power and does more work. The point chosen buys the most throughput for the MW; the gain over "
            "stock carries worst-case bounds, as every sizing figure.</p>")
    return section("envelopes", "Operating envelopes", body + note)

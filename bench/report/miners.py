"""The report's ASIC miners section: one row per miner, the J/TH distribution, outliers by k x MAD.

Figures come from each miner's run record through :func:`bench.record.miners.figures` (TH/s is the
run's rate, J/TH 1e12 / its units per joule); outliers are :func:`bench.qualify.outliers.fleet_outliers`
among the miners of one model, as ``qualify`` judges them.
"""

from __future__ import annotations

import statistics

from bench.plotting import PALETTE, plt, svg
from bench.qualify.outliers import K_MAD, MIN_REL_GAP, fleet_outliers
from bench.record.miners import MinerFigures, figures, is_miner
from bench.report.model import Source
from bench.report.page import esc, figure, section, table
from bench.stats import summarize


def histogram(values: list[float], title: str) -> str | None:
    """An SVG histogram of J/TH with the median marked; None for fewer than two values."""
    if len(values) < 2:
        return None
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(8.6, 2.6))
    ax.hist(values, bins=min(30, max(5, len(values) // 3)), color=PALETTE[0], alpha=0.85)
    ax.axvline(statistics.median(values), color="black", lw=1.2, label=f"median {statistics.median(values):.2f}")
    ax.set_xlabel("J/TH (lower is better)")
    ax.set_ylabel("miners")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return svg(fig)


def _row(f: MinerFigures, verified: bool, status: str, outlier: list[str]) -> list[str]:
    chips = "-" if f.chips is None else f"{f.chips}" + (f" / {f.chips_expected}" if f.chips_expected else "")
    if f.chips_missing:
        chips = f'<span class="bad">{esc(chips)} ({f.chips_missing} missing)</span>'
    else:
        chips = esc(chips)
    verdict = '<span class="ok">yes</span>' if verified else '<span class="bad">no</span>'
    if status != "ok":
        verdict = f'<span class="bad">{esc(status)}</span>'
    power = esc(f.power) if f.power not in ("MODELLED", "firmware_estimate") else f'<span class="warn">{esc(f.power)}</span>'
    return [esc(f.key), esc(f"{f.make} {f.model}"), esc(f.firmware),
            esc("-" if f.ths is None else f"{f.ths:.2f}"), esc("-" if f.watts is None else f"{f.watts:.0f}"),
            esc("-" if f.j_per_th is None else f"{f.j_per_th:.2f}"), power, chips,
            esc("-" if f.temp_max_c is None else f"{f.temp_max_c:.0f}"),
            esc("-" if f.hw_error_rate is None else f"{f.hw_error_rate:.4%}"), verdict,
            f'<span class="bad">OUTLIER</span> {esc("; ".join(outlier))}' if outlier else "ok"]


def miners_section(sources: list[Source]) -> str:
    """Per miner of every miners file, with the J/TH distribution and the outliers; empty when none."""
    parts = []
    for src in sources:
        runs = [r for r in src.doc.runs if is_miner(r)]
        if not runs:
            continue
        flagged: dict[str, list[str]] = {}
        for o in fleet_outliers(runs, src.hostname):
            flagged.setdefault(o.key, []).append(o.reason())
        figs = sorted(((figures(r), r) for r in runs), key=lambda p: (p[0].j_per_th is None, p[0].j_per_th or 0.0))
        rows = [_row(f, r.verified, r.status, flagged.get(f.key, [])) for f, r in figs]
        classes = ["outlier" if flagged.get(f.key) else "" for f, _ in figs]
        jth = [f.j_per_th for f, r in figs if f.j_per_th is not None and r.ok]
        stats = summarize(jth)
        dist = "no J/TH recorded" if not jth else (
            f"J/TH over {len(jth)} miner(s): min {min(jth):.2f}, p10 {stats['p10']:.2f}, median {stats['median']:.2f}, "
            f"p90 {stats['p90']:.2f}, max {max(jth):.2f}")
        body = (f"<h3>[{esc(src.tag)}] {esc(src.path)}: {len(runs)} miner(s)</h3><p>{esc(dist)}</p>"
                + figure("J/TH per miner", histogram(jth, "J/TH distribution"), "fewer than two miners with J/TH")
                + table(["miner", "model", "firmware", "TH/s", "W", "J/TH", "power", "chips", "max °C", "HW errors",
                         "verified", "outlier"], rows, numeric={3, 4, 5, 8, 9}, row_classes=classes))
        parts.append(body)
    if not parts:
        return ""
    note = (f'<p class="note">Outlier: TH/s or J/TH worse than the median of the same model by more than {K_MAD:g} x MAD '
            f"and {MIN_REL_GAP:.0%} (bench.qualify.outliers, as qualify). Power: outlet = the miner's PDU outlet "
            "(metered); firmware_estimate = the miner's own figure; MODELLED = nameplate J/TH x measured rate.</p>")
    return section("miners", "ASIC miners", "".join(parts) + note)

"""Temperatures beside power, as ``show`` prints them and the report draws them (:mod:`bench.record.thermal`).

Per run that carries a ``thermal`` block: one row per channel (source, role, unit, the mean of each
measured window, the lowest and highest reading, the source's thresholds and the headroom to the lowest
of them), one line per throttled device (seconds throttled and the reasons), and in the report a plot of
each channel's per-window mean against the windows, one panel per unit, thresholds dotted.
"""

from __future__ import annotations

from rich.table import Table

from bench.plotting import PALETTE, label, plt, svg
from bench.record import Run
from bench.record.thermal import Thermal, ThermalChannel
from bench.report import model
from bench.report.page import esc, figure, nowrap, section, table
from bench.tables import MAX_ROWS, cut, more_row

#: Window means shown per channel in a table (a soak has hundreds: the first and last are shown).
SHOWN_WINDOWS = 6
#: Runs whose thermal block the report draws; channels per panel.
MAX_RUNS = 40
MAX_PER_PANEL = 10
#: The order channels are drawn and listed in: the air first, then the devices.
ROLE_ORDER = ("inlet", "ambient", "outlet", "humidity", "core", "memory", "package", "chip", "board", "fan")


def _fmt(value: float, unit: str) -> str:
    return f"{value:.0f}" if unit == "rpm" else f"{value:.1f}"


def window_means(c: ThermalChannel, limit: int = SHOWN_WINDOWS) -> str:
    """``24.1 24.3 … 31.0`` (``-`` for a window without a reading, ``*`` after a held one)."""
    cells = ["-" if w is None else _fmt(w.mean, c.unit) + ("*" if w.held else "") for w in c.windows]
    if len(cells) > limit:
        cells = cells[: limit // 2] + ["…"] + cells[-(limit - limit // 2):]
    return " ".join(cells)


def headroom(c: ThermalChannel) -> float | None:
    """°C between the hottest reading of the measured windows and the lowest threshold the source reports."""
    if c.unit != "°C" or not c.thresholds or c.summary is None:
        return None
    return min(c.thresholds.values()) - c.summary.max


def ordered(th: Thermal) -> list[ThermalChannel]:
    """The channels, the air first (the order of :data:`ROLE_ORDER`), otherwise as recorded."""
    return sorted(th.channels, key=lambda c: ROLE_ORDER.index(c.role) if c.role in ROLE_ORDER else len(ROLE_ORDER))


def throttle_lines(run: Run) -> list[str]:
    """One line per device that throttled in the measured windows: seconds, fraction and reasons."""
    th = run.thermal
    out = []
    for t in th.throttle if th is not None else []:
        if t.seconds <= 0:
            continue
        reasons = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(t.reasons.items(), key=lambda kv: -kv[1])[:6])
        out.append(f"{t.device} throttled {t.seconds:.1f} s ({t.fraction:.0%} of the measured windows): {reasons}")
    return out


def thermal_table(runs: list[Run], labels: list[str] | None = None) -> Table | None:
    """Every run's channels as one terminal table; None when no run carries temperatures."""
    rows = [(run, lab, c) for run, lab in zip(runs, labels or [r.workload for r in runs]) if run.thermal is not None
            for c in ordered(run.thermal)]
    if not rows:
        return None
    table_ = Table(title="temperatures per measured window (* held from the reading before; thresholds as the "
                         "source reports them)", title_justify="left")
    for col in ("run", "channel", "source", "role", "unit", "window means", "min–max", "thresholds", "headroom"):
        table_.add_column(col, justify="right" if col in ("min–max", "headroom") else "left")
    for run, lab, c in rows[:MAX_ROWS]:
        s = c.summary
        room = headroom(c)
        table_.add_row(cut(f"{lab} on {run.device}"), cut(c.name), c.source, c.role, c.unit, cut(window_means(c)),
                       f"{_fmt(s.min, c.unit)}–{_fmt(s.max, c.unit)}" if s else "-",
                       cut(", ".join(f"{k} {v:g}" for k, v in c.thresholds.items())) or "-",
                       "-" if room is None else (f"{room:.1f} °C" if room > 0 else f"[red]{room:.1f} °C[/red]"))
    more_row(table_, min(len(rows), MAX_ROWS), len(rows))
    return table_


def thermal_plot(run: Run) -> str | None:
    """Each channel's per-window mean against the window number, one panel per unit; None without a channel."""
    th = run.thermal
    if th is None or not th.channels:
        return None
    panels = [(unit, [c for c in ordered(th) if c.unit == unit and any(w is not None for w in c.windows)][:MAX_PER_PANEL])
              for unit in ("°C", "%RH", "rpm")]
    panels = [(u, cs) for u, cs in panels if cs]
    throttled = [t for t in th.throttle if any(w is not None for w in t.windows)]
    rows = len(panels) + (1 if throttled else 0)
    if not rows:
        return None
    pyplot = plt()
    fig, axes = pyplot.subplots(rows, 1, figsize=(8.6, 1.7 * rows + 0.8), sharex=True, layout="constrained",
                                squeeze=False)
    axes = [a[0] for a in axes]
    for ax, (unit, channels) in zip(axes, panels):
        for i, c in enumerate(channels):
            pts = [(n, w.mean) for n, w in enumerate(c.windows[:2000]) if w is not None]
            colour = PALETTE[i % len(PALETTE)]
            ax.plot([n for n, _ in pts], [v for _, v in pts], "o-", ms=2.5, lw=1, color=colour,
                    label=label(f"{c.name} ({c.role})"))
            for value in list(c.thresholds.values())[:2] if unit == "°C" else []:
                ax.axhline(value, ls=":", lw=0.8, color=colour)
        ax.set_ylabel(unit)
        ax.legend(loc="upper left", fontsize=7, frameon=False, bbox_to_anchor=(1.01, 1.0))
    if throttled:
        ax = axes[-1]
        for i, t in enumerate(throttled[:MAX_PER_PANEL]):
            pts = [(n, w.fraction) for n, w in enumerate(t.windows[:2000]) if w is not None]
            ax.plot([n for n, _ in pts], [v for _, v in pts], "s-", ms=2.5, lw=1, color=PALETTE[i % len(PALETTE)],
                    label=label(t.device))
        ax.set_ylim(-0.05, 1.05)
        ax.set_ylabel("throttled")
        ax.legend(loc="upper left", fontsize=7, frameon=False, bbox_to_anchor=(1.01, 1.0))
    axes[-1].set_xlabel("measured window")
    return svg(fig)


def thermal_section(refs: list[model.RunRef]) -> str:
    """The report's temperatures: per run, its per-window plot and its channels; empty when no run has any."""
    with_thermal = [r for r in refs if r.run.thermal is not None and r.run.thermal.channels]
    if not with_thermal:
        return ""
    body = ""
    for r in with_thermal[:MAX_RUNS]:
        th = r.run.thermal
        assert th is not None
        body += figure(f"{r.run.workload} on {r.label}: temperatures per measured window (thresholds dotted)",
                       thermal_plot(r.run), "no channel had a reading in a measured window")
        rows = []
        for c in ordered(th)[:200]:
            s = c.summary
            room = headroom(c)
            rows.append([esc(c.name), esc(c.source), esc(c.role), esc(c.unit), esc(window_means(c, 12)),
                         nowrap(f"{_fmt(s.min, c.unit)}–{_fmt(s.max, c.unit)}") if s else "-",
                         esc(", ".join(f"{k} {v:g}" for k, v in c.thresholds.items()) or "-"),
                         "-" if room is None else (esc(f"{room:.1f} °C") if room > 0
                                                   else f'<span class="bad">{esc(f"{room:.1f} °C")}</span>'),
                         esc(c.sensor)])
        body += table(["channel", "source", "role", "unit", "window means", "min–max", "thresholds", "headroom",
                       "sensor"], rows, numeric={5, 7})
        lines = throttle_lines(r.run)
        if lines:
            body += '<p class="warn">' + "<br>".join(esc(x) for x in lines) + "</p>"
    if len(with_thermal) > MAX_RUNS:
        body += f'<p class="note">The temperatures of the first {MAX_RUNS} of {len(with_thermal)} runs.</p>'
    note = ('<p class="note">Inlet and ambient channels are the air the machine breathes (role inlet: at its intake; '
            "ambient: the room's, a PDU probe's); a derating fit reads the first of them. * : a window without a "
            "reading of its own, holding the one before it.</p>")
    return section("thermal", "Temperatures", body + note)

"""Soaks in the report (:mod:`bench.record.soak`): per soaked run, its figures per window against time with
the fitted drift, and one table of every soak's drift, interval, verdict and time throttled."""

from __future__ import annotations

from bench.measure.soak import figures
from bench.plotting import PALETTE, plt, svg
from bench.record import Run
from bench.record.soak import Drift
from bench.report import model
from bench.report.page import esc, figure, nowrap, section, table

#: Soaked runs drawn (each one figure); points per line.
MAX_RUNS = 20
MAX_POINTS = 5000


def drift_cell(d: Drift | None) -> str:
    """``-1.20 %/h [-1.60, -0.80] drifting`` (``-`` without a figure)."""
    if d is None:
        return "-"
    ci = f" [{d.low * 100:+.2f}, {d.high * 100:+.2f}]" if d.low is not None and d.high is not None else ""
    return f"{d.per_hour * 100:+.2f} %/h{ci} {d.verdict}"


def soak_plot(run: Run) -> str | None:
    """Each window's throughput and units per joule as a share of their mean against hours into the soak, with
    the drift's line through the middle; None without two windows."""
    s = run.soak
    mids, rates, eff = figures(run)
    if s is None or len(mids) < 2:
        return None
    centre = sum(mids) / len(mids)
    ends = [mids[0], mids[-1]]
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(8.6, 2.8), layout="constrained")
    for i, (name, ys, d) in enumerate((("throughput", rates, s.throughput), ("units per joule", eff, s.efficiency))):
        if ys is None or d is None or not d.mean:
            continue
        step = max(1, len(mids) // MAX_POINTS)
        hours = [(t - mids[0]) / 3600 for t in mids[::step]]
        colour = PALETTE[i % len(PALETTE)]
        ax.plot(hours, [y / d.mean for y in ys[::step]], "o", ms=2.5, color=colour,
                label=f"{name}: {d.per_hour * 100:+.2f} %/h")
        ax.plot([(t - mids[0]) / 3600 for t in ends], [1 + d.per_hour * (t - centre) / 3600 for t in ends], "-",
                lw=1.2, color=colour)
    for sign in (1, -1):  # a drift at the threshold, either way: a line steeper than these drifts
        ax.plot([(t - mids[0]) / 3600 for t in ends], [1 + sign * s.threshold * (t - centre) / 3600 for t in ends],
                "--", lw=0.8, color="#888888", label=f"±{s.threshold * 100:g} %/h" if sign > 0 else None)
    ax.set_xlabel("hours into the soak (window mid-times)")
    ax.set_ylabel("share of the soak's mean")
    ax.legend(loc="upper left", fontsize=7, frameon=False, bbox_to_anchor=(1.01, 1.0))
    return svg(fig)


def soak_section(refs: list[model.RunRef]) -> str:
    """The report's soaks: a plot per soaked run and a table of all of them; empty when no run is a soak."""
    soaked = [r for r in refs if r.run.soak is not None]
    if not soaked:
        return ""
    body = ""
    rows = []
    for r in soaked:
        s = r.run.soak
        assert s is not None
        throttled = "not reported" if s.throttled_fraction is None else \
            f"{s.throttled_fraction:.1%} ({s.throttled_s or 0:.0f} s)"
        reasons = ", ".join(f"{k} {v:.0f} s" for t in s.throttle for k, v in sorted(t.reasons.items())[:4])
        rows.append([esc(f"{r.run.workload} on {r.label}"), nowrap(f"{s.windows}/{s.planned_windows}"),
                     nowrap(f"{s.duration_s / 3600:.3g} h"), esc(drift_cell(s.throughput)), esc(drift_cell(s.efficiency)),
                     esc(f"{s.verdict} (±{s.threshold * 100:g} %/h)"), esc(throttled), esc(reasons or "-")])
    body += table(["run", "windows", "measured", "throughput drift (95% interval)", "efficiency drift",
                   "verdict", "throttled", "reasons"], rows, numeric={1, 2})
    for r in soaked[:MAX_RUNS]:
        body += figure(f"{r.run.workload} on {r.label}: each window against its mean, the drift's line, the "
                       "threshold's slopes dashed", soak_plot(r.run), "fewer than two windows")
    if len(soaked) > MAX_RUNS:
        body += f'<p class="note">The plots of the first {MAX_RUNS} of {len(soaked)} soaks.</p>'
    note = ('<p class="note">Drift: the OLS slope of each window\'s figure against its mid-time, as a share of the '
            "mean per hour; the 95% interval allows for windows that are not independent (an effective sample "
            "size from the residuals' lag-1 autocorrelation). Stable: the interval lies within the threshold; "
            "drifting: wholly outside it; else inconclusive.</p>")
    return section("soak", "Soaks", body + note)

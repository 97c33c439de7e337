"""A derating fit is recomputed: its points from the runs they name, its curves from its points.

For a fitted ``derating`` block (``sitebench derate --out``): every point must be what
:mod:`bench.sizing.derate_points` reads from its run and window (inlet temperature, throughput, power);
the throughput and power curves are fitted again from the points (:mod:`bench.sizing.derate`) and must give
the same knee, knee interval, level and slopes; too few points is a finding. A declared block is checked for
its own consistency (steps and shutdown in order, factors between 0 and 1).
"""

from __future__ import annotations

from bench.errors import UsageError
from bench.record import Document
from bench.record.derating import DerateCurve, Derating
from bench.sizing.derate import MIN_POINTS, refit
from bench.sizing.derate_points import run_points
from bench.validation.core import Finding, check, close

NAME = "derating"
#: Temperatures and figures compared at this relative tolerance (the fit is deterministic; JSON round-trips).
REL = 1e-6


def _points(doc: Document, d: Derating) -> list[Finding]:
    out = []
    for i, p in enumerate(d.points):
        where = f"$.derating.points[{i}]"
        if p.run >= len(doc.runs):
            out.append(Finding(NAME, f"{where}.run", f"run {p.run}: the file has {len(doc.runs)} runs"))
            continue
        mine = {q.window: q for q in run_points(doc.runs[p.run], p.run)}
        q = mine.get(p.window)
        if q is None:
            out.append(Finding(NAME, where, f"run {p.run} window {p.window}: no inlet temperature there to read"))
            continue
        for key in ("inlet_c", "throughput", "power_w"):
            if not close(getattr(p, key), getattr(q, key), REL):
                out.append(Finding(NAME, f"{where}.{key}", f"{getattr(p, key)!r} but run {p.run} window "
                                                           f"{p.window} gives {getattr(q, key)!r}"))
    return out


def _curve(d: Derating, c: DerateCurve | None, quantity: str) -> list[Finding]:
    if c is None:
        return []
    where = f"$.derating.{quantity}"
    try:
        f = refit(d, quantity)
    except UsageError as exc:
        return [Finding(NAME, where, str(exc))]
    want = {"knee_c": f.knee, "knee_low_c": float(f.knees.min()), "knee_high_c": float(f.knees.max()),
            "level": float(f.coef[0]), "slope_below": float(f.coef[1]), "slope_above": float(f.coef[2])}
    out = [Finding(NAME, f"{where}.{k}", f"{getattr(c, k)!r} but the points give {v!r} (the knee, its interval "
                                         "and the slopes are refitted from the points)")
           for k, v in want.items() if not close(getattr(c, k), v, REL)]
    if c.knee_identified != f.identified:
        out.append(Finding(NAME, f"{where}.knee_identified", f"{c.knee_identified} but the points give {f.identified}"))
    return out


def _declared(d: Derating) -> list[Finding]:
    out = []
    for key in ("throughput_steps", "power_steps"):
        for i, s in enumerate(getattr(d, key)):
            if s.factor > 1:
                out.append(Finding(NAME, f"$.derating.{key}[{i}].factor", f"{s.factor}: a derating above 1"))
    if d.knee_c is not None and d.shutdown_c is not None and d.shutdown_c < d.knee_c:
        out.append(Finding(NAME, "$.derating.shutdown_c", f"{d.shutdown_c} °C, below the knee ({d.knee_c} °C)"))
    return out


@check(NAME)
def derating(doc: Document) -> list[Finding]:
    """The derating block follows from the runs and points it names."""
    d = doc.derating
    if d is None:
        return []
    if d.source == "declared":
        return _declared(d)
    if d.throughput is None:
        return [Finding(NAME, "$.derating.throughput", "a fitted derating without its throughput curve")]
    if len(d.points) < MIN_POINTS:
        return [Finding(NAME, "$.derating.points", f"{len(d.points)} points: a fit needs at least {MIN_POINTS}")]
    return _points(doc, d) + _curve(d, d.throughput, "throughput") + _curve(d, d.power, "power")

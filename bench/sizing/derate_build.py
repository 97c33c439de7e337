"""``sitebench derate``: the points of one or more result files, one workload's curves, and the file it writes.

The output document holds the runs the points came from (copied, renumbered) and the ``derating`` block,
so that ``validate`` can rebuild every point from its run and refit the curves (the system is the first
input file's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.errors import UsageError
from bench.record import Document, Run, new_document
from bench.record.derating import DeratePoint, Derating
from bench.sizing.derate import METHOD, MIN_POINTS, check_points, curve_record, fit
from bench.sizing.derate_points import run_points
from bench.sizing.sources import system_name


@dataclass(frozen=True)
class Built:
    """The fitted derating and the document that carries it with its runs."""

    derating: Derating
    doc: Document


def build(docs: Sequence[tuple[str, Document]], workload: str | None = None) -> Built:
    """Fit one workload's curves from every run of ``docs`` that carries an inlet temperature."""
    found: list[tuple[str, int, Run, list[DeratePoint]]] = []
    for path, doc in docs:
        if doc.declared:
            raise UsageError(f"{path}: a declared file: derate fits measured windows, not published figures")
        for i, run in enumerate(doc.runs):
            if workload not in (None, run.workload):
                continue
            pts = run_points(run, i)
            if pts:
                found.append((path, i, run, pts))
    if not found:
        which = f" of workload {workload}" if workload is not None else ""
        raise UsageError(f"derate: no run{which} carries an inlet or ambient temperature (a thermal block's inlet or "
                         "ambient channel, a meter's telemetry key ending inlet_c or ambient_c per window, or "
                         "metrics.inlet_c): nothing to fit")
    workloads = sorted({run.workload for _, _, run, _ in found})
    if len(workloads) > 1:
        raise UsageError(f"derate: runs of {len(workloads)} workloads ({', '.join(workloads)}): choose one with "
                         "--workload")
    units = {run.unit for _, _, run, _ in found}
    if len(units) > 1:
        raise UsageError(f"derate: runs in different units ({', '.join(sorted(units))}): one curve needs one unit")
    runs: list[Run] = []
    points: list[DeratePoint] = []
    for _, _, run, pts in found:
        points.extend(p.model_copy(update={"run": len(runs)}) for p in pts)
        runs.append(run)
    check_points([p.inlet_c for p in points], "derate")
    unit = runs[0].unit
    thr = curve_record(fit([p.inlet_c for p in points], [p.throughput for p in points], "derate (throughput)"),
                       "throughput", f"{unit}/s")
    powered = [p for p in points if p.power_w is not None]
    power = curve_record(fit([p.inlet_c for p in powered], [float(p.power_w or 0.0) for p in powered],
                             "derate (power)"), "power", "W") if len(powered) >= MIN_POINTS else None
    first = docs[0][1]
    notes = [f"{len(points)} points from {len(runs)} run(s) of {len(docs)} file(s): "
             + ", ".join(dict.fromkeys(p for p, _, _, _ in found))]
    if power is None:
        notes.append(f"power: {len(powered)} point(s) with power, fewer than {MIN_POINTS}: no power curve")
    for c in (thr, power):
        if c is not None and not c.knee_identified:
            notes.append(f"{c.quantity}: the knee is not identified within the measured temperatures (a straight "
                         "line fits as well): soak beyond the range measured")
    derating = Derating(source="fitted", workload=runs[0].workload, unit=unit,
                        system=system_name(first.system, runs[0])[:200],
                        channel=points[0].channel, method=METHOD, points=points, throughput=thr, power=power,
                        notes=notes)
    doc = new_document(first.system, runs, settings=first.settings)
    return Built(derating, doc.model_copy(update={"derating": derating}))

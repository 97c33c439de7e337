"""Checks that rebuild a run's power block from its meters, and a fleet's totals from its runs.

The power layer's own code (:mod:`bench.power.window`) runs again on the
meters' figures: which meters are primary, the scope, scope class and
``measured`` they give, the energy and idle figures they sum to, the
cross-checks and the quality level. A file whose block says more than its
meters (a modelled run relabelled as a wall meter, energy halved beside its
meters) fails here; the meters' own figures are tied to their traces by
:mod:`bench.validation.trace`, and a meter with an energy figure but no trace is refused.
"""

from __future__ import annotations

from bench.measure.totals import totals
from bench.power.window.crosscheck import crosscheck
from bench.power.window.energy import missing_components, primary
from bench.power.window.quality import quality, scope_class
from bench.record import Document
from bench.validation.consistency import measured
from bench.validation.core import Finding, check, close


def _sum(values: list[float | None]) -> float | None:
    return sum(v for v in values if v is not None) if values and all(v is not None for v in values) else None


@check("power-derivation")
def power_from_meters(doc: Document) -> list[Finding]:
    """The power block is what its meters give: primary scope, class, measured, energy, idle, checks, quality."""
    out: list[Finding] = []
    for i, run in measured(doc):
        p = run.power
        base = f"$.runs[{i}].power"
        if p.energy_j is None:
            continue
        chosen = primary(p.meters)
        if not chosen:
            out.append(Finding("power-derivation", f"{base}.energy_j", "an energy figure but no meter gives one"))
            continue
        want = {"scope": "+".join(m.scope for m in chosen), "scope_class": scope_class(chosen),
                "measured": all(m.measured for m in chosen)}
        for key, value in want.items():
            if getattr(p, key) != value:
                out.append(Finding("power-derivation", f"{base}.{key}",
                                   f"{getattr(p, key)!r} but the meters give {value!r}"))
        energy = sum(m.energy_j or 0.0 for m in chosen)
        if not close(p.energy_j, energy):
            out.append(Finding("power-derivation", f"{base}.energy_j",
                               f"{p.energy_j:.6g} J but the primary meters add up to {energy:.6g} J"))
        for key in ("idle_before_w", "idle_after_w"):
            if not close(getattr(p, key), _sum([getattr(m, key) for m in chosen])):
                out.append(Finding("power-derivation", f"{base}.{key}", "not the primary meters' sum"))
        refused = any(not m.valid for m in chosen) or bool(missing_components(p.meters, chosen))
        if refused and p.valid_for_sizing:
            out.append(Finding("power-derivation", f"{base}.valid_for_sizing",
                               "a primary meter was refused (or left out) but the run is marked valid"))
        unattributed, checks = crosscheck(p.meters)
        recorded = {(tuple(c.outer), tuple(c.inner)): c for c in p.crosschecks}
        hidden = [c for c in checks if not c.agree and recorded.get((tuple(c.outer), tuple(c.inner)), c).agree]
        if hidden or not close(p.unattributed_w, unattributed):  # a stricter recorded check is allowed
            what = f"{'+'.join(hidden[0].inner)} against {'+'.join(hidden[0].outer)} disagree" if hidden \
                else "unattributed power"
            out.append(Finding("power-derivation", f"{base}.crosschecks", f"not what the meters' figures give ({what})"))
        level = quality(chosen, p.valid_for_sizing, p.idle_before_w, p.idle_after_w, checks).level
        if p.quality.level > level:
            out.append(Finding("power-derivation", f"{base}.quality.level",
                               f"level {p.quality.level} claimed, the meters support {level}"))
        for k, m in enumerate(p.meters):  # refused or not: a figure the file holds rests on its readings
            if m.energy_j is not None and not m.trace:
                out.append(Finding("power-derivation", f"{base}.meters[{k}].trace",
                                   "an energy figure without the readings' trace to check it against"))
    return out


@check("fleet-totals")
def fleet_totals_from_runs(doc: Document) -> list[Finding]:
    """A fleet file's totals are its runs' throughput summed and its nodes' power counted once per meter scope."""

    out: list[Finding] = []
    if doc.fleet is None or not doc.fleet.totals:
        return out
    want = totals(doc.runs)
    for workload, tot in doc.fleet.totals.items():
        base = f"$.fleet.totals.{workload}"
        w = want.get(workload)
        if w is None:
            out.append(Finding("fleet-totals", base, "no run of this workload"))
            continue
        if not close(tot.throughput, w.throughput) or not close(tot.avg_w, w.avg_w):
            out.append(Finding("fleet-totals", base,
                               f"throughput {tot.throughput:.6g}, power {tot.avg_w} but the runs give "
                               f"{w.throughput:.6g} and {w.avg_w}"))
        for node, n in tot.nodes.items():
            m = w.nodes.get(node)
            if m is None or not close(n.throughput, m.throughput) or not close(n.avg_w, m.avg_w):
                out.append(Finding("fleet-totals", f"{base}.nodes.{node}", "not what this node's runs give"))
    return out

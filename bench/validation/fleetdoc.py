"""A merged fleet's result (``sitebench merge``): its totals, models and average miners recomputed from its sums.

The runs of a merged fleet are each model's average miner (:func:`bench.record.shards.average_miner`):
their raw data are the shards' samples, which ``merge`` validated (and ``sitebench validate SHARD...``
validates again). Here, everything the fleet result holds is recomputed from the sums it carries:

- the shards: numbered ``0..shards-1`` once each, merged or missing, ``complete`` only with none missing
  (an incomplete fleet is a finding: it is not the fleet);
- each model's hashes, seconds and joules are its windows' sums, its miners per window at most its usable
  miners, its distributions count no more miners than it measured;
- the totals are the models' sums, J/TH the usable miners' joules over their hashes, the outliers counted
  at least as many as listed;
- each model with usable miners has its average miner as a run, and that run's throughput (every
  statistic), power and efficiency are what the model's windows give; a model without one has a failed run.
"""

from __future__ import annotations

from bench.record import Document, Run, figures
from bench.record.shards import ModelGroup, average_miner
from bench.validation.core import Finding, check, close


def _model_of(run: Run) -> tuple[str, str] | None:
    hw = run.hardware
    return (hw.make or "?", hw.model or "?") if hw is not None else None


def _run_matches(run: Run, g: ModelGroup, base: str) -> list[Finding]:
    units, durations, energies = average_miner(g.slots)
    if not run.ok:
        return [Finding("miners-fleet", f"{base}.status", f"{run.status}, but {g.usable} usable miner(s) of its model")]
    t, p = run.throughput, run.power
    out: list[Finding] = []
    if len(t.units) != len(units) or not all(close(a, b) for a, b in zip(t.units, units)) \
            or not all(close(a, b) for a, b in zip(t.durations_s, durations)):
        out.append(Finding("miners-fleet", f"{base}.throughput.units",
                           "not the model's windows' hashes and seconds over its miners per window"))
        return out
    want = figures.throughput(units, durations, run.unit)
    for k in ("rate", "median", "p10", "p90", "mean", "min", "max", "cv"):
        if not close(getattr(t, k), getattr(want, k), 1e-6 if k != "cv" else 1e-4):
            out.append(Finding("miners-fleet", f"{base}.throughput.{k}", f"{getattr(t, k)} but the windows give "
                                                                         f"{getattr(want, k)}"))
    if t.samples != want.samples and not all(close(a, b) for a, b in zip(t.samples, want.samples)):
        out.append(Finding("miners-fleet", f"{base}.throughput.samples", "not the windows' hashes over their seconds"))
    energy, seconds = sum(energies), sum(durations)
    checks = (("power.energy_j", p.energy_j, energy), ("power.window_s", p.window_s, seconds),
              ("power.avg_w", p.avg_w, energy / seconds if seconds else None),
              ("efficiency.per_joule", run.efficiency.per_joule, figures.per_joule(units, energy)))
    for key, got, exp in checks:
        if not close(got, exp):
            out.append(Finding("miners-fleet", f"{base}.{key}", f"{got} but the model's windows give {exp}"))
    if len(p.window_energy_j) != len(energies) or not all(close(a, b) for a, b in zip(p.window_energy_j, energies)):
        out.append(Finding("miners-fleet", f"{base}.power.window_energy_j", "not the model's windows' joules"))
    if any(m.energy_j is not None and not close(m.energy_j, energy) for m in p.meters):
        out.append(Finding("miners-fleet", f"{base}.power.meters", "a meter's energy is not the model's windows' joules"))
    return out


def _model(g: ModelGroup, base: str) -> list[Finding]:
    out = []
    for key in ("hashes", "seconds", "joules"):
        if not close(getattr(g, key), sum(getattr(s, key) for s in g.slots)):
            out.append(Finding("miners-fleet", f"{base}.{key}", f"{getattr(g, key)} but its windows add up to "
                                                               f"{sum(getattr(s, key) for s in g.slots)}"))
    if any(s.miners > g.usable for s in g.slots):
        out.append(Finding("miners-fleet", f"{base}.slots", f"a window with more miners than its {g.usable} usable"))
    if not g.usable <= g.verified <= g.measured <= g.miners and not g.usable <= g.measured <= g.miners:
        out.append(Finding("miners-fleet", base, "usable, verified, measured and miners out of order"))
    for key in ("ths", "j_per_th", "temp_max_c"):
        if getattr(g, key).count > g.measured:
            out.append(Finding("miners-fleet", f"{base}.{key}.count", f"more than the {g.measured} miners measured"))
    if sum(g.missing_chips.values()) > g.measured:
        out.append(Finding("miners-fleet", f"{base}.missing_chips", f"more than the {g.measured} miners measured"))
    return out


@check("miners-fleet")
def miners_fleet(doc: Document) -> list[Finding]:
    """A merged fleet's shards, totals, models and average miners, recomputed from its sums."""
    fleet = doc.miners_fleet
    if fleet is None:
        return []
    out: list[Finding] = []
    ks = [m.k for m in fleet.members]
    if len(set(ks)) != len(ks) or set(ks) & set(fleet.missing) or set(ks) | set(fleet.missing) != set(range(fleet.shards)):
        out.append(Finding("miners-fleet", "$.miners_fleet.members",
                           f"shards merged {sorted(ks)} and missing {fleet.missing} are not 0..{fleet.shards - 1} once each"))
    if fleet.complete == bool(fleet.missing):
        out.append(Finding("miners-fleet", "$.miners_fleet.complete", f"{fleet.complete} with missing {fleet.missing}"))
    if fleet.missing:
        out.append(Finding("miners-fleet", "$.miners_fleet.missing", "incomplete: missing shard(s) "
                           + ", ".join(f"{k}/{fleet.shards}" for k in fleet.missing)))
    for j, g in enumerate(fleet.models):
        out += _model(g, f"$.miners_fleet.models[{j}]")
    tot, models = fleet.totals, fleet.models
    for key in ("miners", "measured", "verified", "usable", "hashrate_hs", "power_w"):
        if not close(float(getattr(tot, key)), float(sum(getattr(g, key) for g in models))):
            out.append(Finding("miners-fleet", f"$.miners_fleet.totals.{key}", f"{getattr(tot, key)} but the models "
                               f"add up to {sum(getattr(g, key) for g in models)}"))
    hashes = sum(g.hashes for g in models if g.usable)
    jpth = sum(g.joules for g in models if g.usable) / hashes * 1e12 if hashes else None
    if not close(tot.j_per_th, jpth):
        out.append(Finding("miners-fleet", "$.miners_fleet.totals.j_per_th", f"{tot.j_per_th} but the models give {jpth}"))
    short = sum(n for g in models for c, n in g.missing_chips.items() if c != "0")
    if tot.missing_chips_miners != short:
        out.append(Finding("miners-fleet", "$.miners_fleet.totals.missing_chips_miners", f"{tot.missing_chips_miners} "
                                                                                        f"but the models count {short}"))
    if tot.outliers < len(fleet.outliers):
        out.append(Finding("miners-fleet", "$.miners_fleet.totals.outliers", f"fewer than the {len(fleet.outliers)} listed"))
    by_model = {(g.make, g.model): g for g in models}
    covered = set()
    for i, run in enumerate(doc.runs):
        group = by_model.get(_model_of(run) or ("", ""))
        if group is None:
            out.append(Finding("miners-fleet", f"$.runs[{i}]", "a run of no model of the fleet"))
            continue
        covered.add((group.make, group.model))
        if group.usable:
            out += _run_matches(run, group, f"$.runs[{i}]")
        elif run.ok:
            out.append(Finding("miners-fleet", f"$.runs[{i}].status", "ok, but its model has no usable miner"))
    for g in models:
        if g.usable and (g.make, g.model) not in covered:
            out.append(Finding("miners-fleet", "$.runs", f"no average miner for {g.make} {g.model} ({g.usable} usable)"))
    return out

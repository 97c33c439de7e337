"""What a result file offers to size: its runs (a fleet file's nodes), with readable system names.

A run is sized as one machine. A fleet file (one run per rank, a ``fleet``
block with totals) is sized per node instead: for each workload, one average
node with the fleet's total throughput and node power divided by the number
of nodes, and throughput bounds from the ranks' summed p10 / p90. A file of ASIC miners is sized
as one average miner per model (:mod:`bench.sizing.miners`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bench.record import Document, Efficiency, Run, System, Throughput, no_power
from bench.record.run import Status
from bench.sizing.miners import by_model


@dataclass(frozen=True)
class Candidate:
    """One thing to size: a run (or a fleet's average node), where it came from, what to call it."""

    file: str
    index: int
    run: Run
    system: str
    declared: bool


def system_name(system: System, run: Run | None = None) -> str:
    """A readable name: the unit measured (a miner), the declared model, the GPU(s) of a CUDA run, else the CPU."""
    if run is not None and run.hardware is not None:
        hw = run.hardware
        return " ".join(x for x in (hw.make, hw.model) if x) or hw.kind
    if system.model:
        return system.model
    device = run.device if run is not None else ""
    if device.startswith("cuda") and system.gpus:
        idx = device.partition(":")[2]
        chosen = [g for g in system.gpus if str(g.index) == idx] if idx.isdigit() else system.gpus
        names = Counter(g.name for g in chosen or system.gpus)
        return ", ".join(f"{n}x {name}" if n > 1 else name for name, n in names.items())
    if system.cpu is not None and system.cpu.model:
        return system.cpu.model
    return system.hostname or "?"


def _sum(values: list[float | None], count: int) -> float | None:
    return sum(v for v in values if v is not None) / count if values and all(v is not None for v in values) else None


def _fleet_nodes(doc: Document, file: str) -> list[Candidate]:
    fleet = doc.fleet
    assert fleet is not None
    first_system = next((n.system for n in fleet.nodes.values()), doc.system)
    out = []
    for i, (workload, tot) in enumerate(fleet.totals.items()):
        mine = [r for r in doc.runs if r.workload == workload]
        ok = [r for r in mine if r.ok]
        count = max(len(tot.nodes), 1)
        per_node = max(len(mine) // count, 1)
        model = (ok or mine)[0] if mine else None
        unit = model.unit if model else "?"
        refused = [r.power.invalid_reasons[0] if r.power.invalid_reasons else "refused"
                   for r in ok if not r.power.valid_for_sizing]
        avg_w = tot.avg_w / count if tot.avg_w is not None else None
        rate = tot.throughput / count if ok else None
        power = (model.power if model else no_power()).model_copy(update={
            "avg_w": avg_w, "trace": [], "window_energy_j": [],
            "valid_for_sizing": not refused and avg_w is not None,
            "invalid_reasons": [f"{len(refused)} rank(s): {refused[0]}"] if refused else [],
        })
        status: Status = "ok" if ok and len(ok) == len(mine) and not fleet.lost_ranks else "failed"
        run = Run(
            workload=workload, unit=unit, device=f"node of {per_node} ranks", status=status,
            verified=all(r.verified for r in mine),
            error=None if status == "ok" else f"fleet incomplete: lost ranks {fleet.lost_ranks} "
            f"or {len(mine) - len(ok)} failed run(s)",
            throughput=Throughput(unit=f"{unit}/s", rate=rate, median=rate,
                                  p10=_sum([r.throughput.p10 for r in ok], count),
                                  p90=_sum([r.throughput.p90 for r in ok], count),
                                  unstable=any(r.throughput.unstable for r in ok)),
            power=power,
            efficiency=Efficiency(unit=f"{unit}/J", per_joule=rate / avg_w if rate and avg_w else None),
        )
        name = f"{system_name(first_system, model)} node"
        out.append(Candidate(file, i, run, name, doc.declared))
    return out


def candidates(doc: Document, file: str) -> list[Candidate]:
    """Every run of a document to size, a fleet file's average node per workload, or a miners file's
    average miner per model."""
    if doc.fleet is not None and doc.fleet.totals:
        return _fleet_nodes(doc, file)
    if any(r.hardware is not None and r.hardware.kind == "asic" for r in doc.runs):

        return [Candidate(file, i, run, name, doc.declared) for name, i, run in by_model(doc.runs)]
    return [Candidate(file, i, run, system_name(doc.system, run), doc.declared) for i, run in enumerate(doc.runs)]

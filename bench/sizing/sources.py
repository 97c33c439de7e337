"""What a result file offers to size: its runs (a fleet file's nodes), with readable system names.

A run is sized as one machine. A fleet file (one run per rank, a top-level
``fleet`` block) is sized per node instead: for each workload, one average
node with the fleet's total throughput and node power divided by the number
of nodes, and throughput bounds from the ranks' summed p10 / p90.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.sizing.power import REFUSED, refusal
from bench.validation.core import is_declared


@dataclass(frozen=True)
class Candidate:
    """One thing to size: a run (or a fleet's average node), where it came from, what to call it."""

    file: str
    index: int
    run: dict[str, Any]
    system: str
    declared: bool


def system_name(system: Any, device: str = "") -> str:
    """A readable name: the declared model, the GPU(s) a CUDA run used, else the CPU model."""
    if not isinstance(system, dict):
        return "?"
    if system.get("model"):
        return str(system["model"])
    gpus = [g for g in system.get("gpus") or [] if isinstance(g, dict)]
    if device.startswith("cuda") and gpus:
        idx = device.partition(":")[2]
        chosen = [g for g in gpus if str(g.get("index")) == idx] if idx.isdigit() else gpus
        names = Counter(str(g.get("name", "GPU")) for g in chosen or gpus)
        return ", ".join(f"{n}x {name}" if n > 1 else name for name, n in names.items())
    cpu = system.get("cpu")
    if isinstance(cpu, dict) and cpu.get("model"):
        return str(cpu["model"])
    return str(system.get("hostname") or "?")


def _fleet_nodes(doc: dict[str, Any], file: str) -> list[Candidate]:
    fleet = doc["fleet"]
    runs = [r for r in doc.get("runs") or [] if isinstance(r, dict)]
    nodes = fleet.get("nodes") or {}
    first_system = next((n.get("system") for n in nodes.values() if isinstance(n, dict)), doc.get("system"))
    out = []
    for i, (workload, tot) in enumerate((fleet.get("totals") or {}).items()):
        mine = [r for r in runs if r.get("workload") == workload]
        ok = [r for r in mine if r.get("status") == "ok"]
        count = max(len(tot.get("nodes") or {}), 1)
        per_node = max(len(mine) // count, 1)

        def summed(key: str) -> float | None:
            vals = [(r.get("throughput") or {}).get(key) for r in ok]
            return sum(vals) / count if vals and all(isinstance(v, (int, float)) for v in vals) else None

        model = (ok or mine or [{}])[0]
        power = dict(model.get("power") or {})
        power.update(avg_w=tot.get("avg_w") / count if isinstance(tot.get("avg_w"), (int, float)) else None,
                     trace=[])
        refused = [why for why in (refusal(r.get("power") or {}) for r in ok) if why]
        if refused:
            first = refused[0].removeprefix(REFUSED)
            power.update(valid_for_sizing=False, invalid_reasons=[f"{len(refused)} rank(s): {first}"])
        status = "ok" if ok and len(ok) == len(mine) and not fleet.get("lost_ranks") else "failed"
        run = {"workload": workload, "unit": model.get("unit", "?"), "device": f"node of {per_node} ranks",
               "status": status, "verified": all(r.get("verified") for r in mine),
               "error": None if status == "ok" else f"fleet incomplete: lost ranks {fleet.get('lost_ranks')} "
               f"or {len(mine) - len(ok)} failed run(s)",
               "throughput": {"median": tot.get("throughput", 0) / count if ok else None,
                              "p10": summed("p10"), "p90": summed("p90"), "samples": []},
               "power": power}
        name = f"{system_name(first_system, str(model.get('device', '')))} node"
        out.append(Candidate(file, i, run, name, is_declared(doc)))
    return out


def candidates(doc: dict[str, Any], file: str) -> list[Candidate]:
    """Every run of a document to size, or a fleet file's average node per workload."""
    if isinstance(doc.get("fleet"), dict) and (doc["fleet"].get("totals") or {}):
        return _fleet_nodes(doc, file)
    declared = is_declared(doc)
    return [Candidate(file, i, run, system_name(doc.get("system"), str(run.get("device", ""))), declared)
            for i, run in enumerate(doc.get("runs") or []) if isinstance(run, dict)]

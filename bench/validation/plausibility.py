"""Physical plausibility: throughput under the ceiling, power under what the declared hardware can draw."""

from __future__ import annotations

from bench import hardware
from bench.hardware import gpu_tdp_w
from bench.record import Document, System
from bench.validation.core import Finding, check

CEILING_MARGIN = 1.05
POWER_MARGIN = 1.2
#: CPU packages may run above TDP for a while (Intel PL2, AMD PPT): the average must stay under this x TDP.
CPU_MARGIN = 1.5
#: A node also feeds memory, disks, NICs and fans: (CPU + GPU TDPs) x this + NODE_EXTRA_W.
NODE_MARGIN = 1.5
NODE_EXTRA_W = 500.0
#: Sockets assumed when the file does not say (an upper bound for servers, so no false failures).
DEFAULT_SOCKETS = 2
#: A CPU package not in the hardware table is bounded by the highest TDP of any server CPU on sale
#: (AMD EPYC 9965 and Intel Xeon 6980P, 500 W each), so the check still catches impossible readings.
UNKNOWN_CPU_TDP_W = 500.0


@check("ceiling")
def under_ceiling(doc: Document) -> list[Finding]:
    """Throughput (rate, median, p90) at most the run's recorded physical ceiling (+5 %)."""
    out: list[Finding] = []
    if doc.declared:
        return out
    for i, run in enumerate(doc.runs):
        if not run.ceiling:
            continue
        for k in ("rate", "median", "p90"):
            v = getattr(run.throughput, k)
            if v is not None and v > run.ceiling * CEILING_MARGIN:
                out.append(Finding("ceiling", f"$.runs[{i}].throughput.{k}",
                                   f"{v:.6g} exceeds the physical ceiling {run.ceiling:.6g} for this hardware"))
    return out


@check("gpu-power")
def gpu_power_plausible(doc: Document) -> list[Finding]:
    """GPU-scope meters draw at most TDP x margin per board (the host's GPUs: runs on another unit are skipped)."""

    out: list[Finding] = []
    gpus = {g.index: g for g in doc.system.gpus}
    for i, run in enumerate(doc.runs):
        if run.hardware is not None:  # a miner or a served endpoint: its gpu:N are not this host's GPUs
            continue
        for k, m in enumerate(run.power.meters):
            if not m.scope.startswith("gpu:") or m.avg_w is None:
                continue
            index = m.scope.split(":", 1)[1]
            gpu = gpus.get(int(index)) if index.isdigit() else None
            tdp = gpu_tdp_w(gpu.name) if gpu else None
            if tdp and m.avg_w > tdp * POWER_MARGIN:
                out.append(Finding("gpu-power", f"$.runs[{i}].power.meters[{k}].avg_w",
                                   f"{m.avg_w:.1f} W is more than {gpu.name if gpu else '?'} can draw ({tdp:.0f} W TDP)"))
    return out


def cpu_tdp_w(model: str) -> float | None:
    """Datasheet TDP (W) of one CPU package by model name from ``bench/data/hardware.csv`` rows of kind ``cpu``."""

    want = " ".join(model.lower().split())
    for row in hardware.rows():
        if row.get("kind") == "cpu" and want and " ".join(row.get("model", "").lower().split()) in want:
            try:
                return float(row["tdp_w"])
            except (KeyError, ValueError):
                return None
    return None


def _node_limit_w(system: System, cpu_w: float) -> tuple[float | None, str]:
    sockets = system.cpu.sockets if system.cpu and system.cpu.sockets else DEFAULT_SOCKETS
    gpu_ws = [gpu_tdp_w(g.name) for g in system.gpus]
    if any(w is None for w in gpu_ws):
        return None, "a GPU model is not in the hardware table"
    return (cpu_w * sockets + sum(w or 0.0 for w in gpu_ws)) * NODE_MARGIN + NODE_EXTRA_W, ""


@check("cpu-node-power")
def cpu_and_node_power_plausible(doc: Document) -> list[Finding]:
    """CPU-package meters under TDP x CPU_MARGIN; node/wall meters under the node's components' draw.

    A CPU not in the hardware table is bounded by :data:`UNKNOWN_CPU_TDP_W` (with a note); when a GPU
    is not in the table the node check is skipped with a note. Runs on another unit (a miner, an
    endpoint: ``hardware`` set) are not judged against this host's parts.
    """
    out: list[Finding] = []
    if doc.declared:
        return out
    model = doc.system.cpu.model if doc.system.cpu and doc.system.cpu.model else ""
    known = cpu_tdp_w(model)
    cpu_w = known if known is not None else UNKNOWN_CPU_TDP_W
    node_w, why = _node_limit_w(doc.system, cpu_w)
    noted: set[str] = set()
    for i, run in enumerate(doc.runs):
        if run.hardware is not None:
            continue
        for k, m in enumerate(run.power.meters):
            kind = "cpu" if m.scope.startswith("cpu-package") else "node" if m.scope in ("node", "wall") else None
            if kind is None or m.avg_w is None:
                continue
            limit = cpu_w * CPU_MARGIN if kind == "cpu" else node_w
            path = f"$.runs[{i}].power.meters[{k}].avg_w"
            if known is None and "unknown-cpu" not in noted:
                noted.add("unknown-cpu")
                out.append(Finding("cpu-node-power", "$.system.cpu.model",
                                   f"CPU model {model[:80]!r} not in the hardware table: bounded by "
                                   f"{UNKNOWN_CPU_TDP_W:.0f} W per package, the highest server CPU TDP", "note"))
            if limit is None:
                if kind not in noted:
                    noted.add(kind)
                    out.append(Finding("cpu-node-power", path, f"{m.scope} power not checked: {why}", "note"))
            elif m.avg_w > limit:
                out.append(Finding("cpu-node-power", path,
                                   f"{m.avg_w:.1f} W on {m.scope} is more than this hardware can draw ({limit:.0f} W)"))
    return out

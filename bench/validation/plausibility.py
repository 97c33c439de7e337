"""Physical plausibility: throughput under the ceiling, power under what the declared hardware can draw."""

from __future__ import annotations

from typing import Any

from bench.validation.core import Finding, check, is_declared

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
def under_ceiling(doc: dict[str, Any]) -> list[Finding]:
    """Median and p90 throughput at most the run's recorded physical ceiling (+5 %)."""
    out: list[Finding] = []
    if is_declared(doc):
        return out
    for i, run in enumerate(doc.get("runs") or []):
        if not isinstance(run, dict):
            continue
        ceiling, t = run.get("ceiling"), run.get("throughput") or {}
        if not isinstance(ceiling, (int, float)) or ceiling <= 0:
            continue
        for k in ("median", "p90"):
            v = t.get(k)
            if isinstance(v, (int, float)) and v > ceiling * CEILING_MARGIN:
                out.append(Finding("ceiling", f"$.runs[{i}].throughput.{k}",
                                   f"{v:.6g} exceeds the physical ceiling {ceiling:.6g} for this hardware"))
    return out


@check("gpu-power")
def gpu_power_plausible(doc: dict[str, Any]) -> list[Finding]:
    """GPU-scope meters draw at most TDP x margin per board."""
    from bench.hardware import gpu_tdp_w

    out: list[Finding] = []
    gpus = (doc.get("system") or {}).get("gpus") or []
    for i, run in enumerate(doc.get("runs") or []):
        if not isinstance(run, dict):
            continue
        for k, m in enumerate((run.get("power") or {}).get("meters") or []):
            scope = str(m.get("scope", "")) if isinstance(m, dict) else ""
            if not scope.startswith("gpu:"):
                continue
            try:
                gpu = gpus[int(scope.split(":", 1)[1])]
            except (ValueError, IndexError, TypeError):
                continue
            tdp = gpu_tdp_w(str(gpu.get("name", ""))) if isinstance(gpu, dict) else None
            avg = m.get("avg_w")
            if tdp and isinstance(avg, (int, float)) and avg > tdp * POWER_MARGIN:
                out.append(Finding("gpu-power", f"$.runs[{i}].power.meters[{k}].avg_w",
                                   f"{avg:.1f} W is more than {gpu.get('name')} can draw ({tdp:.0f} W TDP)"))
    return out


def cpu_tdp_w(model: str) -> float | None:
    """Datasheet TDP (W) of one CPU package by model name from ``bench/data/hardware.csv`` rows of kind ``cpu``."""
    from bench import hardware

    want = " ".join(model.lower().split())
    for row in hardware.rows():
        if row.get("kind") == "cpu" and want and " ".join(row.get("model", "").lower().split()) in want:
            try:
                return float(row["tdp_w"])
            except (KeyError, ValueError):
                return None
    return None


def _node_limit_w(system: dict[str, Any], cpu_w: float) -> tuple[float | None, str]:
    from bench.hardware import gpu_tdp_w

    cpu = system.get("cpu") if isinstance(system.get("cpu"), dict) else {}
    sockets = cpu.get("sockets") if isinstance(cpu.get("sockets"), int) and cpu.get("sockets") > 0 else DEFAULT_SOCKETS
    gpu_ws = [gpu_tdp_w(str(g.get("name", ""))) if isinstance(g, dict) else None for g in system.get("gpus") or []]
    if any(w is None for w in gpu_ws):
        return None, "a GPU model is not in the hardware table"
    return (cpu_w * sockets + sum(w or 0.0 for w in gpu_ws)) * NODE_MARGIN + NODE_EXTRA_W, ""


@check("cpu-node-power")
def cpu_and_node_power_plausible(doc: dict[str, Any]) -> list[Finding]:
    """CPU-package meters under TDP x CPU_MARGIN; node/wall meters under the node's components' draw.

    A CPU not in the hardware table is bounded by :data:`UNKNOWN_CPU_TDP_W` (with a note); when a GPU
    is not in the table the node check is skipped with a note.
    """
    out: list[Finding] = []
    if is_declared(doc):
        return out
    system = doc.get("system") if isinstance(doc.get("system"), dict) else {}
    cpu = system.get("cpu") if isinstance(system.get("cpu"), dict) else {}
    model = str(cpu.get("model") or "")
    known = cpu_tdp_w(model)
    cpu_w = known if known is not None else UNKNOWN_CPU_TDP_W
    node_w, why = _node_limit_w(system, cpu_w)
    noted: set[str] = set()
    for i, run in enumerate(doc.get("runs") or []):
        if not isinstance(run, dict):
            continue
        for k, m in enumerate((run.get("power") or {}).get("meters") or []):
            scope = str(m.get("scope", "")) if isinstance(m, dict) else ""
            avg = m.get("avg_w") if isinstance(m, dict) else None
            kind = "cpu" if scope.startswith("cpu-package") else "node" if scope in ("node", "wall") else None
            if kind is None or not isinstance(avg, (int, float)):
                continue
            limit = cpu_w * CPU_MARGIN if kind == "cpu" else node_w
            path = f"$.runs[{i}].power.meters[{k}].avg_w"
            if known is None and "unknown-cpu" not in noted:
                noted.add("unknown-cpu")
                out.append(Finding("cpu-node-power", "$.system.cpu.model",
                                   f"CPU model {model!r} not in the hardware table: bounded by "
                                   f"{UNKNOWN_CPU_TDP_W:.0f} W per package, the highest server CPU TDP", "note"))
            if limit is None:
                if kind not in noted:
                    noted.add(kind)
                    out.append(Finding("cpu-node-power", path, f"{scope} power not checked: {why}", "note"))
            elif avg > limit:
                out.append(Finding("cpu-node-power", path,
                                   f"{avg:.1f} W on {scope} is more than this hardware can draw ({limit:.0f} W)"))
    return out

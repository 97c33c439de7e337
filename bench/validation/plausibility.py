"""Physical plausibility: throughput under the ceiling, GPU power under what the boards can draw."""

from __future__ import annotations

from typing import Any

from bench.validation.core import Finding, check, is_declared

CEILING_MARGIN = 1.05
POWER_MARGIN = 1.2


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

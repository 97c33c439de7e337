"""PASS/FAIL per GPU, node and fleet for a result file against a Spec."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.fleet.outliers import fleet_outliers, metric_value, run_key
from bench.fleet.spec import Spec


@dataclass
class Verdict:
    """One unit's verdict: PASS when it has no reasons to fail."""

    level: str
    key: str
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when nothing failed."""
        return not self.reasons


def throttled(run: dict[str, Any]) -> bool | None:
    """True/False from the meters' ``telemetry_summary.throttled`` over the measured window
    (layout: bench.power.window.telemetry); None when no meter recorded throttle reasons."""
    seen = None
    for m in (run.get("power") or {}).get("meters") or []:
        summary = m.get("telemetry_summary") if isinstance(m, dict) else None
        if isinstance(summary, dict) and isinstance(summary.get("throttled"), bool):
            seen = bool(seen) or summary["throttled"]
    return seen


def _gpu_checks(run: dict[str, Any], spec: Spec) -> tuple[list[str], list[str]]:
    reasons: list[str] = []
    notes: list[str] = []
    wl = run.get("workload", "?")
    if run.get("status") != "ok":
        return [f"{wl}: run {run.get('status')}: {run.get('error') or 'no error recorded'}"], notes
    if not run.get("verified"):
        reasons.append(f"{wl}: output not verified")
    rule = spec.workloads.get(wl)
    if rule:
        for metric, floor in (("throughput", rule.min_throughput), ("efficiency", rule.min_efficiency)):
            if floor is None:
                continue
            v = metric_value(run, metric)
            if v is None:
                reasons.append(f"{wl}: {metric} not recorded (minimum {floor:.4g})")
            elif v < floor:
                reasons.append(f"{wl}: {metric} {v:.4g} below minimum {floor:.4g}")
    avg_w = (run.get("power") or {}).get("avg_w")
    if spec.max_gpu_w is not None:
        if not isinstance(avg_w, (int, float)):
            reasons.append(f"{wl}: power not recorded (meters failed?), cannot check max {spec.max_gpu_w:.0f} W")
        elif avg_w > spec.max_gpu_w:
            reasons.append(f"{wl}: power {avg_w:.1f} W above maximum {spec.max_gpu_w:.0f} W")
    t = throttled(run)
    if t is None:
        notes.append(f"{wl}: throttling not recorded")
    elif t and not spec.allow_throttling:
        reasons.append(f"{wl}: throttled during the measured window")
    return reasons, notes


def qualify(doc: dict[str, Any], spec: Spec) -> tuple[list[Verdict], list[Verdict], Verdict]:
    """Verdicts per GPU (sorted by key), per node, and for the fleet."""
    host = (doc.get("system") or {}).get("hostname", "?")
    runs = doc.get("runs", [])
    gpus: dict[str, Verdict] = {}
    node_of: dict[str, str] = {}
    node_w: dict[tuple[str, str], float | None] = {}
    for i, run in enumerate(runs):
        key = run_key(run, i, host)
        node = run.get("node") or host
        node_of[key] = node
        v = gpus.setdefault(key, Verdict("gpu", key))
        reasons, notes = _gpu_checks(run, spec)
        v.reasons += reasons
        v.notes += notes
        w = (run.get("power") or {}).get("avg_w")
        nk = (node, run.get("workload", "?"))
        prev = node_w.get(nk, 0.0)
        node_w[nk] = None if prev is None or not isinstance(w, (int, float)) else prev + w
    for o in fleet_outliers(runs, host, k=spec.k, min_rel_gap=spec.min_rel_gap):
        (gpus[o.key].reasons if spec.outliers_fail else gpus[o.key].notes).append("outlier: " + o.reason())
    nodes: dict[str, Verdict] = {}
    for key, v in gpus.items():
        n = nodes.setdefault(node_of[key], Verdict("node", node_of[key]))
        if not v.passed:
            n.reasons.append(f"GPU {key} failed")
    for (node, wl), w in sorted(node_w.items()):
        if spec.max_node_w is None:
            continue
        if w is None:
            nodes[node].reasons.append(f"{wl}: node power not recorded (meters failed), not sized as zero")
        elif w > spec.max_node_w:
            nodes[node].reasons.append(f"{wl}: node power {w:.0f} W above maximum {spec.max_node_w:.0f} W")
    if spec.gpus_per_node:
        for node, n in nodes.items():
            count = len({k for k in gpus if node_of[k] == node})
            if count < spec.gpus_per_node:
                n.reasons.append(f"{count} GPUs reported, spec wants {spec.gpus_per_node}")
    fleet = Verdict("fleet", "fleet")
    for lost in (doc.get("fleet") or {}).get("lost_ranks") or []:
        fleet.reasons.append(f"rank {lost} lost (died or timed out)")
    fleet.reasons += [f"node {n.key} failed" for n in nodes.values() if not n.passed]
    if not runs:
        fleet.reasons.append("no runs in the result file")
    return sorted(gpus.values(), key=lambda v: v.key), list(nodes.values()), fleet

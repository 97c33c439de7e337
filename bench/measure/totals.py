"""A fleet's totals per workload and per node: each node's power counted once per meter, whatever its ranks.

Built by the fleet's rank 0 when it gathers the ranks' runs, recomputed by the validator.
"""

from __future__ import annotations

from bench.power.window.energy import primary
from bench.record import MeterFigure, NodeTotal, Run, WorkloadTotal


def totals(runs: list[Run]) -> dict[str, WorkloadTotal]:
    """Per workload: fleet throughput and power sums, and per-node sums; power None if any meter failed.

    Every rank on a node samples the node's meters over the same aligned
    window, so a node's power is taken once per meter scope (the node's BMC,
    its CPU packages, each GPU), not once per rank; see :func:`node_power`.
    """
    out: dict[str, WorkloadTotal] = {}
    by_node: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        by_node.setdefault((run.workload, run.node or "?"), []).append(run)
    for (workload, node_name), node_runs in by_node.items():
        wl = out.setdefault(workload, WorkloadTotal(throughput=0.0, avg_w=0.0))
        tput = sum(r.throughput.rate or 0.0 for r in node_runs if r.ok)
        watts = node_power(node_runs)
        wl.nodes[node_name] = NodeTotal(throughput=tput, avg_w=watts)
        wl.throughput += tput
        wl.avg_w = wl.avg_w + watts if watts is not None and wl.avg_w is not None else None
    return out


def node_power(runs: list[Run]) -> float | None:
    """Average W of one node over its ranks' shared window, each meter scope counted once.

    The meters of all ranks are de-duplicated (by the device's UUID where it has one, else by
    scope: ranks that each see their own GPU as ``gpu:0`` still add up) and the widest measured
    scope is used (:func:`bench.power.window.energy.primary`). None when any
    rank's power failed: a node whose meters failed is not sized as drawing nothing.
    """
    if any(r.power.avg_w is None for r in runs):
        return None
    meters: dict[str, MeterFigure] = {}
    for run in runs:
        for m in run.power.meters:  # one device once: by its UUID where it has one, else by scope
            meters.setdefault(m.device_uuid or m.scope, m)
    if not meters:
        return float(sum(r.power.avg_w or 0.0 for r in runs))
    chosen = primary(list(meters.values()))
    return float(sum(m.avg_w or 0.0 for m in chosen)) if chosen else None

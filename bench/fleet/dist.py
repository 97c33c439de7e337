"""Fleet runs under torchrun: join the group, start windows together, gather to rank 0 with a deadline."""

from __future__ import annotations

import datetime
import json
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

GATHER_TIMEOUT_S = float(os.environ.get("SITEBENCH_FLEET_TIMEOUT", "300"))


@dataclass
class Fleet:
    """This process's place in a torchrun fleet."""

    rank: int
    world_size: int
    local_rank: int
    node: str
    store: Any

    def tag(self, runs: list[dict[str, Any]]) -> None:
        """Mark every run with its rank, node and local device."""
        for r in runs:
            r.update(rank=self.rank, node=self.node, local_rank=self.local_rank, local_device=r.get("device"))

    def collect(self, doc: dict[str, Any], timeout_s: float = GATHER_TIMEOUT_S) -> dict[str, Any] | None:
        """Publish this rank's runs; on rank 0 return the fleet document, elsewhere None.

        Ranks that have not published within ``timeout_s`` are reported in ``fleet.lost_ranks``.
        """
        self.tag(doc["runs"])
        self.store.set(f"sitebench/result/{self.rank}", json.dumps({"runs": doc["runs"], "system": doc["system"]}))
        if self.rank != 0:
            return None
        got: dict[int, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout_s
        while len(got) < self.world_size and time.monotonic() < deadline:
            for r in range(self.world_size):
                if r not in got and self.store.check([f"sitebench/result/{r}"]):
                    got[r] = json.loads(self.store.get(f"sitebench/result/{r}"))
            if len(got) < self.world_size:
                time.sleep(0.1)
        lost = [r for r in range(self.world_size) if r not in got]
        doc["runs"] = [run for r in sorted(got) for run in got[r]["runs"]]
        nodes: dict[str, dict[str, Any]] = {}
        for r in sorted(got):
            n = nodes.setdefault(got[r]["system"].get("hostname", "?"), {"ranks": [], "system": got[r]["system"]})
            n["ranks"].append(r)
        doc["fleet"] = {"world_size": self.world_size, "lost_ranks": lost, "nodes": nodes,
                        "totals": totals(doc["runs"])}
        return doc


def totals(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per workload: fleet throughput and power sums, and per-node sums; power None if any meter failed.

    Every rank on a node samples the node's meters over the same synchronised
    window, so a node's power is taken once per meter scope (the node's BMC,
    its CPU packages, each GPU), not once per rank; see :func:`node_power`.
    """
    out: dict[str, Any] = {}
    by_node: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        wl = out.setdefault(run["workload"], {"throughput": 0.0, "avg_w": 0.0, "nodes": {}})
        node = wl["nodes"].setdefault(run.get("node", "?"), {"throughput": 0.0, "avg_w": 0.0})
        by_node.setdefault((run["workload"], run.get("node", "?")), []).append(run)
        tput = (run.get("throughput") or {}).get("median") if run.get("status") == "ok" else None
        for t in (wl, node):
            t["throughput"] = t["throughput"] + tput if isinstance(tput, (int, float)) else t["throughput"]
    for (workload, node_name), node_runs in by_node.items():
        watts = node_power(node_runs)
        wl = out[workload]
        wl["nodes"][node_name]["avg_w"] = watts
        wl["avg_w"] = wl["avg_w"] + watts if watts is not None and wl["avg_w"] is not None else None
    return out


def node_power(runs: list[dict[str, Any]]) -> float | None:
    """Average W of one node over its ranks' shared window, each meter scope counted once.

    The meters of all ranks are de-duplicated by scope and the widest measured
    scope is used (:func:`bench.power.window.energy.primary`). Runs recorded without a
    meter list (older files) are summed as they are. None when any rank's
    power failed: a node whose meters failed is not sized as drawing nothing.
    """
    from bench.power.window.energy import primary

    if any(not isinstance((r.get("power") or {}).get("avg_w"), (int, float)) for r in runs):
        return None
    meters: dict[str, dict[str, Any]] = {}
    for run in runs:
        for m in run["power"].get("meters") or []:
            meters.setdefault(m.get("scope") or m.get("name", "?"), m)
    if not meters:
        return float(sum(r["power"]["avg_w"] for r in runs))
    chosen = primary(list(meters.values()))
    return float(sum(m["avg_w"] for m in chosen)) if chosen else None


def env_fleet() -> bool:
    """True when torchrun's RANK/WORLD_SIZE/LOCAL_RANK say this is one rank of several."""
    return all(k in os.environ for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK")) and int(os.environ["WORLD_SIZE"]) > 1


def join(device: str, timeout_s: float = GATHER_TIMEOUT_S) -> Fleet:
    """Init the process group (gloo on CPU, NCCL on CUDA) and wait at a barrier so windows start together."""
    import torch.distributed as dist

    backend = "nccl" if device.startswith("cuda") else "gloo"
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    dist.barrier()
    store = dist.distributed_c10d._get_default_store()
    return Fleet(dist.get_rank(), dist.get_world_size(), int(os.environ["LOCAL_RANK"]), socket.gethostname(), store)


def rank_device(device: str) -> str:
    """``cuda`` becomes ``cuda:LOCAL_RANK`` so each rank owns one local GPU; other devices are kept."""
    return f"cuda:{os.environ['LOCAL_RANK']}" if device == "cuda" else device

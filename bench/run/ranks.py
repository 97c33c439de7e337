"""Fleet runs under torchrun: one key-value store, windows that start together, gather to rank 0 with a deadline.

Ranks coordinate through a ``torch.distributed.TCPStore`` only (torchrun's
agent store when it hosts one, else one hosted by rank 0 at MASTER_ADDR:
MASTER_PORT). No process group is created: a benchmark needs no GPU
collectives, so there is no NCCL communicator to place on the wrong device.
Every rank pins its own GPU (``torch.cuda.set_device``) before anything runs
on it. Before each run's measured windows every rank waits at a store
barrier (with a deadline, so a dead rank delays the others but never hangs
them), so node and BMC meters, shared by the ranks of a node, cover the same
span as every rank's throughput.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from bench.measure.totals import totals
from bench.record import Document, FleetNode, Run, System
from bench.record import Fleet as FleetBlock

GATHER_TIMEOUT_S = float(os.environ.get("SITEBENCH_FLEET_TIMEOUT", "300"))


@dataclass
class Fleet:
    """This process's place in a torchrun fleet."""

    rank: int
    world_size: int
    local_rank: int
    node: str
    store: Any
    timeout_s: float = GATHER_TIMEOUT_S
    unaligned: list[str] = field(default_factory=list)

    def tag(self, runs: list[Run]) -> None:
        """Mark every run with its rank, node and local device."""
        for r in runs:
            r.rank, r.node, r.local_rank, r.local_device = self.rank, self.node, self.local_rank, r.device

    def align(self, name: str) -> bool:
        """Wait until every rank reached ``name`` (or the deadline passed); True when all did."""
        key = f"sitebench/align/{name}"
        self.store.add(key, 1)
        deadline = time.monotonic() + self.timeout_s
        while int(self.store.add(key, 0)) < self.world_size:
            if time.monotonic() > deadline:
                self.unaligned.append(name)
                return False
            time.sleep(0.005)
        return True

    def confirm_written(self) -> None:
        """Rank 0: the fleet's file is written; the other ranks may drop their journals."""
        self.store.set("sitebench/written", "1")

    def wait_written(self) -> bool:
        """A rank other than 0: wait for rank 0's :meth:`confirm_written`; False at the deadline."""
        deadline = time.monotonic() + self.timeout_s
        while not self.store.check(["sitebench/written"]):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def collect(self, doc: Document, timeout_s: float | None = None) -> Document | None:
        """Publish this rank's runs; on rank 0 return the fleet document, elsewhere None.

        Ranks that have not published within ``timeout_s`` are reported in ``fleet.lost_ranks``.
        """
        self.tag(doc.runs)
        payload = {"runs": [r.to_json() for r in doc.runs], "system": doc.system.to_json()}
        self.store.set(f"sitebench/result/{self.rank}", json.dumps(payload))
        if self.rank != 0:
            return None
        got: dict[int, tuple[list[Run], System]] = {}
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        while len(got) < self.world_size and time.monotonic() < deadline:
            for r in range(self.world_size):
                if r not in got and self.store.check([f"sitebench/result/{r}"]):
                    raw = json.loads(self.store.get(f"sitebench/result/{r}"))
                    got[r] = ([Run.model_validate(x) for x in raw["runs"]], System.model_validate(raw["system"]))
            if len(got) < self.world_size:
                time.sleep(0.1)
        runs = [run for r in sorted(got) for run in got[r][0]]
        nodes: dict[str, FleetNode] = {}
        for r in sorted(got):
            system = got[r][1]
            nodes.setdefault(system.hostname or "?", FleetNode(ranks=[], system=system)).ranks.append(r)
        lost = [r for r in range(self.world_size) if r not in got]
        fleet = FleetBlock(world_size=self.world_size, lost_ranks=lost, nodes=nodes, totals=totals(runs))
        return doc.model_copy(update={"runs": runs, "fleet": fleet})


def env_fleet() -> bool:
    """True when torchrun's RANK/WORLD_SIZE/LOCAL_RANK say this is one rank of several."""
    return all(k in os.environ for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK")) and int(os.environ["WORLD_SIZE"]) > 1


def _store(rank: int, world_size: int, timeout_s: float) -> Any:
    from torch.distributed import TCPStore

    host, port = os.environ.get("MASTER_ADDR", "127.0.0.1"), int(os.environ.get("MASTER_PORT", "29500"))
    # torchrun's agent hosts the store its workers share; without it rank 0 hosts one
    hosted_by_agent = os.environ.get("TORCHELASTIC_USE_AGENT_STORE", "").lower() == "true"
    return TCPStore(host, port, world_size=None if hosted_by_agent else world_size,
                    is_master=rank == 0 and not hosted_by_agent, timeout=datetime.timedelta(seconds=timeout_s),
                    wait_for_workers=False)


def join(device: str, timeout_s: float = GATHER_TIMEOUT_S) -> Fleet:
    """Pin this rank's GPU, connect to the fleet's store and wait until every rank has joined."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.set_device(torch.device(device))
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    fleet = Fleet(rank, world, int(os.environ["LOCAL_RANK"]), socket.gethostname(), _store(rank, world, timeout_s),
                  timeout_s)
    fleet.align("join")
    return fleet


def rank_device(device: str) -> str:
    """``cuda`` becomes ``cuda:LOCAL_RANK`` so each rank owns one local GPU; other devices are kept."""
    return f"cuda:{os.environ['LOCAL_RANK']}" if device == "cuda" else device

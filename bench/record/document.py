"""The result file: ``sitebench.result/2``, one document holding the system, the settings and the runs."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import Field

from bench import __version__
from bench.record.base import Record
from bench.record.bounds import (
    MAX_ITEMS,
    MAX_RUNS,
    Bytes,
    Count,
    FleetWatts,
    Host,
    Name,
    PositiveSeconds,
    Rate,
    Seconds,
    Text,
    Texts,
    Timestamp,
)
from bench.record.derating import Derating
from bench.record.run import Run
from bench.record.shards import MinersFleet, ShardInfo
from bench.record.soak import SoakPlan

SCHEMA_ID = "sitebench.result/2"
Source = Literal["measured", "declared"]


def utc_now() -> str:
    """Now as RFC 3339 UTC with a ``Z`` suffix."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class Harness(Record):
    """The program that wrote the file."""

    name: Literal["sitebench"] = "sitebench"
    version: Name = __version__


class Cpu(Record):
    """The host's CPU."""

    model: Name | None = None
    arch: Name | None = None
    logical_cpus: Count | None = None
    physical_cores: Count | None = None
    sockets: Count | None = None
    flags: Annotated[list[Name], Field(max_length=MAX_ITEMS)] = []


class Gpu(Record):
    """One GPU of the host, as CUDA reports it."""

    index: Count
    name: Name
    memory_bytes: Bytes | None = None
    sms: Count | None = None
    uuid: Name | None = None


class TorchInfo(Record):
    """The PyTorch build the run used."""

    version: Name | None = None
    cuda: Name | None = None


class System(Record):
    """The machine the file describes: the host a run happened on, or a declared model."""

    hostname: Host | None = None
    machine_id: Name | None = None
    model: Name | None = None
    note: Text | None = None
    cpu: Cpu | None = None
    memory_bytes: Bytes | None = None
    os: Name | None = None
    python: Name | None = None
    torch: TorchInfo | None = None
    gpus: Annotated[list[Gpu], Field(max_length=MAX_ITEMS)] = []


class Submitter(Record):
    """Who submits the file (a vendor); ``org`` is signed over."""

    org: Name | None = None
    contact: Name | None = None
    note: Text | None = None


class Timing(Record):
    """Seconds of each phase and the number of measured windows."""

    idle_s: Seconds
    warmup_s: Seconds
    window_s: PositiveSeconds
    repeats: Annotated[int, Field(ge=1, le=100_000)]
    tail_s: Seconds


class Unavailable(Record):
    """A meter back-end that could not be opened here, and why."""

    name: Name
    reason: Text


class Settings(Record):
    """How the file was measured."""

    preset: Name | None = None
    timing: Timing | None = None
    sample_rate_hz: Annotated[float, Field(gt=0, le=1e6)] | None = None
    sampler_notes: Texts = []
    meters_unavailable: Annotated[list[Unavailable], Field(max_length=MAX_ITEMS)] = []
    soak: SoakPlan | None = None


class FleetNode(Record):
    """One node of a fleet: its ranks and its system."""

    ranks: Annotated[list[Count], Field(max_length=MAX_ITEMS)]
    system: System


class NodeTotal(Record):
    """One node's summed throughput and power for one workload (None: a meter failed)."""

    throughput: Rate
    avg_w: FleetWatts | None = None


class WorkloadTotal(Record):
    """The fleet's summed throughput and power for one workload, and per node."""

    throughput: Rate
    avg_w: FleetWatts | None = None
    nodes: Annotated[dict[Host, NodeTotal], Field(max_length=MAX_RUNS)] = {}


class Fleet(Record):
    """A fleet file: ranks, nodes, lost ranks and per-workload totals."""

    world_size: Annotated[int, Field(ge=1, le=MAX_RUNS)]
    lost_ranks: Annotated[list[Count], Field(max_length=MAX_RUNS)] = []
    nodes: Annotated[dict[Host, FleetNode], Field(max_length=MAX_RUNS)] = {}
    totals: Annotated[dict[Name, WorkloadTotal], Field(max_length=MAX_ITEMS)] = {}


class Signature(Record):
    """An Ed25519 signature over the canonical document without this block."""

    alg: Literal["ed25519"]
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{8,64}$")]
    value: Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]+={0,2}$", max_length=200)]


class Document(Record):
    """A ``sitebench.result/2`` file."""

    schema_: Literal["sitebench.result/2"] = Field(alias="schema")
    id: Annotated[str, Field(min_length=1, max_length=200)]
    created: Timestamp
    source: Source = "measured"
    harness: Harness
    system: System
    submitter: Submitter | None = None
    settings: Settings | None = None
    fleet: Fleet | None = None
    #: One shard of a fleet run (its series in the Parquet samples file it names).
    shard: ShardInfo | None = None
    #: A merged fleet (``sitebench merge``): its runs are each model's average miner.
    miners_fleet: MinersFleet | None = None
    runs: Annotated[list[Run], Field(max_length=MAX_RUNS)]
    derating: Derating | None = None
    signature: Signature | None = None

    @property
    def declared(self) -> bool:
        """A vendor-declared file (published figures, not measured)."""
        return self.source == "declared"

    def to_json(self) -> dict[str, object]:
        """The file's JSON object (unset optional fields left out)."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


def new_document(system: System, runs: list[Run] | None = None, *, settings: Settings | None = None,
                 source: Source = "measured", submitter: Submitter | None = None) -> Document:
    """A fresh document with a new id."""
    return Document.model_validate({
        "schema": SCHEMA_ID, "id": uuid.uuid4().hex, "created": utc_now(), "source": source,
        "harness": Harness(), "system": system, "settings": settings, "submitter": submitter,
        "runs": runs or [],
    }, strict=False)

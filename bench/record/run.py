"""One run: a workload on one device (or one miner, one endpoint), its throughput, power and efficiency.

The one definition of the figures every command prints (:mod:`bench.record.figures`
computes them, the validator recomputes them):

- ``throughput.rate`` = total units / total duration of the measured windows (units/s);
- ``power.avg_w`` = energy over the same windows / their span (W);
- ``efficiency.per_joule`` = total units / total energy (units/J).

The windows are contiguous, so ``rate / avg_w == per_joule`` and MW per unit/s
is ``PUE x 1e-6 / per_joule``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from bench.record.base import Record
from bench.record.bounds import (
    MAX_ITEMS,
    MAX_WINDOWS,
    Count,
    Metrics,
    Name,
    Params,
    PositiveSeconds,
    Rate,
    Ratio,
    Scalar,
    Text,
    Time,
    Timestamp,
    Units,
)
from bench.record.power import PowerBlock, no_power

Status = Literal["ok", "failed", "interrupted"]

#: A run whose windows' throughput varies more than this (coefficient of variation) is unstable.
UNSTABLE_CV = 0.10


class Throughput(Record):
    """Units done in each measured window and their duration; the statistics over the windows.

    ``samples[i] = units[i] / durations_s[i]``; ``median``..``cv`` summarise the
    samples (:func:`bench.stats.summarize`); ``rate`` is total units over total
    duration, the figure sizing uses; ``unstable`` when ``cv`` > 10%.
    """

    unit: Name
    samples: Annotated[list[Rate], Field(max_length=MAX_WINDOWS)] = []
    units: Annotated[list[Units], Field(max_length=MAX_WINDOWS)] = []
    durations_s: Annotated[list[PositiveSeconds], Field(max_length=MAX_WINDOWS)] = []
    rate: Rate | None = None
    median: Rate | None = None
    p10: Rate | None = None
    p90: Rate | None = None
    mean: Rate | None = None
    min: Rate | None = None
    max: Rate | None = None
    cv: Ratio | None = None
    unstable: bool = False


class Efficiency(Record):
    """Units per joule over the measured windows."""

    per_joule: Rate | None = None
    unit: Name


class Phase(Record):
    """A phase of the run (``idle``, ``warmup``, ``window-N``, ``tail``...), seconds from the run's start."""

    name: Name
    start: Time
    end: Time


class Hardware(Record):
    """The unit measured when it is not the machine sitebench ran on (an ASIC miner, a served endpoint)."""

    kind: Name
    make: Name | None = None
    model: Name | None = None
    firmware: Name | None = None
    serial: Name | None = None
    chips: Count | None = None
    details: Annotated[dict[Name, Scalar], Field(max_length=MAX_ITEMS)] = {}


class Run(Record):
    """One run record."""

    workload: Name
    device: Name
    params: Params = {}
    preset: Name | None = None
    started: Timestamp | None = None
    rank: Count | None = None
    local_rank: Count | None = None
    node: Name | None = None
    local_device: Name | None = None
    hardware: Hardware | None = None
    status: Status
    error: Text | None = None
    verified: bool
    unit: Name
    throughput: Throughput
    power: PowerBlock
    efficiency: Efficiency
    ceiling: Rate | None = None
    ceiling_fraction: Ratio | None = None
    phases: Annotated[list[Phase], Field(max_length=MAX_WINDOWS + 16)] = []
    metrics: Metrics = {}

    @property
    def ok(self) -> bool:
        """Status ok."""
        return self.status == "ok"

    @property
    def windows(self) -> list[Phase]:
        """The measured windows (``window-N`` phases), in order."""
        return [p for p in self.phases if p.name.startswith("window-")]


def failed_run(workload: str, device: str, unit: str, status: Status, error: str, *,
               params: dict[str, object] | None = None, preset: str | None = None,
               started: str | None = None, verified: bool = False) -> Run:
    """The record of a run that measured nothing (setup or verification failed, interrupted early)."""
    return Run(workload=workload, device=device, unit=unit, params=dict(params or {}), preset=preset,
               started=started, status=status, error=error[:2000], verified=verified,
               throughput=Throughput(unit=f"{unit}/s"), power=no_power(),
               efficiency=Efficiency(unit=f"{unit}/J"))

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
    MAX_WINDOWS,
    Count,
    Fraction,
    Metrics,
    Name,
    Params,
    PositiveSeconds,
    Rate,
    Ratio,
    Text,
    Texts,
    Time,
    Timestamp,
    Units,
)
from bench.record.power import PowerBlock, no_power
from bench.record.setting import Setting
from bench.record.soak import Soak
from bench.record.thermal import Thermal

Status = Literal["ok", "failed", "interrupted"]

#: A run whose windows' throughput varies more than this (coefficient of variation) is unstable.
UNSTABLE_CV = 0.10
#: A run is contended when other processes took more than this share of the machine's CPU time...
CONTENDED_OTHERS = 0.10
#: ... or a hypervisor took more than this share of it (steal time); or the CPU or a GPU throttled.
CONTENDED_STEAL = 0.05


def contention_reasons(others_cpu: float, steal: float | None, throttle_events: int | None,
                       gpu_throttled: list[str]) -> list[str]:
    """Why a run's figures cannot be trusted as the machine's own: empty when it ran uncontended."""
    out = []
    if others_cpu > CONTENDED_OTHERS:
        out.append(f"other processes used {others_cpu:.0%} of the CPU time (limit {CONTENDED_OTHERS:.0%})")
    if steal is not None and steal > CONTENDED_STEAL:
        out.append(f"the hypervisor took {steal:.0%} of the CPU time as steal (limit {CONTENDED_STEAL:.0%})")
    if throttle_events:
        out.append(f"the CPU throttled {throttle_events} time(s) (thermal_throttle counters)")
    out.extend(f"{name} throttled" for name in gpu_throttled)
    return out


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
    details: Metrics = {}


class Contention(Record):
    """How busy the machine was over the measured windows, with this run's own process left out.

    ``others_cpu`` is the share of the machine's CPU time (all ``cpus``) that
    other processes used; ``steal`` the share a hypervisor took (None where the
    kernel reports none); ``throttle_events`` the CPU's thermal throttle events
    (None where the CPU exposes no counter); ``torch_threads`` torch's intra-op threads the
    run used, fitted to the CPUs free during its idle baseline
    (``idle_others_cpu``). ``contended`` when :func:`contention_reasons` gives any.
    """

    cpus: Annotated[int, Field(ge=1, le=1_000_000)]
    others_cpu: Fraction
    steal: Fraction | None = None
    throttle_events: Count | None = None
    gpu_throttled: Texts = []
    idle_others_cpu: Fraction | None = None
    torch_threads: Count | None = None
    contended: bool
    reasons: Texts = []


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
    contention: Contention | None = None
    setting: Setting | None = None
    thermal: Thermal | None = None
    soak: Soak | None = None

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

"""``sitebench size``: what an allocation of MW buys of one run's hardware, with low and high bounds.

For one run (one machine), in base units (units/s, W, MW):

    T, T_lo, T_hi   throughput ``rate`` (total units / total duration of the measured windows),
                    and the p10 / p90 of the per-window rates (T_lo = min(p10, T), T_hi = max(p90, T))
    e               efficiency ``per_joule`` (total units / energy of the same windows)
    P_m             measured power per machine = T / e (the windows' energy over their duration)
    P, P_lo, P_hi   power per machine from :func:`bench.sizing.power.machine_power`:
                    P = P_m + O, P_lo = P_m_lo x f_lo + O_lo, P_hi = P_m_hi x f_hi + O_hi
                    (P_m_lo/hi the p10/p90 of per-window power, f the meter-accuracy band,
                    O node overhead, components-only runs)
    IT_W            MW x 1e6 / PUE

    machines            = floor(IT_W / P),   low = floor(IT_W / P_hi),   high = floor(IT_W / P_lo)
    throughput          = machines x T,      low = machines_low x T_lo,  high = machines_high x T_hi
    efficiency          = e,                 low = T_lo / P_m_hi,        high = T_hi / P_m_lo   (measured scope)
    machine_efficiency  = T / P,             low = T_lo / P_hi,          high = T_hi / P_lo     (with overhead)
    mw_per_throughput   = PUE x 1e-6 / machine_efficiency  (facility MW per unit/s),
                          low = PUE x 1e-6 / machine_efficiency_high, high = PUE x 1e-6 / machine_efficiency_low

Without a node overhead the machine efficiency is the measured efficiency. The
bounds are worst-case intervals (every error at its bad end at once), not a
confidence interval.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from bench.errors import UsageError
from bench.record import Run
from bench.sizing.power import MachinePower, machine_power, refusal
from bench.sizing.sources import Candidate
from bench.stats import summarize

#: Largest allocation accepted: a million MW (1 TW, more than any national grid), so counts stay finite.
MAX_MW = 1e6


@dataclass(frozen=True)
class Allocation:
    """Facility MW and PUE; checked on creation (at most :data:`MAX_MW`, beyond any grid on Earth)."""

    mw: float
    pue: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.mw, bool) or not (0 < self.mw <= MAX_MW):
            raise UsageError(f"--mw {self.mw}: must be a positive number of MW, at most {MAX_MW:.0e}")
        if isinstance(self.pue, bool) or not (1.0 <= self.pue < math.inf):
            raise UsageError(f"--pue {self.pue}: must be at least 1.0")

    @property
    def it_w(self) -> float:
        """IT power in W: MW x 1e6 / PUE."""
        return self.mw * 1e6 / self.pue


@dataclass(frozen=True)
class RunHead:
    """Which run: file, index, workload, device, readable system name, unit, measured or declared."""

    file: str
    run: int
    workload: str
    device: str
    system: str
    unit: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object."""
        return asdict(self)


@dataclass(frozen=True)
class Sized(RunHead):
    """One run sized for an allocation; every figure in base units with its bounds."""

    mw: float
    pue: float
    machines: int
    machines_low: int
    machines_high: int
    throughput_per_machine: float
    throughput: float
    throughput_low: float
    throughput_high: float
    efficiency: float
    efficiency_low: float
    efficiency_high: float
    machine_efficiency: float
    machine_efficiency_low: float
    machine_efficiency_high: float
    mw_per_throughput: float
    mw_per_throughput_low: float
    mw_per_throughput_high: float
    power_w_per_machine: float
    power_w_per_machine_low: float
    power_w_per_machine_high: float
    measured: bool
    modelled: bool
    scope: str
    scope_class: str
    accuracy_note: str
    node_overhead_w: float
    node_overhead_note: str
    quality_level: int | None = None
    unstable: bool = False
    contended: bool = False
    sized: bool = True


@dataclass(frozen=True)
class Skipped(RunHead):
    """A run that cannot be sized, and why."""

    reason: str
    sized: bool = False


def _positive(v: float | None) -> bool:
    return v is not None and math.isfinite(v) and v > 0


def whole(machines: float) -> int:
    """Whole machines, not rounded down by float noise (6.6 MW / 1.1 / 1 kW is 6,000, not 5,999)."""
    return math.floor(machines * (1 + 1e-12))


def throughput_bounds(run: Run) -> tuple[float, float, float]:
    """(T_lo, T, T_hi) per machine: the rate and the p10 / p90 of the windows (recomputed when absent)."""
    thr = run.throughput
    t = float(thr.rate if thr.rate is not None else thr.median or 0.0)
    lo, hi = thr.p10, thr.p90
    if not (_positive(lo) and _positive(hi)):  # only when the file left them out
        stats = summarize([s for s in thr.samples if s > 0])
        lo = lo if _positive(lo) else stats["p10"]
        hi = hi if _positive(hi) else stats["p90"]
    return (min(lo, t) if lo is not None else t), t, (max(hi, t) if hi is not None else t)


def why_not(run: Run, declared: bool) -> str | None:
    """The reason a run cannot be sized, or None when it can."""
    if not run.ok:
        return f"status {run.status!r}" + (f": {run.error}" if run.error else "")
    if not declared and not run.verified:
        return "not verified"
    if not _positive(run.throughput.rate if run.throughput.rate is not None else run.throughput.median):
        return "no throughput"
    if not _positive(run.power.avg_w) and not _positive(run.efficiency.per_joule):
        return "no power figure"
    return refusal(run.power)


def size(c: Candidate, alloc: Allocation, node_overhead_w: float | None = None) -> Sized | Skipped:
    """Size one candidate run for ``alloc``; a run that cannot be sized comes back as Skipped."""
    run = c.run
    head: dict[str, Any] = {"file": c.file, "run": c.index, "workload": run.workload, "device": run.device, "system": c.system,
            "unit": run.unit, "source": "declared" if c.declared else "measured"}
    reason = why_not(run, c.declared)
    if reason:
        return Skipped(**head, reason=reason)
    t_lo, t, t_hi = throughput_bounds(run)
    p: MachinePower = machine_power(run, node_overhead_w, c.declared)
    it_w = alloc.it_w
    if not all(math.isfinite(x) for x in (it_w / p.low_w, it_w / p.high_w, t_hi / p.low_w)):
        return Skipped(**head, reason=f"power per machine {p.low_w:.3g} W is too small to size")
    machines = (whole(it_w / p.watts), whole(it_w / p.high_w), whole(it_w / p.low_w))
    measured = run.efficiency.per_joule or t / p.measured_w
    machine_eff = (t / p.watts, t_lo / p.high_w, t_hi / p.low_w)
    return Sized(
        **head, mw=alloc.mw, pue=alloc.pue,
        machines=machines[0], machines_low=machines[1], machines_high=machines[2],
        throughput_per_machine=t,
        throughput=machines[0] * t, throughput_low=machines[1] * t_lo, throughput_high=machines[2] * t_hi,
        efficiency=measured, efficiency_low=t_lo / p.measured_high_w, efficiency_high=t_hi / p.measured_low_w,
        machine_efficiency=machine_eff[0], machine_efficiency_low=machine_eff[1],
        machine_efficiency_high=machine_eff[2],
        mw_per_throughput=alloc.pue * 1e-6 / machine_eff[0],
        mw_per_throughput_low=alloc.pue * 1e-6 / machine_eff[2],
        mw_per_throughput_high=alloc.pue * 1e-6 / machine_eff[1],
        power_w_per_machine=p.watts, power_w_per_machine_low=p.low_w, power_w_per_machine_high=p.high_w,
        measured=p.measured, modelled=p.modelled, scope=p.scope, scope_class=p.scope_class,
        accuracy_note=p.band_note, node_overhead_w=p.overhead_w, node_overhead_note=p.overhead_note,
        quality_level=run.power.quality.level if not c.declared else None, unstable=run.throughput.unstable,
        contended=run.contention is not None and run.contention.contended,
    )


def capped(s: Sized, max_machines: int | None) -> Sized:
    """``s`` with at most ``max_machines`` machines bought (``--max-machines``); ``s`` itself when None or not binding.

    machines' = min(machines, N) (each bound likewise), throughput' = machines' x T (low: machines_low' x T_lo,
    high: machines_high' x T_hi, T_lo and T_hi recovered from the uncapped bounds); per-machine figures,
    efficiency and MW per unit of throughput are unchanged (the MW left over is simply not used).
    """
    if max_machines is None or s.machines_high <= max_machines:
        return s
    n = (min(s.machines, max_machines), min(s.machines_low, max_machines), min(s.machines_high, max_machines))
    t_lo = s.throughput_low / s.machines_low if s.machines_low else s.throughput_per_machine
    t_hi = s.throughput_high / s.machines_high if s.machines_high else s.throughput_per_machine
    return replace(s, machines=n[0], machines_low=n[1], machines_high=n[2], throughput=n[0] * s.throughput_per_machine,
                   throughput_low=n[1] * t_lo, throughput_high=n[2] * t_hi)


#: How every command names the efficiency that includes the node overhead, beside the measured one.
WITH_OVERHEAD = "with node overhead"


def machine_efficiency(run: Run, declared: bool = False, node_overhead_w: float | None = None) -> float | None:
    """The efficiency of the whole machine (with the node overhead) for a components-only run; None otherwise
    (a wall or node figure is already the machine's, and a run without power has none)."""
    if why_not(run, declared) is not None and not (run.power.avg_w and run.throughput.rate):
        return None
    if run.power.scope_class != "components" or not run.throughput.rate:
        return None
    try:
        p = machine_power(run, node_overhead_w, declared)
    except (AssertionError, ZeroDivisionError):
        return None
    return run.throughput.rate / p.watts if p.watts > 0 else None

"""Outliers by median absolute deviation (MAD) across the GPUs of a fleet.

A GPU is an outlier for a workload when its value (throughput or efficiency) is
below the fleet median by more than ``k`` x MAD *and* by more than a minimum
relative gap (so identical ranks, whose MAD is 0, are never flagged for noise).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.record import Run
from bench.record.miners import is_miner

K_MAD = 3.0
MIN_REL_GAP = 0.05


@dataclass(frozen=True)
class Outlier:
    """One flagged unit (GPU key) for one workload and metric."""

    key: str
    workload: str
    metric: str
    value: float
    median: float
    mad: float

    def reason(self) -> str:
        """One line saying why it was flagged."""
        gap = (self.median - self.value) / self.median * 100 if self.median else 0.0
        return (f"{self.workload} {self.metric} {self.value:.4g} is {gap:.1f}% below the fleet median "
                f"{self.median:.4g} (MAD {self.mad:.3g})")


def run_key(run: Run, index: int, hostname: str = "?") -> str:
    """``node/rank<R>/<device>`` for a fleet run, ``node/<device>`` when no rank is recorded; an ASIC
    miner (``hardware.kind == "asic"``) is its own device, ``asic:HOST``."""
    if is_miner(run):
        return run.device
    node = run.node or hostname
    dev = run.local_device or run.device
    return f"{node}/rank{run.rank}/{dev}" if run.rank is not None else f"{node}/{dev}"


def metric_value(run: Run, metric: str) -> float | None:
    """``throughput`` (units/s over the measured windows) or ``efficiency`` (units per joule), or None."""
    if not run.ok:
        return None
    if metric == "throughput":
        return run.throughput.rate
    if metric == "efficiency":
        return run.efficiency.per_joule
    raise ValueError(f"unknown metric {metric!r}")


def low_outliers(values: dict[str, float], *, workload: str, metric: str,
                 k: float = K_MAD, min_rel_gap: float = MIN_REL_GAP) -> list[Outlier]:
    """The keys whose value lies below the median by more than k*MAD and min_rel_gap*median."""
    if len(values) < 3:
        return []
    med = statistics.median(values.values())
    mad = statistics.median(abs(v - med) for v in values.values())
    out = []
    for key, v in values.items():
        gap = med - v
        if gap > k * mad and gap > min_rel_gap * abs(med):
            out.append(Outlier(key, workload, metric, v, med, mad))
    return out


def fleet_outliers(runs: list[Run], hostname: str = "?", *, k: float = K_MAD,
                   min_rel_gap: float = MIN_REL_GAP,
                   metrics: tuple[str, ...] = ("throughput", "efficiency")) -> list[Outlier]:
    """Low outliers per workload and metric across every run of a fleet result (ASIC miners among those
    of the same model)."""
    by_wl: dict[str, dict[str, dict[str, float]]] = {}
    for i, run in enumerate(runs):
        group = f"{run.workload} on {run.hardware.model or '?'}" if is_miner(run) and run.hardware else run.workload
        for m in metrics:
            v = metric_value(run, m)
            if v is not None:
                by_wl.setdefault(group, {}).setdefault(m, {})[run_key(run, i, hostname)] = v
    found: list[Outlier] = []
    for wl, per_metric in by_wl.items():
        for m, values in per_metric.items():
            found += low_outliers(values, workload=wl, metric=m, k=k, min_rel_gap=min_rel_gap)
    return found

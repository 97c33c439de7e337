"""The derived figures of a run, defined once: the runner computes them and the validator recomputes them.

- throughput ``rate`` = sum(units) / sum(durations); per-window ``samples`` = units / duration,
  summarised by :func:`bench.stats.summarize`; ``unstable`` when the samples' CV > 10%;
- ``per_joule`` = sum(units) / energy over the same windows;
- ``ceiling_fraction`` = rate / ceiling.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.record.run import UNSTABLE_CV, Efficiency, Throughput
from bench.stats import summarize


def throughput(units: Sequence[float], durations_s: Sequence[float], unit: str) -> Throughput:
    """The throughput block of windows that did ``units[i]`` in ``durations_s[i]`` seconds."""
    samples = [float(u) / float(d) for u, d in zip(units, durations_s)]
    stats = summarize(samples)
    cv = stats["cv"]
    return Throughput(
        unit=f"{unit}/s", samples=samples, units=[float(u) for u in units],
        durations_s=[float(d) for d in durations_s], rate=rate(units, durations_s),
        median=stats["median"], p10=stats["p10"], p90=stats["p90"], mean=stats["mean"],
        min=stats["min"], max=stats["max"], cv=cv, unstable=cv is not None and cv > UNSTABLE_CV,
    )


def rate(units: Sequence[float], durations_s: Sequence[float]) -> float | None:
    """Total units over total duration; None without a window."""
    total = float(sum(durations_s))
    return float(sum(units)) / total if units and total > 0 else None


def per_joule(units: Sequence[float], energy_j: float | None) -> float | None:
    """Total units over the energy of the same windows; None without an energy figure."""
    return float(sum(units)) / energy_j if energy_j and energy_j > 0 and units else None


def efficiency(units: Sequence[float], energy_j: float | None, unit: str) -> Efficiency:
    """The efficiency block."""
    return Efficiency(per_joule=per_joule(units, energy_j), unit=f"{unit}/J")


def ceiling_fraction(rate_: float | None, ceiling: float | None) -> float | None:
    """The fraction of the device's physical ceiling the run reached."""
    return rate_ / ceiling if rate_ is not None and ceiling else None

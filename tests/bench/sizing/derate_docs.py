"""Synthetic soak result files for the derating tests: windows at known inlet temperatures and a known knee."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.record import (
    Document,
    Efficiency,
    MeterFigure,
    Phase,
    PowerBlock,
    Quality,
    Run,
    System,
    Throughput,
    new_document,
    write_result,
)

KNEE_C = 40.0
LEVEL = 200e12          # 200 TH/s at or below the knee
DROP_PER_C = 0.02       # -2% of the level per °C above it
POWER_W = 3500.0
POWER_RISE_PER_C = 10.0  # fans: +10 W per °C, everywhere


def truth(t: float) -> tuple[float, float]:
    """The throughput and power the synthetic machine delivers at inlet ``t``."""
    return LEVEL * (1 - DROP_PER_C * max(t - KNEE_C, 0.0)), POWER_W + POWER_RISE_PER_C * (t - 25.0)


def soak_run(temps: Sequence[float], *, noise: float = 0.002, seed: int = 0, key: str = "bmc.inlet_c",
             window_s: float = 60.0) -> Run:
    """One soak: a window per temperature, the inlet as a meter's telemetry series sampled every 5 s."""
    rng = np.random.default_rng(seed)
    phases, samples, units, energy, series = [], [], [], [], []
    for i, t in enumerate(temps):
        start = i * window_s
        thr, pw = truth(t)
        thr *= 1 + rng.normal(0, noise)
        pw *= 1 + rng.normal(0, noise)
        phases.append(Phase(name=f"window-{i + 1}", start=start, end=start + window_s))
        samples.append(thr)
        units.append(thr * window_s)
        energy.append(pw * window_s)
        series.extend([[start + s, t + rng.normal(0, 0.05)] for s in np.arange(0, window_s, 5.0)])
    total_s = window_s * len(temps)
    rate, avg_w = sum(units) / total_s, sum(energy) / total_s
    meter = MeterFigure(name="bmc", kind="redfish", scope="node", method="polled", measured=True, accuracy=0.02,
                        avg_w=avg_w, energy_j=sum(energy), telemetry={key: series})
    return Run(workload="sha256d", device="asic", status="ok", verified=True, unit="hash",
               throughput=Throughput(unit="hash/s", samples=samples, units=units,
                                     durations_s=[window_s] * len(temps), rate=rate, median=float(np.median(samples))),
               power=PowerBlock(avg_w=avg_w, energy_j=sum(energy), scope="node", scope_class="node", measured=True,
                                window_s=total_s, window_energy_j=energy, valid_for_sizing=True,
                                quality=Quality(level=2), meters=[meter]),
               efficiency=Efficiency(per_joule=rate / avg_w, unit="hash/J"), phases=phases)


def soak_doc(*runs: Run) -> Document:
    """A measured document of soak runs."""
    return new_document(System.model_validate({"hostname": "lab", "model": "Test Miner 1"}), list(runs))


def write_soaks(directory: Path, noise: float = 0.002) -> list[Path]:
    """Three soak files (cool, warm, hot rooms), 5 windows each, 20-48 °C."""
    rooms = [[20.0, 22.0, 24.0, 26.0, 28.0], [30.0, 32.0, 34.0, 36.0, 38.0], [40.0, 42.0, 44.0, 46.0, 48.0]]
    paths = []
    for i, temps in enumerate(rooms):
        path = directory / f"soak-{i}.json"
        write_result(path, soak_doc(soak_run(temps, noise=noise, seed=i)))
        paths.append(path)
    return paths

"""The points a derating fit reads from result files: throughput, wall power and inlet temperature per window.

What is read, in this order, for each run that finished (status ok):

0. **Per window, from the run's thermal block** (:class:`bench.record.thermal.Thermal`): its inlet channel,
   else its ambient one (:meth:`~bench.record.thermal.Thermal.inlet`: a BMC's intake sensor, a PDU's
   probe, a miner's intake side), each window's mean beside that window's throughput and power. A window
   the channel has no figure for is left out.
1. **Per window** (a soak's measured windows): a telemetry series of any meter whose key names an inlet or
   ambient channel (:func:`inlet_channel`: ``inlet_c``, ``bmc.inlet_c``, ``pdu0_ambient_c``,
   ``inlet_temp_c``...) averaged over each ``window-N`` phase, beside that window's throughput
   (``throughput.samples[N]``) and power (``power.window_energy_j[N] / throughput.durations_s[N]``).
   An inlet channel is preferred to an ambient one; the first such key, in the meters' order, is used.
   A window is [start, end): a reading at the boundary of two windows belongs to the later one.
2. **Per run**, where no window carries one: a number under ``metrics["inlet_c"]`` (or
   ``metrics["ambient_c"]``), beside the run's ``throughput.rate`` and ``power.avg_w``.

A window whose inlet series has no reading inside it is left out. Several files (soaks at different room
temperatures) add their points together; the runs must share one workload and unit.
"""

from __future__ import annotations

import math

from bench.record import Document, Run
from bench.record.derating import DeratePoint

INLET_SUFFIXES = ("inlet_c", "inlet_temp_c", "intake_c")
AMBIENT_SUFFIXES = ("ambient_c", "ambient_temp_c", "room_c")
METRIC_KEYS = ("inlet_c", "ambient_c")


def inlet_channel(key: str) -> int | None:
    """0 for a key naming an inlet channel, 1 for an ambient one, None for any other."""
    k = key.lower()
    if k.endswith(INLET_SUFFIXES):
        return 0
    if k.endswith(AMBIENT_SUFFIXES):
        return 1
    return None


def _series_source(run: Run) -> tuple[int, str] | None:
    found = [(inlet_channel(key), i, key) for i, m in enumerate(run.power.meters) for key, pts in m.telemetry.items()
             if pts and inlet_channel(key) is not None]
    if not found:
        return None
    _, i, key = min(found, key=lambda x: (x[0], x[1]))
    return i, key


def _window_power(run: Run, n: int) -> float | None:
    energy, durations = run.power.window_energy_j, run.throughput.durations_s
    if n < len(energy) and n < len(durations) and durations[n] > 0:
        return energy[n] / durations[n]
    return None


def _thermal_points(run: Run, index: int) -> list[DeratePoint]:
    channel = run.thermal.inlet() if run.thermal is not None else None
    if channel is None:
        return []
    out = []
    for n, window in enumerate(channel.windows[:len(run.throughput.samples)]):
        if window is None or not math.isfinite(window.mean):
            continue
        out.append(DeratePoint(run=index, window=n, channel=channel.name[:200], inlet_c=window.mean,
                               throughput=run.throughput.samples[n], power_w=_window_power(run, n)))
    return out


def run_points(run: Run, index: int) -> list[DeratePoint]:
    """The points of one run (empty when it carries no inlet temperature or did not finish)."""
    if not run.ok:
        return []
    from_thermal = _thermal_points(run, index)
    if from_thermal:
        return from_thermal
    src = _series_source(run)
    if src is not None:
        meter = run.power.meters[src[0]]
        series = meter.telemetry[src[1]]
        out = []
        for n, ph in enumerate(run.windows):
            if n >= len(run.throughput.samples):
                break
            inside = [v for t, v in series if ph.start <= t < ph.end and math.isfinite(v)]
            if not inside:
                continue
            out.append(DeratePoint(run=index, window=n, channel=f"{meter.name}.{src[1]}"[:200],
                                   inlet_c=sum(inside) / len(inside), throughput=run.throughput.samples[n],
                                   power_w=_window_power(run, n)))
        if out:
            return out
    for key in METRIC_KEYS:
        value = run.metrics.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            rate = run.throughput.rate if run.throughput.rate is not None else run.throughput.median
            if rate is None:
                return []
            return [DeratePoint(run=index, channel=f"metrics.{key}", inlet_c=float(value), throughput=rate,
                                power_w=run.power.avg_w)]
    return []


def document_points(doc: Document) -> list[DeratePoint]:
    """Every point of every run of a document, run indices as the document numbers them."""
    return [p for i, run in enumerate(doc.runs) for p in run_points(run, i)]

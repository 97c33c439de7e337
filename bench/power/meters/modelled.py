"""A modelled CPU power estimate: utilisation x TDP. Always labelled modelled.

CodeCarbon's fallback uses the same model and its own documents put it at
-60% to +190% off RAPL; the accuracy statement says so.
"""

from __future__ import annotations

import os
import time

import psutil

from bench.errors import MeterUnavailable
from bench.power.meter import Meter, Reading
from bench.power.spec import MeterSpec

#: Assumed TDP per logical CPU when ``SITEBENCH_CPU_TDP_W`` is not set.
DEFAULT_TDP_W_PER_CPU = 10.0
#: Blocking utilisation sample taken when the meter opens.
PRIME_S = 0.1
#: Reads closer together than this reuse the last utilisation.
MIN_INTERVAL_S = 0.05


def cpu_tdp_w() -> tuple[float, str]:
    """The TDP the model uses and where it came from."""
    env = os.environ.get("SITEBENCH_CPU_TDP_W")
    if env:
        try:
            value = float(env)
        except ValueError:
            raise MeterUnavailable(f"SITEBENCH_CPU_TDP_W={env!r} is not a number") from None
        if value <= 0:
            raise MeterUnavailable(f"SITEBENCH_CPU_TDP_W={env!r} must be positive")
        return value, "SITEBENCH_CPU_TDP_W"
    cpus = psutil.cpu_count(logical=True) or 1
    return DEFAULT_TDP_W_PER_CPU * cpus, f"default {DEFAULT_TDP_W_PER_CPU:g} W x {cpus} logical CPUs"


class ModelledCpuMeter(Meter):
    """Power = whole-machine CPU utilisation x TDP; ``measured`` is False."""

    kind = "model"

    def __init__(self) -> None:
        self.tdp_w, source = cpu_tdp_w()
        super().__init__(
            "model:cpu",
            "modelled",
            accuracy=None,
            accuracy_note=f"modelled, not measured: utilisation x TDP ({self.tdp_w:g} W, {source}); "
            "such models are -60% to +190% off RAPL",
            update_period_s=0.1,
            method="model",
            measured=False,
        )
        # psutil's first non-blocking call has no earlier sample and returns 0.0: prime with a
        # short blocking measurement so the first reading is a real utilisation, not 0 W.
        self._util = psutil.cpu_percent(interval=PRIME_S) / 100.0
        self._last = time.monotonic()

    def read(self) -> Reading:
        now = time.monotonic()
        if now - self._last >= MIN_INTERVAL_S:  # a shorter interval is noise (or 0.0): keep the last value
            self._util = psutil.cpu_percent(interval=None) / 100.0
            self._last = now
        return Reading(t=now, power_w=self._util * self.tdp_w, extra={"cpu_util": self._util})


def open_spec(spec: MeterSpec) -> list[Meter]:
    """The modelled meter works everywhere psutil does (``model`` takes no target or option)."""
    return [ModelledCpuMeter()]

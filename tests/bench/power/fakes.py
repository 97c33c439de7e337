"""Test meters and a workload shared by the power tests."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from bench.errors import MeterReadError
from bench.power.meter import Meter, Reading
from bench.power.sampler import Sampler
from bench.record import Run, Timing
from bench.run.runner import run_workload
from bench.workload import Workload


class CounterMeter(Meter):
    """A counter meter at a constant ``watts``; fails reads while ``failing`` is set."""

    kind = "test"

    def __init__(self, watts: float, scope: str = "node", accuracy: float | None = 0.01,
                 update_period_s: float = 0.001, name: str | None = None) -> None:
        super().__init__(name or f"test:{scope}", scope, accuracy=accuracy, accuracy_note="test",
                         update_period_s=update_period_s, method="counter")
        self.watts = watts
        self.t0 = time.monotonic()
        self.failing = False

    def read(self) -> Reading:
        if self.failing:
            raise MeterReadError("BMC stopped answering")
        t = time.monotonic()
        return Reading(t=t, energy_j=(t - self.t0) * self.watts)


class Sleeper(Workload):
    """10 ms per step; calls ``on_step(n)`` so a test can break a meter mid-run."""

    name = "sleeper"
    unit = "op"
    presets: dict[str, dict[str, Any]] = {"ci": {}, "full": {}}

    def __init__(self, on_step: Any = None) -> None:
        self.n = 0
        self.on_step = on_step

    def setup(self, device: str, params: Mapping[str, Any]) -> None:
        pass

    def verify(self) -> None:
        pass

    def step(self) -> int:
        self.n += 1
        if self.on_step:
            self.on_step(self.n)
        time.sleep(0.01)
        return 1

    def ceiling(self, device: str) -> None:
        return None


def sampled_run(meters: list[Meter], timing: Timing, rate_hz: float = 50.0, workload: Workload | None = None) -> Run:
    """One run of ``workload`` (a :class:`Sleeper`) on cpu through the runner, sampling ``meters``."""
    sampler = Sampler(meters, rate_hz=rate_hz)
    sampler.start()
    try:
        return run_workload(workload or Sleeper(), "cpu", {}, timing, sampler).run
    finally:
        sampler.stop()

"""Temperatures beside power through the runner: a fake NVML board and a fake hwmon tree whose temperatures
and throttling change at each measured window, and the run's per-window figures equal to what they were set to."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.measure.runrecord import RunHead
from bench.power.meters import nvml
from bench.power.sampler import Sampler
from bench.power.thermal.hwmon import HwmonSource
from bench.power.thermal.sampler import ThermalSampler
from bench.record import Document, Timing, new_document
from bench.record.io import dumps, from_json, parse_json, schema_errors
from bench.run.runner import run_workload
from tests.bench.power import fake_hwmon, fake_pynvml
from tests.bench.power.fakes import Sleeper

#: per window: GPU core and memory C, NVML reason bits, CPU package 0 C
SCHEDULE = [(61, 70, fake_pynvml.SW_POWER_CAP, 55.0),
            (75, 82, fake_pynvml.SW_POWER_CAP | fake_pynvml.HW_THERMAL_SLOWDOWN, 71.5),
            (90, 96, fake_pynvml.HW_THERMAL_SLOWDOWN | 0x20, 88.25)]


class ScheduledSampler(Sampler):
    """Sets the fakes to window N's figures just before the marker that starts window N: every reading taken
    in window N (the marker's, and none other: the background poll waits 1000 s) carries them."""

    def __init__(self, gpu: fake_pynvml.Gpu, tree: fake_hwmon.Tree, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.gpu, self.tree = gpu, tree

    def mark(self, phase: str) -> float:
        name = phase.rsplit("/", 1)[-1]
        if name.startswith("window-") and int(name[7:]) < len(SCHEDULE):
            core, memory, reasons, cpu = SCHEDULE[int(name[7:])]
            self.gpu.temperature_c, self.gpu.memory_c, self.gpu.reasons = core, memory, reasons
            self.tree.set(0, cpu)
        return super().mark(phase)


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[fake_pynvml.Gpu, fake_hwmon.Tree]:
    gpu = fake_pynvml.Gpu()
    monkeypatch.setattr(nvml, "_import", lambda: fake_pynvml.make([gpu]))
    monkeypatch.setattr(nvml, "cuda_ordinals", lambda: {})
    return gpu, fake_hwmon.intel(tmp_path / "hwmon")


def test_a_run_records_each_windows_temperatures_thresholds_and_throttled_time(
        fakes: tuple[fake_pynvml.Gpu, fake_hwmon.Tree]) -> None:
    gpu, tree = fakes
    meters = nvml.open_spec(nvml.MeterSpec.parse("nvml"))
    polled = ThermalSampler([HwmonSource(tree.root, period_s=1000.0)])
    sampler = ScheduledSampler(gpu, tree, meters=meters, rate_hz=0.001, thermal=polled)
    sampler.start()
    try:
        run = run_workload(Sleeper(), "cpu", {}, Timing(idle_s=0.05, warmup_s=0.05, window_s=0.3, repeats=3,
                                                          tail_s=0.05), sampler).run
    finally:
        sampler.stop()
    th = run.thermal
    assert th is not None and run.ok
    core, memory = th.channel("gpu:0.core_c"), th.channel("gpu:0.memory_c")
    cpu = th.channel("cpu-package:0.package_c")
    assert core is not None and memory is not None and cpu is not None
    assert (core.source, core.role, core.unit, core.device) == ("nvml", "core", "°C", "gpu:0")
    assert core.thresholds == {"shutdown": 92.0, "slowdown": 89.0, "gpu_max": 87.0}
    assert memory.role == "memory" and memory.thresholds == {"mem_max": 95.0}
    assert (cpu.source, cpu.role, cpu.thresholds) == ("hwmon", "package", {"max": 90.0, "crit": 100.0})
    for n, (c, m, _, p) in enumerate(SCHEDULE):
        for ch, want in ((core, c), (memory, m), (cpu, p)):
            w = ch.windows[n]
            assert w is not None and (w.min, w.mean, w.max, w.readings, w.held) == (want, want, want, 1, False), ch.name
    assert core.summary.mean == pytest.approx(sum(s[0] for s in SCHEDULE) / 3)
    assert cpu.summary.max == 88.25
    (gpu_throttle,) = th.throttle
    durations = run.throughput.durations_s
    w0, w1, w2 = gpu_throttle.windows
    assert w0.seconds == 0.0 and w0.reasons["sw_power_cap"] == pytest.approx(durations[0], abs=1e-3)
    # window N's reasons hold from its first reading, taken right after the marker that opens it
    assert w1.seconds == pytest.approx(durations[1], abs=0.05) and w1.fraction == pytest.approx(1.0, abs=0.2)
    assert set(w1.reasons) == {"sw_power_cap", "hw_thermal_slowdown"}
    assert w2.seconds == pytest.approx(durations[2], abs=0.05)
    assert set(w2.reasons) >= {"hw_thermal_slowdown", "sw_thermal_slowdown"}
    assert gpu_throttle.fraction == pytest.approx(2 / 3, abs=0.1)
    doc = new_document({"hostname": "test"}).model_copy(update={"runs": [run]})
    assert schema_errors(parse_json(dumps(doc))) == []  # the shipped schema holds it too
    again = from_json(parse_json(dumps(doc)))
    assert isinstance(again, Document) and again.runs[0].thermal == th
    # another run with the same sampler starts from what the last one left: its own windows only
    assert all(ch.windows for ch in th.channels)


def test_a_run_without_temperature_sources_has_no_thermal_block() -> None:
    sampler = Sampler([], rate_hz=10)
    sampler.start()
    try:
        run = run_workload(Sleeper(), "cpu", {}, Timing(idle_s=0.0, warmup_s=0.0, window_s=0.05, repeats=1,
                                                          tail_s=0.0), sampler).run
    finally:
        sampler.stop()
    assert run.thermal is None
    assert RunHead  # the record builder every front end shares carries it

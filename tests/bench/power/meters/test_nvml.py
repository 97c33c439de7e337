"""The nvml meter against recorded H100 answers from a fake pynvml (no GPU here)."""

from __future__ import annotations

import sys
import time

import pytest

from bench.errors import MeterReadError, MeterUnavailable
from bench.power.discovery import open_spec
from bench.power.meter import CounterDiscontinuity
from bench.power.meters import nvml
from bench.qualify.verdict import throttled
from bench.run.runner import Timing
from tests.bench.power import fake_pynvml
from tests.bench.power.fake_pynvml import Gpu
from tests.bench.power.fakes import sampled_run


def _install(monkeypatch: pytest.MonkeyPatch, **kw: object) -> object:
    nv = fake_pynvml.make(**kw)  # type: ignore[arg-type]
    monkeypatch.setitem(sys.modules, "pynvml", nv)
    return nv


def test_h100_meter_counter_energy_instant_trace_and_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, gpus=[Gpu(), Gpu(watts=401.5)])
    meters = open_spec("nvml")
    assert [m.scope for m in meters] == ["gpu:0", "gpu:1"]
    m = meters[0]
    d = m.figure()
    assert d.kind == "nvml" and d.accuracy == 0.05 and d.accuracy_w == 5.0
    assert "NVIDIA H100 80GB HBM3" in d.accuracy_note and "+/-5%" in d.accuracy_note
    assert d.method.startswith("counter (nvmlDeviceGetTotalEnergyConsumption)")
    assert "NVML_FI_DEV_POWER_INSTANT" in d.method
    first = m.read()
    time.sleep(0.2)
    r = m.read()
    assert (r.energy_j - first.energy_j) / (r.t - first.t) == pytest.approx(652.13, rel=0.05)
    assert r.power_w == pytest.approx(652.13)
    assert r.extra == {"sm_clock_mhz": 1980, "mem_clock_mhz": 2619, "temperature_c": 61,
                       "memory_temperature_c": 70.0, "throttle_reasons": ["sw_power_cap"]}


def test_average_field_then_power_usage_fallbacks_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, gpus=[Gpu(instant=False), Gpu(instant=False, average=False)])
    avg, usage = open_spec("nvml")
    assert "NVML_FI_DEV_POWER_AVERAGE" in avg.method and "instant power unsupported" in avg.method
    assert avg.read().power_w == pytest.approx(652.13 - 3.231)
    assert "1-second average" in usage.method and "not instantaneous" in usage.method
    assert usage.read().power_w == pytest.approx(652.13 - 10.87)


@pytest.mark.parametrize("kw, reason", [
    ({"init_error": fake_pynvml.NVMLError_LibraryNotFound}, "nvml: no NVIDIA driver"),
    ({"init_error": fake_pynvml.NVMLError_DriverNotLoaded}, "nvml: no NVIDIA driver"),
    ({"gpus": []}, "nvml: no GPUs"),
    ({"gpus": [Gpu(name="Tesla P100-SXM2-16GB", energy=False)]}, "energy counter unsupported (pre-Volta"),
    ({"gpus": [Gpu(name="GRID A100-40C", energy=False)]}, "or a vGPU"),
])
def test_probe_reasons(monkeypatch: pytest.MonkeyPatch, kw: dict, reason: str) -> None:
    nv = _install(monkeypatch, **kw)
    with pytest.raises(MeterUnavailable) as info:
        open_spec("nvml")
    assert str(info.value).startswith(reason) or reason in str(info.value)
    assert nv.refs() <= 0  # type: ignore[attr-defined]


def test_bad_index_argument_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch)
    with pytest.raises(MeterUnavailable, match="no GPU 3"):
        open_spec("nvml:3")
    assert [m.scope for m in open_spec("nvml:0")] == ["gpu:0"]


def test_lost_gpu_and_backwards_counter(monkeypatch: pytest.MonkeyPatch) -> None:
    gpu = Gpu()
    _install(monkeypatch, gpus=[gpu])
    (m,) = open_spec("nvml")
    gpu.shift_mj = 10_000
    with pytest.raises(CounterDiscontinuity, match="went backwards"):
        m.read()
    gpu.lost = True
    with pytest.raises(MeterReadError, match="nvml:gpu:0: GPU is lost"):
        m.read()


def test_decode_reasons_names_every_bit() -> None:
    assert nvml.decode_reasons(0x1 | 0x40 | 0x1000) == ["gpu_idle", "hw_thermal_slowdown", "bit_0x1000"]
    assert nvml.decode_reasons(0) == []


def test_run_records_telemetry_and_throttling_in_one_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch)
    run = sampled_run(open_spec("nvml"), Timing(idle_s=0.1, warmup_s=0.05, window_s=0.6, repeats=2, tail_s=0.1), rate_hz=50)
    (m,) = run.power.meters
    assert m.valid is True and m.avg_w == pytest.approx(652.13, rel=0.05)
    assert m.peak_w == pytest.approx(652.13)
    summary = m.telemetry_summary
    clock = summary.series["sm_clock_mhz"]
    assert clock.min == clock.max == 1980.0 and clock.mean == pytest.approx(1980.0, rel=1e-12)
    # holding its power limit at full load is how an H100 runs, not throttling (a thermal slowdown is)
    assert summary.throttle_reasons == pytest.approx({"sw_power_cap": 1.0}, rel=1e-12) and summary.throttled is False
    assert set(m.telemetry) == {"sm_clock_mhz", "mem_clock_mhz", "temperature_c", "memory_temperature_c"}
    assert throttled(run) is False
    assert run.power.scope_class == "components"


def test_scopes_follow_cuda_ordinals_and_hidden_gpus_are_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    gpus = [Gpu(), Gpu(), Gpu()]
    _install(monkeypatch, gpus=gpus)
    # CUDA_VISIBLE_DEVICES=2,0: cuda:0 is NVML GPU 2, cuda:1 is NVML GPU 0, NVML GPU 1 is hidden
    monkeypatch.setattr(nvml, "cuda_ordinals", lambda: {gpus[2].uuid: 0, gpus[0].uuid: 1})
    meters = open_spec("nvml")
    assert sorted((m.scope, m.handle is gpus[2] if m.scope == "gpu:0" else m.handle is gpus[0])
                  for m in meters) == [("gpu:0", True), ("gpu:1", True)]
    (only,) = open_spec("nvml:1")
    assert only.scope == "gpu:1" and only.handle is gpus[0]
    with pytest.raises(MeterUnavailable, match="no GPU 2 .2 visible"):
        open_spec("nvml:2")


def test_mig_instances_match_no_nvml_gpu_and_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, gpus=[Gpu()])
    # CUDA sees a MIG instance: its UUID is MIG-..., no NVML GPU UUID matches it
    monkeypatch.setattr(nvml, "cuda_ordinals", lambda: {"MIG-4f3a9b12-0000-5e6f-8a7b-000000000000": 0})
    with pytest.raises(MeterUnavailable, match="MIG instances"):
        open_spec("nvml")


def test_gh200_counter_is_the_modules_and_the_trace_follows_the_counter(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, gpus=[Gpu(name="NVIDIA GH200 480GB", watts=900.0)])
    (m,) = open_spec("nvml")
    assert m.scope == "module:0" and m.name == "nvml:module:0" and "whole module" in m.accuracy_note
    first = m.read()
    time.sleep(0.05)
    r = m.read()
    assert r.power_w is None and first.power_w is None, "the GPU-only power field is not mixed in"
    assert r.extra["gpu_power_w"] == pytest.approx(900.0), "it is kept as the GPU's own telemetry"
    assert m.figure().device_uuid is not None
    assert (r.energy_j - first.energy_j) / (r.t - first.t) == pytest.approx(900.0, rel=0.1)


def test_each_gpu_declares_twice_its_top_power_limit_as_the_most_it_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    nv = _install(monkeypatch, gpus=[Gpu(), Gpu(name="NVIDIA Unknown X9")])
    h100, unknown = open_spec("nvml")
    assert h100.max_w == 1400.0, "no power-limit range here: the catalog's 700 W for an H100, x 2"
    assert unknown.max_w is None, "a board the catalog does not know is bounded by its scope"
    nv.nvmlDeviceGetPowerManagementLimitConstraints = lambda h: (200_000, 600_000)  # type: ignore[attr-defined]
    assert [m.max_w for m in open_spec("nvml")] == [1200.0, 1200.0]

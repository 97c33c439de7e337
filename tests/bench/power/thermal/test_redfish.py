"""A BMC's inlet temperature over Redfish, against a real HTTP server on loopback whose temperatures change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.cli import main
from bench.errors import UsageError
from bench.power.thermal.redfish import RedfishThermal
from bench.power.thermal.sampler import ThermalSampler
from bench.power.thermal.spec import open_thermal
from bench.power.window.thermal import Info, channel
from tests.bench.power.thermal.fake_bmc import CHASSIS, FakeBmc


@pytest.fixture
def bmcs() -> Iterator[list[FakeBmc]]:
    started: list[FakeBmc] = []
    yield started
    for b in started:
        b.stop()


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDFISH_USER", "REDFISH_PASSWORD", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)


def test_thermal_subsystem_first_with_the_sensor_thresholds(bmcs: list[FakeBmc]) -> None:
    bmcs.append(bmc := FakeBmc())
    source = RedfishThermal(bmc.url())
    names = {c.key: c for c in source.channels}
    assert list(names) == ["inlet_c", "outlet_c", "ambient_c"]
    inlet = names["inlet_c"]
    assert (inlet.role, inlet.unit, inlet.device) == ("inlet", "°C", "bmc:127.0.0.1")
    assert inlet.thresholds == {"upper_critical": 42.0, "upper_fatal": 50.0}
    assert "TemperatureSummaryCelsius.Intake" in inlet.sensor
    assert "TemperatureReadingsCelsius[0] (Room)" in names["ambient_c"].sensor
    assert source.read() == {"bmc:127.0.0.1.inlet_c": 24.8, "bmc:127.0.0.1.outlet_c": 40.5,
                             "bmc:127.0.0.1.ambient_c": 22.0}
    bmc.set(31.5)
    assert source.read()["bmc:127.0.0.1.inlet_c"] == 31.5
    assert bmc.requests[-1] == f"{CHASSIS}/ThermalSubsystem/ThermalMetrics"  # one resource per poll


@pytest.mark.parametrize("context", [True, False])
def test_legacy_thermal_by_physical_context_or_name_and_rpm_fans(bmcs: list[FakeBmc], context: bool) -> None:
    bmcs.append(bmc := FakeBmc(subsystem=False, context=context))
    source = RedfishThermal(bmc.url())
    keys = [c.key for c in source.channels]
    assert keys == ["inlet_c", "outlet_c", "fan_rpm"]  # the CPU sensor and the fan in percent are left out
    inlet = source.channels[0]
    assert inlet.thresholds == {"upper_critical": 40.0, "upper_fatal": 50.0}
    assert ("PhysicalContext Intake" if context else "its Name (no PhysicalContext)") in inlet.sensor
    bmc.set(27.0, 45.25)
    assert source.read() == {"bmc:127.0.0.1.inlet_c": 27.0, "bmc:127.0.0.1.outlet_c": 45.25,
                             "bmc:127.0.0.1.fan_rpm": 8400.0}


def test_per_window_inlet_equals_what_the_bmc_served(bmcs: list[FakeBmc]) -> None:
    """Polled in this thread, window by window: each window's figures are the BMC's values in it."""
    bmcs.append(bmc := FakeBmc())
    source = RedfishThermal(bmc.url(), period_s=1000.0)
    sampler = ThermalSampler([source])
    served = [[24.0, 24.5], [30.0, 31.0, 32.0], [35.5]]
    bounds = []
    for values in served:
        start = None
        for v in values:
            bmc.set(v)
            sampler.poll(source.name)
            start = start if start is not None else sampler.logs[source.name].readings[-1][0]
        bounds.append((start, sampler.logs[source.name].readings[-1][0] + 1e-6))
    name = "bmc:127.0.0.1.inlet_c"
    info = Info.of(source, next(c for c in source.channels if c.name == name))
    log = sampler.snapshot()[source.name]
    inlet = channel(info, log.points(name), bounds, bounds[0][0])
    for window, values in zip(inlet.windows, served):
        assert window is not None and window.readings == len(values)
        assert (window.min, window.mean, window.max) == (min(values), pytest.approx(sum(values) / len(values)),
                                                         max(values))
    assert (inlet.source, inlet.role, inlet.period_s) == ("redfish", "inlet", 1000.0)
    bmc.stop()  # the BMC goes away: a gap with its reason, never a 0
    bmcs.remove(bmc)
    sampler.poll(source.name)
    assert sampler.logs[source.name].gaps and len(sampler.logs[source.name].readings) == 6


def test_not_a_chassis_or_no_air_sensor_is_one_usage_line(bmcs: list[FakeBmc]) -> None:
    bmcs.append(bmc := FakeBmc(legacy=False, subsystem=False))
    with pytest.raises(UsageError, match=r"^--thermal redfish:http://127\.0\.0\.1:\d+/redfish/v1/Chassis/1U: .*no inlet"):
        open_thermal([f"redfish:{bmc.url()}"])
    with pytest.raises(UsageError, match="not found .HTTP 404."):
        open_thermal([f"redfish:{bmc.url('/redfish/v1/Chassis/nope')}"])
    with pytest.raises(UsageError, match="unknown temperature source 'bmc'"):
        open_thermal(["bmc:x"])
    with pytest.raises(UsageError, match="give it alone"):
        open_thermal(["none", "hwmon"])
    assert open_thermal(["none"]).sources == []


def test_sitebench_run_records_the_bmc_inlet_per_window(bmcs: list[FakeBmc], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    bmcs.append(bmc := FakeBmc())
    bmc.set(26.5)
    monkeypatch.setenv("SITEBENCH_CPU_TDP_W", "100")
    out = tmp_path / "r.json"
    code = main(["run", "-w", "sha256", "--idle", "0", "--warmup", "0.05", "--window", "0.2", "--repeats", "2",
                 "--quiet", "--meter", "model", "--thermal", f"redfish:{bmc.url()},period=0.05", "--out", str(out)])
    assert code == 0
    (run,) = json.loads(out.read_text())["runs"]
    inlet = next(c for c in run["thermal"]["channels"] if c["name"] == "bmc:127.0.0.1.inlet_c")
    assert (inlet["source"], inlet["role"], inlet["unit"]) == ("redfish", "inlet", "°C")
    assert [w["mean"] for w in inlet["windows"]] == [26.5, 26.5]
    assert all(w["readings"] >= 1 for w in inlet["windows"])

"""A BMC's inlet temperature from its sensor records, through a fake ``ipmitool`` on PATH printing real output."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import MeterReadError, UsageError
from bench.power.thermal import ipmi
from bench.power.thermal.spec import open_thermal

# As ipmitool 1.8.18 prints `sdr type Temperature` on an Intel server board (S2600WF), the readings templated.
SDR = """BB Inlet Temp    | 20h | ok  |  7.1 | {inlet} degrees C
SSB Temp         | 22h | ok  |  7.1 | 44 degrees C
BB P1 VR Temp    | 24h | ok  |  7.1 | 45 degrees C
Exit Air Temp    | 2Eh | ok  |  7.1 | {exhaust} degrees C
P1 Therm Margin  | 3Eh | ok  |  3.1 | -58 degrees C
P2 DTS Therm Mgn | 39h | ns  |  3.2 | Disabled
"""
# `sdr get "BB Inlet Temp"` on the same board, cut to the lines read.
GET = """Sensor ID              : BB Inlet Temp (0x20)
 Entity ID             : 7.1 (System Board)
 Sensor Type (Threshold)  : Temperature (0x01)
 Sensor Reading        : 22 (+/- 0) degrees C
 Status                : ok
 Upper non-recoverable : 47.000
 Upper critical        : 42.000
 Upper non-critical    : 38.000
"""
FAKE = """#!/bin/sh
echo "$@" >> "$FAKE_IPMI/args"
case "$*" in
  *"sdr get BB Inlet Temp"*) cat "$FAKE_IPMI/get" ;;
  *"sdr get"*) echo "Unable to find sensor" >&2; exit 1 ;;
  *"sdr type Temperature"*)
    if [ -f "$FAKE_IPMI/fail" ]; then echo "Error: Unable to establish IPMI v2 / RMCP+ session" >&2; exit 1; fi
    cat "$FAKE_IPMI/sdr" ;;
esac
"""


class Fake:
    def __init__(self, root: Path) -> None:
        self.root = root

    def answer(self, inlet: str = "22", exhaust: str = "31") -> None:
        (self.root / "sdr").write_text(SDR.format(inlet=inlet, exhaust=exhaust))

    def fail(self, on: bool = True) -> None:
        path = self.root / "fail"
        path.touch() if on else path.unlink(missing_ok=True)

    def calls(self) -> list[str]:
        return (self.root / "args").read_text().splitlines()


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fake:
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / "ipmitool"
    script.write_text(FAKE)
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    monkeypatch.setenv("FAKE_IPMI", str(tmp_path))
    monkeypatch.delenv("IPMI_USER", raising=False)
    f = Fake(tmp_path)
    (tmp_path / "get").write_text(GET)
    f.answer()
    return f


def test_local_bmc_inlet_and_exhaust_with_thresholds_as_the_temperatures_change(fake: Fake) -> None:
    (source,) = open_thermal(["ipmi"]).sources
    assert isinstance(source, ipmi.IpmiThermal)
    inlet, exhaust = source.channels
    assert (inlet.name, inlet.role, inlet.unit) == ("bmc:local.inlet_c", "inlet", "°C")
    assert inlet.thresholds == {"upper_non_recoverable": 47.0, "upper_critical": 42.0}
    assert "'BB Inlet Temp' (20h | ok | 7.1)" in inlet.sensor
    assert (exhaust.name, exhaust.role, exhaust.thresholds) == ("bmc:local.outlet_c", "outlet", {})
    assert source.read() == {"bmc:local.inlet_c": 22.0, "bmc:local.outlet_c": 31.0}
    fake.answer(inlet="35", exhaust="49")
    assert source.read() == {"bmc:local.inlet_c": 35.0, "bmc:local.outlet_c": 49.0}
    fake.answer(inlet="no reading", exhaust="49")
    assert source.read() == {"bmc:local.outlet_c": 49.0}
    fake.fail()
    with pytest.raises(MeterReadError, match="exited 1: Error: Unable to establish"):
        source.read()
    assert fake.calls()[0] == "sdr type Temperature"


def test_remote_bmc_uses_lanplus_and_the_password_from_the_environment(fake: Fake,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="--thermal ipmi:admin@bmc-7: set IPMI_PASSWORD"):
        open_thermal(["ipmi:admin@bmc-7"])
    monkeypatch.setenv("IPMI_PASSWORD", "secret")
    (source,) = open_thermal(["ipmi:admin@bmc-7,period=2"]).sources
    assert source.channels[0].name == "bmc:bmc-7.inlet_c" and source.period_s == 2.0
    assert fake.calls()[-1].startswith("-I lanplus -H bmc-7 -U admin -E sdr")
    assert "secret" not in "".join(fake.calls())


@pytest.mark.parametrize("name, role", [("Inlet Temp", "inlet"), ("01-Inlet Ambient", "inlet"), ("Ambient Temp", "ambient"),
                                        ("Exhaust Temp", "outlet"), ("Exit Air Temp", "outlet"), ("CPU1 Temp", None)])
def test_a_sensor_is_known_by_its_name(name: str, role: str | None) -> None:
    assert ipmi.role_of(name) == role

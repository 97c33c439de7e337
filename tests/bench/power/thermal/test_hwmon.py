"""CPU package temperatures from a fake hwmon tree (``SITEBENCH_HWMON_ROOT``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import MeterReadError, MeterUnavailable
from bench.power.thermal.hwmon import HwmonSource
from tests.bench.power import fake_hwmon


def test_coretemp_packages_with_thresholds_and_nothing_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_hwmon.intel(tmp_path / "hwmon", (55.0, 57.5))
    monkeypatch.setenv("SITEBENCH_HWMON_ROOT", str(tmp_path / "hwmon"))
    source = HwmonSource()
    assert [c.name for c in source.channels] == ["cpu-package:0.package_c", "cpu-package:1.package_c"]
    c = source.channels[0]
    assert (c.role, c.unit, c.thresholds) == ("package", "°C", {"max": 90.0, "crit": 100.0})
    assert "coretemp hwmon2/temp1_input ('Package id 0')" in c.sensor
    assert source.read() == {"cpu-package:0.package_c": 55.0, "cpu-package:1.package_c": 57.5}


@pytest.mark.parametrize("tdie, label", [(True, "Tdie"), (False, "Tctl")])
def test_k10temp_prefers_tdie_and_numbers_sockets_by_pci_device(tmp_path: Path, tdie: bool, label: str) -> None:
    tree = fake_hwmon.amd(tmp_path / "hwmon", 61.25, tdie=tdie, sockets=2)
    source = HwmonSource(tmp_path / "hwmon")
    assert [c.device for c in source.channels] == ["cpu-package:0", "cpu-package:1"]
    assert f"({label!r})" in source.channels[0].sensor and "hwmon5" in source.channels[0].sensor
    tree.set(1, 70.125)
    assert source.read() == {"cpu-package:0.package_c": 61.25, "cpu-package:1.package_c": 70.125}


def test_no_package_sensor_is_unavailable_and_a_vanished_file_a_gap(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(MeterUnavailable, match="no coretemp or k10temp package temperature"):
        HwmonSource(tmp_path / "empty")
    tree = fake_hwmon.amd(tmp_path / "hwmon")
    source = HwmonSource(tmp_path / "hwmon")
    tree.files[0].write_text("-128000\n")  # a sensor's fault code is no reading
    assert source.read() == {}
    tree.files[0].unlink()
    with pytest.raises(MeterReadError, match="hwmon: .*temp1_input"):
        source.read()

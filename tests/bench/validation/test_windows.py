"""Window consistency and trace plausibility checks: each with a passing and a failing fixture."""

from __future__ import annotations

from typing import Any

import pytest

from bench import hardware
from tests.bench.conftest import check


def _by(doc: dict[str, Any], name: str) -> list[str]:
    return [f.path for f in check(doc) if f.check == name]


@pytest.mark.parametrize("name", ["markers", "readings", "same-window", "energy-trace", "timestamps", "cpu-node-power"])
def test_recorded_file_passes(doc: dict[str, Any], name: str) -> None:
    assert _by(doc, name) == []


def test_markers_outside_the_power_trace(doc: dict[str, Any]) -> None:
    meter = doc["runs"][0]["power"]["meters"][0]
    meter["trace"] = meter["trace"][: len(meter["trace"]) // 2]
    paths = _by(doc, "markers")
    assert "$.runs[0].phases[4]" in paths and "$.runs[0].phases[2]" not in paths


def test_power_window_not_the_measured_phases(doc: dict[str, Any]) -> None:
    doc["runs"][1]["power"]["window_s"] += 0.5
    assert "$.runs[1].power.window_s" in _by(doc, "markers")


def test_too_few_readings_for_the_window(doc: dict[str, Any]) -> None:
    doc["runs"][0]["power"]["meters"][0]["readings"] = 12  # a 3 s window at 10 Hz gives ~30
    assert _by(doc, "readings") == ["$.runs[0].power.meters[0].readings"]


def test_throughput_from_another_window(doc: dict[str, Any]) -> None:
    run = doc["runs"][0]
    run["throughput"]["durations_s"][1] += 0.25
    run["throughput"]["samples"][1] = run["throughput"]["units"][1] / run["throughput"]["durations_s"][1]
    assert "$.runs[0].throughput.durations_s[1]" in _by(doc, "same-window")
    run["throughput"]["durations_s"].pop()
    assert _by(doc, "same-window") == ["$.runs[0].throughput.durations_s"]


def test_energy_not_the_integral_of_the_trace(doc: dict[str, Any]) -> None:
    p = doc["runs"][1]["power"]
    for holder in [p, p["meters"][0]]:
        holder["trace"] = [[t, w * 2] for t, w in holder["trace"]]
    assert _by(doc, "energy-trace") == ["$.runs[1].power.energy_j", "$.runs[1].power.meters[0].energy_j"]


def test_time_going_back_and_short_windows(doc: dict[str, Any]) -> None:
    tr = doc["runs"][0]["power"]["trace"]
    tr[3][0], tr[4][0] = tr[4][0], tr[3][0]
    doc["runs"][1]["power"]["meters"][0]["duration_s"] += 1.0
    doc["settings"]["timing"]["window_s"] = 2.0
    paths = _by(doc, "timestamps")
    assert "$.runs[0].power.trace[4]" in paths
    assert "$.runs[1].power.meters[0].duration_s" in paths
    assert "$.runs[0].throughput.durations_s[0]" in paths


def _cpu_meter(doc: dict[str, Any], scope: str, watts: float) -> None:
    m = doc["runs"][0]["power"]["meters"][0]
    m.update(scope=scope, avg_w=watts)


def test_cpu_package_power_against_tdp(doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    rows = hardware.rows() + [{"kind": "cpu", "model": "AMD EPYC", "tdp_w": "200"}]
    monkeypatch.setattr(hardware, "rows", lambda: rows)
    _cpu_meter(doc, "cpu-package:0", 250.0)
    assert _by(doc, "cpu-node-power") == []
    _cpu_meter(doc, "cpu-package:0", 400.0)
    (f,) = [f for f in check(doc) if f.check == "cpu-node-power"]
    assert f.level == "error" and "300 W" in f.message
    _cpu_meter(doc, "node", 1000.0)  # 2 sockets x 200 W x 1.5 + 500 W = 1100 W
    assert _by(doc, "cpu-node-power") == []
    _cpu_meter(doc, "node", 5000.0)
    assert _by(doc, "cpu-node-power") == ["$.runs[0].power.meters[0].avg_w"]


def test_unknown_cpu_is_bounded_by_the_highest_server_cpu_tdp(doc: dict[str, Any]) -> None:
    _cpu_meter(doc, "cpu-package:0", 600.0)  # under 500 W x 1.5
    notes = [f for f in check(doc) if f.check == "cpu-node-power"]
    assert [f.level for f in notes] == ["note"] and "not in the hardware table" in notes[0].message
    _cpu_meter(doc, "cpu-package:0", 9999.0)
    assert _by(doc, "cpu-node-power") == ["$.system.cpu.model", "$.runs[0].power.meters[0].avg_w"]
    _cpu_meter(doc, "wall", 1e6)  # a 1 MW wall reading on a CPU box: (2 x 500 W) x 1.5 + 500 W = 2000 W at most
    assert _by(doc, "cpu-node-power") == ["$.system.cpu.model", "$.runs[0].power.meters[0].avg_w"]

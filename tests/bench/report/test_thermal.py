"""``show`` and the report display a run's temperatures per window, its thresholds and its throttling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.power.window.thermal import Info, block, channel, throttle
from bench.record import Document
from bench.record.io import from_json
from bench.report import render
from bench.report.thermal import headroom, thermal_table, window_means

BOUNDS = [(0.0, 10.0), (10.0, 20.0), (20.0, 30.0)]


def with_thermal(doc: dict[str, Any]) -> Document:
    core = Info("gpu:0.core_c", "nvml", "gpu:0", "core", "°C", "nvmlDeviceGetTemperature", 0.1,
                {"slowdown": 89.0, "shutdown": 92.0})
    inlet = Info("bmc:bmc-7.inlet_c", "redfish", "bmc:bmc-7", "inlet", "°C", "TemperatureSummaryCelsius.Intake", 2.0)
    rh = Info("pdu:pdu-7.humidity_rh", "snmp", "pdu:pdu-7", "humidity", "%RH", "rPDU2...RelativeHumidity.1", 5.0)
    th = block([channel(core, [(1.0, 70.0), (11.0, 85.0), (21.0, 91.5)], BOUNDS, 0.0),
                channel(inlet, [(1.0, 24.0), (11.0, 31.0), (21.0, 38.5)], BOUNDS, 0.0),
                channel(rh, [(5.0, 48.0)], BOUNDS, 0.0)],
               [throttle("gpu:0", "nvml", [(0.0, ["sw_power_cap"]), (20.0, ["hw_thermal_slowdown"])], BOUNDS)])
    d = from_json(doc)
    run = d.runs[0].model_copy(update={"thermal": th})
    return d.model_copy(update={"runs": [run, *d.runs[1:]]})


def test_table_cells_say_each_window_the_headroom_and_a_held_window() -> None:
    rh = channel(Info("p.humidity_rh", "snmp", "p", "humidity", "%RH", "", 5.0), [(5.0, 48.0)], BOUNDS, 0.0)
    assert window_means(rh) == "48.0 48.0* 48.0*"
    core = channel(Info("g.core_c", "nvml", "g", "core", "°C", "", 0.1, {"slowdown": 89.0}), [(1.0, 91.5)],
                   BOUNDS[:1], 0.0)
    assert headroom(core) == pytest.approx(-2.5)
    long = channel(Info("g.core_c", "nvml", "g", "core", "°C", "", 1.0), [(i + 0.5, 60.0 + i) for i in range(30)],
                   [(float(i), i + 1.0) for i in range(30)], 0.0)
    assert window_means(long) == "60.0 61.0 62.0 … 87.0 88.0 89.0"


def test_show_prints_the_channels_and_the_time_throttled(doc: dict[str, Any], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    d = with_thermal(doc)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(d.to_json()))
    assert main(["show", str(path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "bmc:bmc-7.inlet_c" in out and "redfish" in out and "24.0 31.0 38.5" in out
    assert "gpu:0.core_c" in out and "slowdown 89" in out and "-2.5 °C" in out
    assert "gpu:0 throttled 10.0 s (33% of the measured windows): sw_power_cap 20.0 s, hw_thermal_slowdown 10.0 s" in out
    table = thermal_table(d.runs)
    assert table is not None and table.row_count == 3
    assert thermal_table(from_json(doc).runs) is None


def test_the_report_draws_the_temperatures_per_window(doc: dict[str, Any]) -> None:
    html = render([("r.json", with_thermal(doc))])
    assert '<section id="thermal"><h2>Temperatures</h2>' in html
    part = html[html.index('<section id="thermal">'):]
    part = part[: part.index("</section>")]
    assert part.count("<svg") == 1 and "bmc:bmc-7.inlet_c" in part and "TemperatureSummaryCelsius.Intake" in part
    assert '<span class="bad">-2.5 °C</span>' in part and "hw_thermal_slowdown" in part
    assert 'id="thermal"' not in render([("r.json", from_json(doc))])

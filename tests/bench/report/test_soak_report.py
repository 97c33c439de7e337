"""Soaks in ``show`` and the report: a line per soaked run with its drift, interval, verdict and time
throttled, and the report's table and plot."""

from __future__ import annotations

from bench.measure.soak import SoakSpec, with_soak
from bench.record import new_document
from bench.report import write_report
from bench.report.terminal import soak_lines
from tests.bench.measure.test_soak import WINDOW_S, soaked_run


def test_a_soak_line_per_soaked_run_and_a_report_section(tmp_path) -> None:  # type: ignore[no-untyped-def]
    run = with_soak(soaked_run(), SoakSpec(3600.0, WINDOW_S))
    plain = soaked_run(3)
    (line,) = soak_lines([run, plain])
    assert line.startswith("sha256d on cuda:0: 60 windows, 60 min")
    assert "throughput -2.00 %/h [-2.00, -2.00] drifting" in line and "efficiency -0.50 %/h" in line
    assert "DRIFTING against ±1 %/h" in line and "throttled 41.7% (25 min; sw_power_cap 60 min, hw_thermal_slowdown" in line
    doc = new_document({"hostname": "test"}).model_copy(update={"runs": [run, plain]})
    html = write_report([("r.json", doc)], tmp_path / "r.html").read_text()
    assert '<section id="soak"><h2>Soaks</h2>' in html and "-2.00 %/h" in html and "41.7% (1500 s)" in html
    assert html.count("<svg") >= 1

"""Derating fits: a known knee recovered within its own bounds, the points read from soaks, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.errors import UsageError
from bench.record import load
from bench.record.thermal import ChannelWindow, Thermal, ThermalChannel
from bench.sizing.derate import Curve, fit
from bench.sizing.derate_build import build
from bench.sizing.derate_declared import declared_for
from bench.sizing.derate_points import inlet_channel, run_points
from bench.validation import validate_file
from tests.bench.sizing.derate_docs import KNEE_C, LEVEL, POWER_W, soak_doc, soak_run, write_soaks


def test_fit_recovers_a_known_knee_within_its_bounds() -> None:
    rng = np.random.default_rng(7)
    t = np.repeat(np.arange(20.0, 50.0, 2.0), 3)
    y = np.where(t <= 40, 100.0, 100 - 3 * (t - 40)) + rng.normal(0, 0.5, t.size)
    f = fit(t, y)
    assert f.identified
    assert f.knees.min() <= 40.0 <= f.knees.max()
    assert f.knees.max() - f.knees.min() < 2.0
    lo, hi = f.band([30.0, 46.0])
    assert list(f.value([30.0, 46.0])) == pytest.approx([100, 82], abs=0.6)
    assert all(lo < f.value([30.0, 46.0])) and all(f.value([30.0, 46.0]) < hi)
    assert max(hi - lo) < 3.0


def test_a_straight_line_leaves_the_knee_unidentified() -> None:
    t = np.arange(20.0, 40.0, 1.0)
    f = fit(t, 100 - 0.5 * t + np.random.default_rng(1).normal(0, 0.2, t.size))
    assert not f.identified


@pytest.mark.parametrize("t", [[20, 25, 30, 35, 40], [20, 20, 20, 30, 30, 30, 40]])
def test_too_few_points_or_temperatures_is_a_usage_error(t: list[float]) -> None:
    with pytest.raises(UsageError, match="needs at least 6 points at 4"):
        fit(t, [1.0] * len(t))


def test_points_come_from_windows_with_an_inlet_series() -> None:
    run = soak_run([25.0, 30.0, 35.0], noise=0.0)
    pts = run_points(run, 3)
    assert [p.window for p in pts] == [0, 1, 2]
    assert [p.run for p in pts] == [3, 3, 3]
    assert [p.inlet_c for p in pts] == pytest.approx([25.0, 30.0, 35.0], abs=0.1)
    assert pts[0].throughput == pytest.approx(LEVEL)
    assert pts[0].power_w == pytest.approx(POWER_W)
    assert pts[0].channel == "bmc.bmc.inlet_c"


def test_the_thermal_blocks_inlet_channel_comes_first() -> None:
    """A BMC's intake sensor recorded per window (Run.thermal) is the fit's temperature, ahead of telemetry."""
    run = soak_run([25.0, 30.0, 35.0], noise=0.0)
    windows = [ChannelWindow(min=t - 0.5, mean=t, max=t + 0.5, readings=12) for t in (41.0, 43.0)] + [None]
    thermal = Thermal(channels=[
        ThermalChannel(name="gpu:0.core_c", source="nvml", device="gpu:0", role="core", unit="°C",
                       windows=[ChannelWindow(min=60.0, mean=61.0, max=62.0, readings=10)] * 3),
        ThermalChannel(name="bmc:10.0.0.9.inlet_c", source="redfish", device="bmc:10.0.0.9", role="inlet",
                       unit="°C", windows=windows)])
    pts = run_points(run.model_copy(update={"thermal": thermal}), 0)
    assert [(p.window, p.inlet_c, p.channel) for p in pts] == [(0, 41.0, "bmc:10.0.0.9.inlet_c"),
                                                               (1, 43.0, "bmc:10.0.0.9.inlet_c")]
    assert pts[1].throughput == pytest.approx(run.throughput.samples[1])


def test_a_run_metric_is_one_point_and_other_keys_are_not_temperatures() -> None:
    run = soak_run([25.0], key="board0_temp_c").model_copy(update={"metrics": {"inlet_c": 31.5}})
    (p,) = run_points(run, 0)
    assert (p.window, p.inlet_c, p.channel) == (None, 31.5, "metrics.inlet_c")
    assert inlet_channel("pdu0.ambient_c") == 1 and inlet_channel("inlet_temp_c") == 0
    assert inlet_channel("chip_temp_c") is None


def test_derate_command_recovers_the_knee_and_writes_a_file_validate_accepts(tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    soaks = write_soaks(tmp_path)
    out = tmp_path / "fit.json"
    assert main(["derate", *map(str, soaks), "--out", str(out)]) == 0
    doc = load(out)
    d = doc.derating
    assert d is not None and d.throughput is not None and d.power is not None
    thr = d.throughput
    assert thr.knee_identified and thr.knee_low_c <= KNEE_C <= thr.knee_high_c
    assert thr.level == pytest.approx(LEVEL, rel=0.01)
    assert thr.slope_above / thr.level == pytest.approx(-0.02, rel=0.1)
    assert len(doc.runs) == 3 and len(d.points) == 15
    assert d.power.slope_below == pytest.approx(10.0, rel=0.2)
    assert not [f for f in validate_file(out).findings if f.check == "derating"]
    capsys.readouterr()
    assert main(["derate", *map(str, soaks), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["throughput"]["knee_c"] == pytest.approx(thr.knee_c)


def test_validate_refuses_a_fit_that_does_not_follow_from_its_points(tmp_path: Path) -> None:
    from bench.validation import errors, validate_text

    built = build([(str(p), load(p)) for p in write_soaks(tmp_path)])
    doc = built.doc
    assert not [f for f in validate_text(json.dumps(doc.to_json())).findings if f.check == "derating"]
    d = doc.derating
    assert d is not None and d.throughput is not None
    forged = doc.model_copy(update={"derating": d.model_copy(update={
        "throughput": d.throughput.model_copy(update={"knee_c": 45.0})})})
    found = errors(validate_text(json.dumps(forged.to_json())).findings)
    assert any(f.check == "derating" and "knee" in f.message for f in found)
    moved = d.points[0].model_copy(update={"inlet_c": d.points[0].inlet_c + 5})
    forged = doc.model_copy(update={"derating": d.model_copy(update={"points": [moved, *d.points[1:]]})})
    found = errors(validate_text(json.dumps(forged.to_json())).findings)
    assert any(f.check == "derating" and "points[0]" in f.path for f in found)


def test_derate_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.record import write_result

    few = tmp_path / "few.json"
    write_result(few, soak_doc(soak_run([25.0, 30.0, 35.0])))
    assert main(["derate", str(few)]) == 2
    err = capsys.readouterr().err.strip()
    assert "needs at least 6 points" in err and "\n" not in err
    none = tmp_path / "none.json"
    write_result(none, soak_doc(soak_run([25.0], key="chip_temp_c")))
    assert main(["derate", str(none)]) == 2
    assert "no run carries an inlet" in capsys.readouterr().err


def test_declared_curves_are_kept_apart() -> None:
    s21 = declared_for("Bitmain Antminer S21")
    assert s21 is not None and s21.source == "declared"
    assert (s21.knee_c, s21.shutdown_c) == (40.0, 47.0)
    f = Curve(s21).factors(np.array([25.0, 40.0, 41.0, 47.0, 47.5]))
    assert list(f.throughput) == pytest.approx([1, 1, 440 / 490, 440 / 490, 0], abs=1e-3)
    assert list(f.power) == pytest.approx([1, 1, 1, 1, 0])
    assert declared_for("Bitmain Antminer S21+ Hydro") is None



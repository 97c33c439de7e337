"""Annual figures against hand calculations: a two-season year made here, and the shipped Sahiwal year."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

from bench.cli import main
from bench.record import write_result
from bench.sizing.climate.annual import annual
from bench.sizing.climate.cooling import cooling
from bench.sizing.climate.csvfile import read_csv
from bench.sizing.declare import declared_document
from bench.sizing.derate import Curve
from bench.sizing.derate_declared import declared_for
from bench.sizing.model import Allocation, Sized, size
from bench.sizing.sources import candidates

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

S21_TH = 200e12
S21_W = 3500.0


def s21(tmp_path: Path) -> Path:
    path = tmp_path / "s21.json"
    write_result(path, declared_document("Bitmain Antminer S21", "sha256d", S21_TH, S21_W, unit="hash",
                                         tolerance=0.0))
    return path


def sized(path: Path, mw: float, pue: float) -> Sized:
    from bench.record import load

    (c,) = candidates(load(path), str(path))
    s = size(c, Allocation(mw, pue))
    assert isinstance(s, Sized)
    return s


def test_two_seasons_by_hand(tmp_path: Path, write_csv: Callable[..., Path]) -> None:
    # January-June at 20 °C (inlet 22 °C: below the knee, PUE flat); July-December at 44 °C (inlet 46 °C:
    # above the S21's 40 °C knee, x 440/490; PUE 1 + 0.004 x 19 = 1.076, so the 3.5 MW cap switches
    # 1 - 1/1.076 of the 1,000 machines off).
    year = read_csv(write_csv(value=lambda m, h: 20.0 if m <= 6 else 44.0, rh=30.0))
    s = sized(s21(tmp_path), 3.5, 1.0)
    assert s.machines == 1000
    a = annual(s, year, cooling("air"), Curve(declared_for(s.system)))
    cold, hot = 181 * 24, 184 * 24
    running_hot = 1000 / 1.076
    thr_hot = running_hot * S21_TH * 0.898
    expect = (cold * 1000 * S21_TH + hot * thr_hot) / 8760
    assert a.throughput == pytest.approx(expect, rel=1e-4)
    assert a.flat_throughput == pytest.approx(1000 * S21_TH)
    assert a.j_per_unit == pytest.approx(8760 * 3.5e6 / (cold * 1000 * S21_TH + hot * thr_hot), rel=1e-4)
    assert a.energy_mwh == pytest.approx(8760 * 3.5)
    assert (a.hours_above_knee, a.hours_shutdown, a.hours_curtailed) == (hot, 0, hot)
    assert a.worst_month == 6 and a.worst == pytest.approx(thr_hot, rel=1e-4)
    assert a.monthly[0] == pytest.approx(1000 * S21_TH)


def test_no_curve_and_a_mild_year_is_the_flat_figure(tmp_path: Path, write_csv: Callable[..., Path]) -> None:
    path = tmp_path / "box.json"
    write_result(path, declared_document("Box", "llm", 1000.0, 1000.0, unit="token", tolerance=0.1))
    s = sized(path, 1.0, 1.2)
    a = annual(s, read_csv(write_csv(value=lambda m, h: 15.0)), cooling("air"), Curve(None))
    assert a.throughput == pytest.approx(s.throughput)
    assert (a.throughput_low, a.throughput_high) == (pytest.approx(s.throughput_low), pytest.approx(s.throughput_high))
    assert a.j_per_unit == pytest.approx(s.mw_per_throughput * 1e6)
    assert a.hours_above_knee is None


FRACTION = [0.88, 0.92, 0.95, 0.98, 1.00, 0.98, 0.91, 0.74, 0.55, 0.38, 0.23, 0.13,
            0.05, 0.00, 0.00, 0.06, 0.14, 0.24, 0.39, 0.50, 0.59, 0.68, 0.75, 0.82]
DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def sahiwal_by_hand(machines: int, mw: float, pue: float) -> tuple[float, list[float], int]:
    """The Sahiwal year worked out with plain loops: mean throughput, monthly means, hours above the knee."""
    data = tomllib.loads(resources.files("bench").joinpath("data", "climate", "sahiwal.toml").read_text())
    highs, lows = data["monthly"]["mean_daily_max_c"], data["monthly"]["mean_daily_min_c"]
    total, monthly, above = 0.0, [], 0
    for m in range(12):
        month = 0.0
        for h in range(24):
            db = highs[m] - FRACTION[h] * (highs[m] - lows[m])
            inlet = max(db + 2, 15)
            factor = 0.0 if inlet > 47 else 0.898 if inlet > 40 else 1.0
            power = S21_W if factor > 0 else 0.0
            hall_pue = pue + 0.004 * max(db - 25, 0)
            running = machines if power == 0 else min(machines, mw * 1e6 / (power * hall_pue))
            month += running * S21_TH * factor
            above += DAYS[m] * (inlet > 40)
        total += DAYS[m] * month
        monthly.append(month / 24)
    return total / 8760, monthly, above


def test_plan_climate_sahiwal_matches_a_hand_calculation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s21(tmp_path)
    plan = tmp_path / "p.toml"
    plan.write_text('[plan]\nname = "S"\npue = 1.1\n[[allocation]]\nname = "Sahiwal"\nmw = 38.5\n'
                    '[[allocation.use]]\nname = "mining"\nshare = 1.0\nresult = "s21.json"\n')
    assert main(["plan", str(plan), "--climate", "sahiwal", "--cooling", "air", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (use,) = out["climate"]["uses"]
    machines = out["uses"][0]["sizing"]["machines"]
    assert machines == 10000  # 38.5 MW / 1.1 / 3.5 kW
    expect, monthly, above = sahiwal_by_hand(machines, 38.5, 1.1)
    assert use["throughput"] == pytest.approx(expect, rel=1e-6)
    assert use["monthly"] == pytest.approx(monthly, rel=1e-6)
    assert use["hours_above_knee"] == above
    assert use["worst_month"] == ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                  "Dec"][monthly.index(min(monthly))]
    assert use["flat_throughput"] == pytest.approx(machines * S21_TH)
    assert out["climate"]["allocations"]["Sahiwal"]["constructed"] is True


def test_plan_per_allocation_climates_and_the_text_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s21(tmp_path)
    plan = tmp_path / "p.toml"
    plan.write_text('[plan]\nname = "S"\n[[allocation]]\nname = "A"\nmw = 10\n[[allocation.use]]\nname = "u"\n'
                    'share = 1.0\nresult = "s21.json"\n[[allocation]]\nname = "B"\nmw = 10\n[[allocation.use]]\n'
                    'name = "u"\nshare = 1.0\nresult = "s21.json"\n')
    assert main(["plan", str(plan), "--climate", "A=sahiwal", "--cooling", "A=evaporative",
                 "--plot", str(tmp_path / "p.png")]) == 0
    text = capsys.readouterr()
    assert "flat (today) and over the year" in text.out and "no climate for B" in text.out
    assert (tmp_path / "p-months.png").stat().st_size > 0
    assert main(["plan", str(plan), "--climate", "C=sahiwal"]) == 2
    assert "no allocation 'C'" in capsys.readouterr().err

"""Reading climate years: an EPW file made here, a CSV file, and every kind of bad file as one line, exit 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.errors import UsageError
from bench.sizing.climate.csvfile import read_csv
from bench.sizing.climate.epw import read_epw
from bench.sizing.climate.sites import load_climate
from tests.bench.sizing.climate.conftest import HEADER, temp


def test_epw_year_reads_dry_bulb_and_humidity(write_epw: Callable[..., Path]) -> None:
    year = read_epw(write_epw())
    assert year.name == "Testville" and not year.constructed
    assert year.dry_bulb_c[0] == pytest.approx(temp(1, 0))
    assert year.dry_bulb_c[24 * 31 + 13] == pytest.approx(temp(2, 13))   # 1 February, 13:00
    assert year.dry_bulb_c[-1] == pytest.approx(temp(12, 23))
    assert np.all(year.rh_pct == 50.0)


def test_a_leap_year_loses_29_february(write_epw: Callable[..., Path]) -> None:
    year = read_epw(write_epw(leap=True))
    assert year.dry_bulb_c[24 * 59] == pytest.approx(temp(3, 0))  # 1 March after 28 February


def test_missing_humidity_comes_from_the_dew_point(write_epw: Callable[..., Path]) -> None:
    year = read_epw(write_epw(rh="999"))
    assert 0 < year.rh_pct[0] < 100


@pytest.mark.parametrize(("kw", "message"), [
    ({"drop": 5000}, "8759 hourly records, a year needs 8760"),
    ({"header": HEADER[1:]}, "line 1: expected the EPW header 'LOCATION'"),
    ({"header": ["LOCATION,x"] + HEADER[2:]}, "line 2: expected the EPW header 'DESIGN CONDITIONS'"),
])
def test_bad_epw_is_one_line(write_epw: Callable[..., Path], kw: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        read_epw(write_epw(**kw))


def test_epw_missing_value_and_swapped_hours(tmp_path: Path, write_epw: Callable[..., Path]) -> None:
    path = write_epw()
    lines = path.read_text().splitlines()
    lines[8 + 100] = lines[8 + 100].replace(f",{temp(1, 100 % 24):.1f},", ",99.9,")
    path.write_text("\n".join(lines))
    with pytest.raises(UsageError, match="line 109: dry-bulb temperature '99.9' is the missing-value marker"):
        read_epw(path)
    lines = write_epw().read_text().splitlines()
    lines[20], lines[21] = lines[21], lines[20]
    path.write_text("\n".join(lines))
    with pytest.raises(UsageError, match="line 21: month 1, day 1, hour 14 where the calendar needs"):
        read_epw(path)


def test_csv_year(write_csv: Callable[..., Path]) -> None:
    year = read_csv(write_csv())
    assert year.dry_bulb_c[24 * 31 + 13] == pytest.approx(temp(2, 13))
    assert year.wet_bulb_c[0] < year.dry_bulb_c[0]


@pytest.mark.parametrize(("kw", "message"), [
    ({"bad": (10, "2023-01-01T10:00,nan,50")}, "line 12: dry_bulb_c is 'nan'"),
    ({"bad": (10, "2023-01-01T10:00,20,")}, "line 12: rh '' is not a number"),
    ({"drop": 30}, "line 32: 2023-01-02T07:00 where the year needs month 1, day 2, hour 6"),
    ({"bad": (10, "2023-01-01T10:00,20,120")}, "relative humidity at hour 10 .* 0..100"),
])
def test_bad_csv_is_one_line(write_csv: Callable[..., Path], kw: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        read_csv(write_csv(**kw))


def test_bad_climate_on_the_command_line_is_one_line_exit_2(write_epw: Callable[..., Path], write_csv: Callable[..., Path],
                                                          tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.record import write_result
    from bench.sizing.declare import declared_document

    r = tmp_path / "m.json"
    write_result(r, declared_document("Miner", "sha256d", 1e14, 3000.0, unit="hash", tolerance=0.0))
    for bad in (write_epw("short.epw", drop=0), write_csv("nan.csv", bad=(3, "2023-01-01T03:00,nan,40")),
                tmp_path / "none.epw", tmp_path / "x.txt"):
        if bad.suffix == ".txt":
            bad.write_text("hello")
        assert main(["size", str(r), "--mw", "1", "--climate", str(bad)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "Traceback" not in err
    assert main(["size", str(r), "--mw", "1", "--climate", "atlantis"]) == 2
    assert "no such site" in capsys.readouterr().err
    assert main(["size", str(r), "--mw", "1", "--cooling", "air"]) == 2
    assert main(["size", str(r), "--mw", "1", "--climate", "sahiwal", "--cooling", "ice"]) == 2


def test_load_climate_picks_the_reader(write_epw: Callable[..., Path], write_csv: Callable[..., Path]) -> None:
    assert load_climate(str(write_epw())).name == "Testville"
    assert load_climate(str(write_csv())).name == "year"
    assert load_climate("Port Qasim").constructed

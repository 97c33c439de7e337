"""The shipped sites: the constructed year keeps the published monthly figures; Stull's wet bulb."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from bench.sizing.climate.construct import FRACTION_OF_RANGE, day_profile
from bench.sizing.climate.psychro import dew_point, relative_humidity, wet_bulb
from bench.sizing.climate.sites import site, site_names
from bench.sizing.climate.year import MONTH_OF_HOUR

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_stull_wet_bulb_matches_the_paper() -> None:
    assert float(wet_bulb(20.0, 50.0)) == pytest.approx(13.7, abs=0.05)  # Stull (2011), the worked example
    assert float(wet_bulb(30.0, 100.0)) == pytest.approx(30.0, abs=0.01)  # saturated: wet bulb = dry bulb


def test_dew_point_and_humidity_invert() -> None:
    assert float(relative_humidity(30.0, dew_point(30.0, 40.0))) == pytest.approx(40.0)


def test_the_ashrae_profile_spans_the_day() -> None:
    assert min(FRACTION_OF_RANGE) == 0 and max(FRACTION_OF_RANGE) == 1 and len(FRACTION_OF_RANGE) == 24
    assert day_profile(40.0, 20.0)[4] == 20.0 and day_profile(40.0, 20.0)[14] == 40.0


@pytest.mark.parametrize("name", ["sahiwal", "port-qasim", "hub"])
def test_constructed_years_keep_the_published_monthly_figures(name: str) -> None:
    from importlib import resources

    data = tomllib.loads(resources.files("bench").joinpath("data", "climate", f"{name}.toml").read_text())
    year = site(name)
    assert year.constructed and name in site_names()
    daily = year.dry_bulb_c.reshape(365, 24)
    month_of_day = MONTH_OF_HOUR[::24]
    for m in range(12):
        assert daily[month_of_day == m].max(axis=1).mean() == pytest.approx(data["monthly"]["mean_daily_max_c"][m])
        assert daily[month_of_day == m].min(axis=1).mean() == pytest.approx(data["monthly"]["mean_daily_min_c"][m])
    assert year.extremes is not None and len(year.extremes.record_high_c) == 12
    assert all(data["sources"][k] for k in ("mean_daily_max_c", "mean_daily_min_c", "record_high_c"))


def test_karachi_summer_mornings_fall_in_the_reported_range() -> None:
    year = site("port-qasim")
    hour = np.arange(8760) % 24
    for month in (5, 6, 7):  # June, July, August
        morning = year.rh_pct[(MONTH_OF_HOUR == month) & (hour >= 6) & (hour < 9)].mean()
        assert 73 <= morning <= 78

"""The site climates sitebench ships (``bench/data/climate/*.toml``) and ``--climate SITE|FILE``.

Each shipped site holds its monthly mean daily maximum and minimum dry bulb and its monthly record highs,
with the public source of every figure named in the file; sitebench constructs the site's typical hourly
year from them (:mod:`bench.sizing.climate.construct`). A FILE is an EPW (``.epw``) or a CSV (``.csv``)
year (:mod:`bench.sizing.climate.epw`, :mod:`bench.sizing.climate.csvfile`).
"""

from __future__ import annotations

import math
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from bench.errors import UsageError
from bench.sizing.climate.construct import construct
from bench.sizing.climate.csvfile import read_csv
from bench.sizing.climate.epw import read_epw
from bench.sizing.climate.year import ClimateYear, Extremes

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DATA = "data/climate"


def site_names() -> list[str]:
    """The shipped sites, by the names ``--climate`` takes (``sahiwal``, ``port-qasim``, ``hub``)."""
    return sorted(p.name.removesuffix(".toml") for p in resources.files("bench").joinpath(DATA).iterdir()
                  if p.name.endswith(".toml"))


def _twelve(table: dict[str, Any], key: str, where: str) -> list[float]:
    values = table.get(key)
    if not (isinstance(values, list) and len(values) == 12 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)):
        raise UsageError(f"{where}: monthly.{key} must be 12 finite numbers, January first")
    return [float(v) for v in values]


@lru_cache(maxsize=16)
def site(name: str) -> ClimateYear:
    """The constructed year of shipped site ``name``."""
    key = name.strip().lower().replace(" ", "-").replace("_", "-")
    if key not in site_names():
        raise UsageError(f"--climate {name!r}: no such site (shipped: {', '.join(site_names())}) and no such "
                         "file (.epw or .csv)")
    where = f"bench/{DATA}/{key}.toml"
    data = tomllib.loads(resources.files("bench").joinpath(DATA, f"{key}.toml").read_text("utf-8"))
    info, monthly, sources = data["site"], data["monthly"], data["sources"]
    t_max, t_min = _twelve(monthly, "mean_daily_max_c", where), _twelve(monthly, "mean_daily_min_c", where)
    depression = float(data["construction"]["dew_point_depression_c"])
    notes = [f"figures for {info['name']} ({info['region']}): {info['stand_in']}"]
    notes += [f"{k}: {v}" for k, v in sources.items()]
    extremes = Extremes(tuple(_twelve(monthly, "record_high_c", where)), sources.get("record_high_c", ""))
    return construct(info["name"], where, t_max, t_min, depression, notes, extremes)


def load_climate(spec: str) -> ClimateYear:
    """``--climate SITE|FILE``: a shipped site by name, or an .epw or .csv file."""
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix == ".epw":
        return read_epw(path)
    if suffix == ".csv":
        return read_csv(path)
    if path.exists():
        raise UsageError(f"--climate {spec}: a climate file must end in .epw or .csv")
    return site(spec)

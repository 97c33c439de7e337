"""EnergyPlus weather files (EPW): a typical year's hourly dry bulb and relative humidity.

The layout (EnergyPlus Auxiliary Programs, "EnergyPlus Weather File (EPW) Data Dictionary"; the same
columns pvlib's ``pvlib.iotools.parse_epw`` names): eight header lines (LOCATION, DESIGN CONDITIONS,
TYPICAL/EXTREME PERIODS, GROUND TEMPERATURES, HOLIDAYS/DAYLIGHT SAVINGS, COMMENTS 1, COMMENTS 2, DATA
PERIODS), then one comma-separated line per hour: year, month, day, hour (1..24), minute, data source
flags, dry-bulb temperature (°C), dew-point temperature (°C), relative humidity (%), station pressure (Pa),
then radiation, wind and sky fields this reader does not use.

A typical year has 8,760 data lines in calendar order; a leap year's 8,784 lose 29 February. A missing
value (dry bulb or dew point 99.9 and above, relative humidity 999 and above: the dictionary's ``\\missing``
markers) is refused, except a missing humidity beside a present dew point, which is computed from it.
Missing or repeated hours, sub-hourly records and a wrong header are one line, exit 2.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from bench.errors import UsageError
from bench.sizing.climate.files import read_lines
from bench.sizing.climate.psychro import relative_humidity
from bench.sizing.climate.year import DAYS_IN_MONTH, HOURS, ClimateYear

HEADER = ("LOCATION", "DESIGN CONDITIONS", "TYPICAL/EXTREME PERIODS", "GROUND TEMPERATURES",
          "HOLIDAYS/DAYLIGHT SAVINGS", "COMMENTS 1", "COMMENTS 2", "DATA PERIODS")
MISSING_T = 99.9
MISSING_RH = 999.0
LEAP_HOURS = HOURS + 24


def _calendar() -> list[tuple[int, int, int]]:
    return [(m + 1, d + 1, h + 1) for m, days in enumerate(DAYS_IN_MONTH) for d in range(days) for h in range(24)]


def _number(text: str, where: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise UsageError(f"{where}: {text[:40]!r} is not a number") from None
    if not math.isfinite(v):
        raise UsageError(f"{where}: {text[:40]!r} is not a finite number")
    return v


def read_epw(path: str | Path) -> ClimateYear:
    """An EPW file's year; any problem is one UsageError naming the file and the line."""
    p = Path(path)
    lines = read_lines(p)
    for i, key in enumerate(HEADER):
        got = lines[i].split(",", 1)[0].strip().upper() if i < len(lines) else "(end of file)"
        if got != key:
            raise UsageError(f"{p}: line {i + 1}: expected the EPW header {key!r}, found {got[:40]!r} "
                             "(an EPW file starts with 8 header lines)")
    location = lines[0].split(",")
    rows = [(n + 1, line) for n, line in enumerate(lines[len(HEADER):], start=len(HEADER)) if line.strip()]
    if len(rows) not in (HOURS, LEAP_HOURS):
        raise UsageError(f"{p}: {len(rows)} hourly records, a year needs {HOURS} (or {LEAP_HOURS} in a leap "
                         "year): hours are missing or repeated, or the file is sub-hourly")
    want = iter(_calendar())
    dry, rh = np.empty(HOURS), np.empty(HOURS)
    i = 0
    for n, line in rows:
        f = line.split(",")
        where = f"{p}: line {n}"
        if len(f) < 10:
            raise UsageError(f"{where}: {len(f)} fields, an EPW data line has at least 10")
        month, day, hour = (int(_number(x, where)) for x in f[1:4])
        if (month, day) == (2, 29):
            continue
        expected = next(want, None)
        if (month, day, hour) != expected:
            raise UsageError(f"{where}: month {month}, day {day}, hour {hour} where the calendar needs "
                             f"{expected}: an hour is missing, repeated or out of order")
        t, dew, h = (_number(x, where) for x in f[6:9])
        if t >= MISSING_T:
            raise UsageError(f"{where}: dry-bulb temperature {f[6]!r} is the missing-value marker")
        if h >= MISSING_RH:
            if dew >= MISSING_T:
                raise UsageError(f"{where}: relative humidity and dew point are both missing")
            h = float(relative_humidity(t, dew))
        dry[i], rh[i] = t, h
        i += 1
    if i != HOURS:
        raise UsageError(f"{p}: {i} hours after leaving out 29 February, a year needs {HOURS}")
    city = location[1].strip() if len(location) > 1 and location[1].strip() else p.stem
    return ClimateYear(name=city[:80], source=str(p), dry_bulb_c=dry, rh_pct=rh, constructed=False,
                       notes=(f"EPW file {p.name}: observed or typical-meteorological-year hours",))

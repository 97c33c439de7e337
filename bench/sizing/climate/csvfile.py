"""A plain CSV climate: ``time,dry_bulb_c,rh`` with one row per hour of a 365-day year.

``time`` is ``YYYY-MM-DDTHH:MM`` (or with a space for the ``T``, seconds and a zone allowed and ignored):
the hour starting then, local standard time. ``dry_bulb_c`` in °C, ``rh`` in percent (0..100). Rows in
calendar order from 1 January 00:00 to 31 December 23:00; a leap year's 29 February is left out. Missing,
repeated or out-of-order hours, a NaN or an empty value, a wrong header: one line, exit 2.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from bench.errors import UsageError
from bench.sizing.climate.files import read_lines
from bench.sizing.climate.year import DAYS_IN_MONTH, HOURS, ClimateYear

COLUMNS = ("time", "dry_bulb_c", "rh")
TIME = re.compile(r"^\d{4}-(\d{2})-(\d{2})[T ](\d{2}):\d{2}")


def _value(text: str, where: str, column: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise UsageError(f"{where}: {column} {text.strip()[:40]!r} is not a number") from None
    if not math.isfinite(v):
        raise UsageError(f"{where}: {column} is {text.strip()[:40]!r}: every hour needs a finite value")
    return v


def read_csv(path: str | Path) -> ClimateYear:
    """A CSV file's year; any problem is one UsageError naming the file and line."""
    p = Path(path)
    lines = read_lines(p)
    head = tuple(c.strip().lower() for c in lines[0].split(",")) if lines else ()
    if head[:3] != COLUMNS:
        raise UsageError(f"{p}: line 1: the header must start {','.join(COLUMNS)} (found {','.join(head)[:80]!r})")
    calendar = [(m + 1, d + 1, h) for m, days in enumerate(DAYS_IN_MONTH) for d in range(days) for h in range(24)]
    dry, rh = np.empty(HOURS), np.empty(HOURS)
    i = 0
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        where = f"{p}: line {n}"
        f = line.split(",")
        if len(f) < 3:
            raise UsageError(f"{where}: {len(f)} fields, each row needs time,dry_bulb_c,rh")
        m = TIME.match(f[0].strip())
        if not m:
            raise UsageError(f"{where}: time {f[0].strip()[:40]!r} is not YYYY-MM-DDTHH:MM")
        month, day, hour = (int(x) for x in m.groups())
        if (month, day) == (2, 29):
            continue
        expected = calendar[i] if i < HOURS else None
        if (month, day, hour) != expected:
            raise UsageError(f"{where}: {f[0].strip()[:20]} where the year needs "
                             + (f"month {expected[0]}, day {expected[1]}, hour {expected[2]}" if expected
                                else "no more rows")
                             + ": an hour is missing, repeated or out of order")
        dry[i], rh[i] = _value(f[1], where, "dry_bulb_c"), _value(f[2], where, "rh")
        i += 1
    if i != HOURS:
        raise UsageError(f"{p}: {i} hours, a year needs {HOURS} (the rows end at hour {i}: hours are missing)")
    return ClimateYear(name=p.stem[:80], source=str(p), dry_bulb_c=dry, rh_pct=rh,
                       notes=(f"CSV file {p.name}: hourly dry bulb and relative humidity as given",))

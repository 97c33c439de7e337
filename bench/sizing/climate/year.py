"""A typical year of outdoor air at a site: 8,760 hours of dry-bulb temperature and relative humidity.

Hour ``i`` of the year is day ``i // 24`` (a 365-day year, no 29 February) at hour of day ``i % 24``
(hour 0 covers 00:00-01:00 local standard time, as an EPW file's hour 1). Checked on creation: exactly
8,760 finite values each, dry bulb within -70..60 °C, relative humidity within 0..100%.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bench.errors import UsageError
from bench.sizing.climate.psychro import Floats, wet_bulb

HOURS = 8760
DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Month (0..11) of each hour of the year.
MONTH_OF_HOUR = np.repeat(np.arange(12), [d * 24 for d in DAYS_IN_MONTH])


@dataclass(frozen=True)
class Extremes:
    """A site's published monthly record highs (°C), with their source; None where not shipped."""

    record_high_c: tuple[float, ...]
    source: str


@dataclass(frozen=True)
class ClimateYear:
    """Hourly dry bulb (°C) and relative humidity (%) for one year, where they came from, and how.

    ``constructed`` marks a year built from monthly means (:mod:`bench.sizing.climate.construct`), not
    observed hours; ``notes`` say how and from which sources.
    """

    name: str
    source: str
    dry_bulb_c: Floats
    rh_pct: Floats
    constructed: bool = False
    notes: tuple[str, ...] = ()
    extremes: Extremes | None = None
    wet_bulb_c: Floats = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for label, values, low, high in (("dry bulb", self.dry_bulb_c, -70.0, 60.0),
                                         ("relative humidity", self.rh_pct, 0.0, 100.0)):
            arr = np.asarray(values, dtype=float)
            if arr.shape != (HOURS,):
                raise UsageError(f"{self.source}: {label}: {arr.size} hours, a year needs {HOURS}")
            bad = np.flatnonzero(~np.isfinite(arr) | (arr < low) | (arr > high))
            if bad.size:
                i = int(bad[0])
                raise UsageError(f"{self.source}: {label} at hour {i} (day {i // 24 + 1}, hour {i % 24}) is "
                                 f"{float(arr[i])!r}: must be a number within {low:g}..{high:g}")
            object.__setattr__(self, "dry_bulb_c" if label == "dry bulb" else "rh_pct", arr)
        object.__setattr__(self, "wet_bulb_c", wet_bulb(self.dry_bulb_c, self.rh_pct))

    def monthly_mean(self, values: Floats) -> list[float]:
        """The mean of an hourly series per month, January first."""
        return [float(values[MONTH_OF_HOUR == m].mean()) for m in range(12)]

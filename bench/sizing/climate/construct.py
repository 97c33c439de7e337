"""A typical hourly year CONSTRUCTED from monthly means, where no observed year (EPW) is at hand.

The model, stated in full:

- Every day of a month has that month's mean daily maximum and minimum dry bulb (a step per month, so the
  constructed year's monthly means of the daily maximum and minimum are the published ones exactly).
- Within the day, ``T(h) = T_max - f(h) x (T_max - T_min)`` with ``f`` the fraction of the daily range of
  ASHRAE Handbook - Fundamentals (2009 and later, ch. 14, Table 6), the profile EnergyPlus uses for its
  design days: minimum at 05:00, maximum at 14:00-15:00. ``f[h]`` is taken for the hour ``h`` (00:00-01:00 is
  the table's hour 1).
- The dew point is constant through each day of a month: the month's mean daily minimum less a per-site
  depression (FAO-56, Allen et al. 1998, ch. 3 eq. 48 and Annex 6: without humidity data the dew point sits
  near the daily minimum, some 2-3 °C below it in dry climates). Relative humidity follows from dry bulb and
  dew point, so the afternoons are dry and the mornings humid, as they are.

What it leaves out: day-to-day weather. No constructed day is hotter than its month's mean maximum, so a
heatwave's hours above a knee are missing from the annual figures; each site's record highs are shipped
beside the means and the annual figures show what the record high does to each machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bench.sizing.climate.psychro import relative_humidity
from bench.sizing.climate.year import DAYS_IN_MONTH, ClimateYear, Extremes

#: ASHRAE Handbook - Fundamentals (2009, 2013, 2017, 2021), ch. 14, Table 6: fraction of the daily range
#: below the day's maximum, for hours 1..24 (hour 1 = 00:00-01:00).
FRACTION_OF_RANGE = (0.88, 0.92, 0.95, 0.98, 1.00, 0.98, 0.91, 0.74, 0.55, 0.38, 0.23, 0.13,
                     0.05, 0.00, 0.00, 0.06, 0.14, 0.24, 0.39, 0.50, 0.59, 0.68, 0.75, 0.82)

MODEL = ("CONSTRUCTED from monthly means: every day of a month at its mean daily maximum and minimum, the "
         "hours between them by the ASHRAE Fundamentals (ch. 14, Table 6) fraction of daily range; dew point "
         "= mean daily minimum - {dep:g} °C, constant through the day (FAO-56 Annex 6); no day-to-day weather")


def day_profile(t_max: float, t_min: float) -> list[float]:
    """The 24 hourly dry bulbs of one constructed day."""
    return [t_max - f * (t_max - t_min) for f in FRACTION_OF_RANGE]


def construct(name: str, source: str, t_max: Sequence[float], t_min: Sequence[float], depression_c: float,
              notes: Sequence[str] = (), extremes: Extremes | None = None) -> ClimateYear:
    """The constructed year of a site with monthly mean daily maxima and minima (°C, January first)."""
    dry: list[float] = []
    rh: list[float] = []
    for month, days in enumerate(DAYS_IN_MONTH):
        day = np.array(day_profile(t_max[month], t_min[month]))
        humidity = relative_humidity(day, t_min[month] - depression_c)
        dry.extend(np.tile(day, days))
        rh.extend(np.tile(humidity, days))
    return ClimateYear(name=name, source=source, dry_bulb_c=np.array(dry), rh_pct=np.array(rh), constructed=True,
                       notes=(MODEL.format(dep=depression_c), *notes), extremes=extremes)

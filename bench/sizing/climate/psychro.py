"""Moist air: saturation vapour pressure, dew point, relative humidity and wet-bulb temperature.

- Saturation vapour pressure over water: the Magnus form with Alduchov and Eskridge's constants
  (Alduchov, O. A. and Eskridge, R. E., 1996: "Improved Magnus form approximation of saturation vapor
  pressure", J. Appl. Meteor. 35, 601-609): ``e_s(T) = 6.1094 exp(17.625 T / (T + 243.04))`` hPa, T in °C;
  within 0.4% of the reference over -40..50 °C. Dew point and relative humidity invert it.
- Wet-bulb temperature: Stull, R., 2011: "Wet-Bulb Temperature from Relative Humidity and Air
  Temperature", J. Appl. Meteor. Climatol. 50, 2267-2269, eq. 1, at standard sea-level pressure
  (101.325 kPa). Stated valid for RH 5-99% and T -20..50 °C, errors within -1..+0.65 °C; outside that range
  the formula is still used and the result is clamped to [dew point, dry bulb] (a wet bulb lies between
  them).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

A, B, C = 6.1094, 17.625, 243.04

Floats = NDArray[np.float64]


def saturation_hpa(t_c: ArrayLike) -> Floats:
    """Saturation vapour pressure over water, hPa."""
    t = np.asarray(t_c, dtype=float)
    return np.asarray(A * np.exp(B * t / (t + C)), dtype=float)


def dew_point(t_c: ArrayLike, rh_pct: ArrayLike) -> Floats:
    """Dew point (°C) of air at ``t_c`` and relative humidity ``rh_pct`` (percent, > 0)."""
    t = np.asarray(t_c, dtype=float)
    g = np.log(np.asarray(rh_pct, dtype=float) / 100.0) + B * t / (t + C)
    return np.asarray(C * g / (B - g), dtype=float)


def relative_humidity(t_c: ArrayLike, dew_c: ArrayLike) -> Floats:
    """Relative humidity (percent, at most 100) of air at ``t_c`` with dew point ``dew_c``."""
    dew = np.minimum(np.asarray(dew_c, dtype=float), np.asarray(t_c, dtype=float))
    return np.asarray(100.0 * saturation_hpa(dew) / saturation_hpa(t_c), dtype=float)


def wet_bulb(t_c: ArrayLike, rh_pct: ArrayLike) -> Floats:
    """Stull (2011) wet-bulb temperature (°C) from dry bulb (°C) and relative humidity (percent)."""
    t = np.asarray(t_c, dtype=float)
    rh = np.clip(np.asarray(rh_pct, dtype=float), 0.1, 100.0)
    tw = (t * np.arctan(0.151977 * np.sqrt(rh + 8.313659)) + np.arctan(t + rh) - np.arctan(rh - 1.676331)
          + 0.00391838 * rh ** 1.5 * np.arctan(0.023101 * rh) - 4.686035)
    return np.asarray(np.clip(tw, dew_point(t, rh), t), dtype=float)

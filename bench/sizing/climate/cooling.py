"""Cooling models: outdoor air to machine inlet, and a PUE that rises with the heat. Every parameter MODELLED.

Three kinds (``--cooling KIND``), each a stated assumption to replace with the design's own figures:

- ``air``: air-side economiser, outside air filtered and blown through the hall.
  ``inlet = max(dry bulb + 2 °C, 15 °C)``: 2 °C for fan heat and mixing; return air is mixed in to hold the
  inlet at or above 15 °C (ASHRAE class A1's lowest allowable). PUE: the allocation's PUE up to 25 °C dry
  bulb, then +0.004 per °C (fans run harder).
- ``evaporative``: direct evaporative pads (or a cooling tower feeding the hall's coils).
  ``inlet = wet bulb + 4 °C`` up to the rated wet bulb of 28 °C; above it the pads lose capacity and the
  inlet rises a further 1 °C per °C of wet bulb; never above ``dry bulb + 2 °C`` (evaporation does not warm
  air). PUE: the allocation's up to 24 °C wet bulb, then +0.006 per °C (pumps and fans).
- ``dry-cooler``: liquid cooling rejected through a dry cooler (no water). The machine's inlet is the
  coolant supply: ``inlet = dry bulb + 6 °C``. PUE: the allocation's up to 25 °C dry bulb, then +0.008 per
  °C (the dry cooler's fans).

The PUE never goes below the allocation's own (the flat figure's) and is capped at 2.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.errors import UsageError
from bench.sizing.climate.psychro import Floats
from bench.sizing.climate.year import ClimateYear

MAX_PUE = 2.0


@dataclass(frozen=True)
class Cooling:
    """One cooling model's parameters (see the module docstring)."""

    kind: str
    driver: str  # "dry" or "wet": which outdoor temperature sets the inlet
    approach_c: float
    pue_driver: str
    pue_ref_c: float
    pue_per_c: float
    min_inlet_c: float | None = None
    rated_wet_bulb_c: float | None = None
    above_rated_per_c: float = 0.0
    dry_approach_c: float | None = None
    summary: str = ""

    def inlet(self, dry: Floats, wet: Floats) -> Floats:
        """Machine inlet (°C) for outdoor dry and wet bulb."""
        d, w = np.asarray(dry, dtype=float), np.asarray(wet, dtype=float)
        base = d if self.driver == "dry" else w
        t = base + self.approach_c
        if self.rated_wet_bulb_c is not None:
            t = t + self.above_rated_per_c * np.maximum(w - self.rated_wet_bulb_c, 0.0)
        if self.dry_approach_c is not None:
            t = np.minimum(t, d + self.dry_approach_c)
        if self.min_inlet_c is not None:
            t = np.maximum(t, self.min_inlet_c)
        return np.asarray(t, dtype=float)

    def pue(self, flat_pue: float, dry: Floats, wet: Floats) -> Floats:
        """The facility's PUE each hour: the flat PUE, rising above the reference temperature."""
        drive = np.asarray(dry if self.pue_driver == "dry" else wet, dtype=float)
        return np.asarray(np.minimum(flat_pue + self.pue_per_c * np.maximum(drive - self.pue_ref_c, 0.0),
                                     max(MAX_PUE, flat_pue)), dtype=float)

    def year_inlet(self, year: ClimateYear) -> Floats:
        """The inlet of every hour of a climate year."""
        return self.inlet(year.dry_bulb_c, year.wet_bulb_c)


KINDS: dict[str, Cooling] = {
    "air": Cooling("air", "dry", 2.0, "dry", 25.0, 0.004, min_inlet_c=15.0,
                   summary="air-side economiser: inlet = max(dry bulb + 2 °C, 15 °C); PUE +0.004/°C above 25 °C "
                           "dry bulb (MODELLED)"),
    "evaporative": Cooling("evaporative", "wet", 4.0, "wet", 24.0, 0.006, rated_wet_bulb_c=28.0,
                           above_rated_per_c=1.0, dry_approach_c=2.0,
                           summary="evaporative: inlet = wet bulb + 4 °C (+1 °C per °C of wet bulb above the rated "
                                   "28 °C), at most dry bulb + 2 °C; PUE +0.006/°C above 24 °C wet bulb (MODELLED)"),
    "dry-cooler": Cooling("dry-cooler", "dry", 6.0, "dry", 25.0, 0.008,
                          summary="liquid with a dry cooler: coolant supply = dry bulb + 6 °C; PUE +0.008/°C above "
                                  "25 °C dry bulb (MODELLED)"),
}


def cooling(kind: str) -> Cooling:
    """``--cooling KIND``."""
    key = kind.strip().lower()
    if key not in KINDS:
        raise UsageError(f"--cooling {kind!r}: expected one of {', '.join(KINDS)}")
    return KINDS[key]

"""Temperature channels: what a sensor is (device, role, unit, where it is read, its thresholds) and the one
rule for what a reading may be.

A temperature source (:mod:`bench.power.thermal`) declares its channels once, when opened (:class:`Channel`),
and a power meter that reads temperatures with its power (NVML) lists them as :class:`MeterChannel`. A value
outside what the unit can be (:data:`RANGES`: a sensor's fault code such as -128 °C or 255 °C is no
temperature) is refused by :func:`admit` and left out, like a missing one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.record.thermal import Role, ThermalUnit

#: What a reading of each unit may be: below or above is a sensor's fault code, not a reading.
RANGES: dict[str, tuple[float, float]] = {"°C": (-60.0, 250.0), "%RH": (0.0, 100.0), "rpm": (0.0, 100_000.0)}
#: The suffix each unit gives a channel's name.
SUFFIX: dict[str, str] = {"°C": "c", "%RH": "rh", "rpm": "rpm"}


@dataclass(frozen=True)
class Channel:
    """One sensor a source reads: ``name`` is ``<device>.<key>`` (``bmc:10.0.0.7.inlet_c``)."""

    device: str
    key: str
    role: Role
    unit: ThermalUnit
    sensor: str = ""
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.device}.{self.key}"


def key(what: str, unit: str) -> str:
    """``what`` with its unit's suffix: ``key("inlet", "°C") == "inlet_c"``."""
    return f"{what}_{SUFFIX[unit]}"


def admit(value: object, unit: str) -> float | None:
    """``value`` as a reading of ``unit``, or None when it cannot be one (not a finite number, out of range)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    v = float(value)
    low, high = RANGES[unit]
    return v if math.isfinite(v) and low <= v <= high else None


@dataclass(frozen=True)
class MeterChannel:
    """A temperature a power meter reads with its power (a GPU's, through NVML), kept in ``Reading.extra``
    under ``extra``: a meter lists them in its ``thermal_channels`` attribute; the channel is
    ``<the meter's scope>.<key>``."""

    extra: str
    key: str
    role: Role
    unit: ThermalUnit
    sensor: str
    thresholds: dict[str, float] = field(default_factory=dict)

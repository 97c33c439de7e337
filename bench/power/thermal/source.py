"""The interface every temperature source implements, and the one rule for what a reading may be.

A source declares its channels once, when opened (:class:`Channel`: device, role, unit, the sensor it
reads and the thresholds it reports), and :meth:`ThermalSource.read` returns the channels' values now,
by channel name. A channel missing from one read is a gap for that channel; a failed read raises
:class:`~bench.errors.MeterReadError` and is a gap for all of them, never a 0. A value outside what the
unit can be (:data:`RANGES`: a sensor's fault code such as -128 °C or 255 °C is no temperature) is
refused by :func:`admit` and left out, like a missing one.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from bench.record.thermal import Role, SourceKind, ThermalUnit

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


class ThermalSource(ABC):
    """One place temperatures are read from (a hwmon tree, a BMC, a PDU's probe), polled every ``period_s``."""

    #: the record's source name: ``hwmon``, ``redfish``, ``ipmi``, ``snmp``.
    kind: ClassVar[SourceKind]
    #: True for a read of this machine that returns at once (a sysfs file): it is also read at every
    #: marker of the power sampler. A remote source (its own deadline per read) is only polled.
    local: ClassVar[bool] = False

    def __init__(self, name: str, channels: list[Channel], *, period_s: float, notes: list[str] | None = None) -> None:
        self.name = name
        self.channels = channels
        self.period_s = period_s
        #: what a reader must know about the channels (one line each)
        self.notes = list(notes or [])

    @abstractmethod
    def read(self) -> dict[str, float]:
        """Every channel's value now, by channel name (a channel not read this time is left out).

        Raises:
            MeterReadError: the read failed (a gap for every channel).
        """

    def close(self) -> None:
        """Release handles; the default has none."""


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

"""Temperatures beside power: a run's ``thermal`` block, one channel per sensor, summarised per measured window.

Every channel names what it measures and how it was read:

``name``
    ``<device>.<what>_<unit suffix>``, unique in the run: ``gpu:0.core_c``, ``gpu:0.memory_c``,
    ``cpu-package:0.package_c``, ``asic:10.0.0.5.board0_c``, ``asic:10.0.0.5.fan1_rpm``,
    ``bmc:10.0.0.7.inlet_c``, ``pdu:10.0.0.9.ambient_c``, ``pdu:10.0.0.9.humidity_rh``. A channel of role
    ``inlet`` ends in ``inlet_c``, one of role ``ambient`` in ``ambient_c``.
``source``
    ``nvml``, ``hwmon``, ``miner``, ``redfish``, ``ipmi`` or ``snmp``; ``sensor`` says which reading of it
    (an NVML call, a hwmon file and its label, a Redfish ``Temperatures[]`` member, an IPMI sensor record, an
    SNMP column and row).
``unit``
    ``°C``, ``%RH`` (relative humidity) or ``rpm``.
``role``
    what the figure is: ``core`` (a GPU's core), ``memory`` (a GPU's memory), ``package`` (a CPU package),
    ``board`` and ``chip`` (a miner's hash boards and their chips), **``inlet``** (the air entering the
    machine, measured at it: a BMC's inlet/intake sensor, a miner's intake sensor), ``outlet`` (the air
    leaving it), **``ambient``** (the room's air near the machine: a PDU's environmental probe),
    ``humidity`` (relative humidity of that air) and ``fan``.

Per measured window (``windows[n]`` is the run's ``window-n`` phase, beside ``throughput.samples[n]`` and
``power.window_energy_j[n]``): the min, mean and max of the readings taken in ``[start, end)`` of that
window, and how many. A window in which a slow source (a BMC, a PDU) took no reading holds the last reading
before it, marked ``held``, when that reading is at most :data:`HOLD_PERIODS` of the source's periods old;
otherwise the window's entry is null. ``summary`` covers all measured windows' readings.

**The derating fit** (:mod:`bench.sizing.derate`) reads the channel :meth:`Thermal.inlet` gives: the first
channel of role ``inlet``, else the first of role ``ambient``, and takes ``windows[n].mean`` as window
``n``'s inlet temperature. A hash board's sensors on its intake side (``board<i>_inlet_c``, role ``inlet``)
are a board's temperature, above the air's: they are read only where no channel of the air is there.

Throttling: per device whose source reports clock-event reasons (NVML; a miner whose firmware lists its
heat-protection codes, :mod:`bench.miners.measure.throttle`), ``throttle[].windows[n]`` gives
the seconds of window ``n`` spent with each reason active and the seconds (and fraction) spent throttled:
with any reason active that is not benign (idle, a clock set by the user or the display, and the GPU
holding its power limit, ``sw_power_cap``, which is how a power-bound GPU runs at full load). The reasons
are polled, so each reading's reasons are taken to hold until the next reading (``method`` says so).

Thresholds the source reports (NVML's slowdown and shutdown temperatures, hwmon's ``max`` and ``crit``, a
BMC sensor's upper critical and fatal thresholds) sit beside the channel in ``thresholds``, keyed by the
source's own name for them.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from bench.record.base import Record
from bench.record.bounds import MAX_WINDOWS, Count, Fraction, Gauge, Name, PositiveSeconds, Seconds, Series, Text, Texts
from bench.record.power import MinMeanMax

SourceKind = Literal["nvml", "hwmon", "miner", "redfish", "ipmi", "snmp"]
ThermalUnit = Literal["°C", "%RH", "rpm"]
Role = Literal["core", "memory", "package", "board", "chip", "inlet", "outlet", "ambient", "humidity", "fan"]

#: Roles whose figure is the air a machine breathes, in the order the derating fit prefers them.
AIR_ROLES: tuple[Role, ...] = ("inlet", "ambient")
#: A window without a reading of its own holds the last one before it when it is at most this many periods old.
HOLD_PERIODS = 3.0
#: The most channels one run may carry, and points one channel's series keeps.
MAX_CHANNELS = 256
MAX_SERIES_POINTS = 500


_BOARD_SIDE = re.compile(r"\.board\d+_inlet_c$")


def _board_side(c: ThermalChannel) -> bool:
    """A miner's hash board sensor on its intake side: a board temperature named for where it sits."""
    return c.source == "miner" and c.role == "inlet" and _BOARD_SIDE.search(c.name) is not None


class ChannelWindow(Record):
    """One channel over one measured window: ``readings`` taken inside it (0 and ``held`` when none was, and
    the last reading before the window stands for it)."""

    min: Gauge
    mean: Gauge
    max: Gauge
    readings: Count
    held: bool = False


class ThermalChannel(Record):
    """One sensor's readings over a run: identity, provenance, per-window figures (see the module docstring)."""

    name: Name
    source: SourceKind
    device: Name
    role: Role
    unit: ThermalUnit
    sensor: Text = ""
    period_s: PositiveSeconds | None = None
    windows: Annotated[list[ChannelWindow | None], Field(max_length=MAX_WINDOWS)] = []
    summary: MinMeanMax | None = None
    thresholds: Annotated[dict[Name, Gauge], Field(max_length=16)] = {}
    gaps: Count = 0
    gap_reason: Text = ""
    series: Annotated[Series, Field(max_length=MAX_SERIES_POINTS)] = []


class ThrottleWindow(Record):
    """One device over one measured window: seconds with each clock-event reason active, and throttled."""

    seconds: Seconds
    fraction: Fraction
    reasons: Annotated[dict[Name, Seconds], Field(max_length=64)] = {}


class Throttle(Record):
    """One device's clock-event (throttle) reasons per measured window; ``seconds`` and ``fraction`` over them all."""

    device: Name
    source: SourceKind
    method: Text = ""
    windows: Annotated[list[ThrottleWindow | None], Field(max_length=MAX_WINDOWS)] = []
    seconds: Seconds = 0.0
    fraction: Fraction = 0.0
    reasons: Annotated[dict[Name, Seconds], Field(max_length=64)] = {}


class Thermal(Record):
    """A run's temperatures, humidity and fans per measured window, and its devices' throttling."""

    channels: Annotated[list[ThermalChannel], Field(max_length=MAX_CHANNELS)] = []
    throttle: Annotated[list[Throttle], Field(max_length=64)] = []
    notes: Texts = []

    def inlet(self) -> ThermalChannel | None:
        """The channel a derating fit reads: the first of role ``inlet``, else the first of role ``ambient``
        (a hash board's intake-side sensor only where neither measures the air)."""
        air = [c for c in self.channels if c.unit == "°C" and not _board_side(c)]
        for role in AIR_ROLES:
            found = next((c for c in air if c.role == role), None)
            if found is not None:
                return found
        return next((c for c in self.channels if c.role == "inlet" and c.unit == "°C"), None)

    def channel(self, name: str) -> ThermalChannel | None:
        """The channel called ``name``, or None."""
        return next((c for c in self.channels if c.name == name), None)

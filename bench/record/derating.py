"""A derating curve in the result file: throughput and wall power against a machine's inlet temperature.

``sitebench derate FILE...`` fits one from measured windows (``source: "fitted"``) and writes it beside the
runs it came from; a vendor's published behaviour (a knee and a shutdown temperature from a datasheet or a
review) is kept apart as ``source: "declared"``. Every point names the run and window it came from, so
``validate`` rebuilds the points from the runs and refits the curves from the points.

A curve is piecewise linear with one knee ``k``::

    y(T) = level + slope_below x min(T - k, 0) + slope_above x max(T - k, 0)

``level`` is the figure at the knee (units/s or W), the slopes are per °C. ``knee_low_c`` and ``knee_high_c``
bound the knee; ``band`` gives the curve's low and high bounds at temperatures across the points
(:mod:`bench.sizing.derate` says how both are found).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from bench.record.base import Record
from bench.record.bounds import MAX_ITEMS, MAX_WINDOWS, Count, Name, Rate, Text, Texts, Watts

#: Temperatures a result file may state for a machine's inlet or a room, in °C (a furnace is not a data hall).
Celsius = Annotated[float, Field(ge=-60.0, le=150.0)]
#: A curve's slope: units/s or W per °C, either sign.
Slope = Annotated[float, Field(ge=-1e21, le=1e21)]
DerateSource = Literal["fitted", "declared"]
Quantity = Literal["throughput", "power"]


class DeratePoint(Record):
    """One measured window (or a whole run, where no window carries a temperature) at one inlet temperature.

    ``run`` indexes the document's runs; ``window`` the run's measured windows (None: the whole run);
    ``channel`` names the temperature read (``inlet_c``, ``bmc.inlet_c``, ``pdu.ambient_c``...);
    ``power_w`` is None where the window has no power figure.
    """

    run: Count
    window: Count | None = None
    channel: Name
    inlet_c: Celsius
    throughput: Rate
    power_w: Watts | None = None


class BandPoint(Record):
    """The curve and its bounds at one temperature."""

    t_c: Celsius
    value: Annotated[float, Field(ge=-1e21, le=1e21)]
    low: Annotated[float, Field(ge=-1e21, le=1e21)]
    high: Annotated[float, Field(ge=-1e21, le=1e21)]


class DerateCurve(Record):
    """One quantity's piecewise-linear curve with its knee and bounds (see the module docstring)."""

    quantity: Quantity
    unit: Name
    knee_c: Celsius
    knee_low_c: Celsius
    knee_high_c: Celsius
    knee_identified: bool = True
    level: Annotated[float, Field(ge=-1e21, le=1e21)]
    slope_below: Slope
    slope_above: Slope
    residual_sd: Annotated[float, Field(ge=0.0, le=1e21)] = 0.0
    points: Count = 0
    band: Annotated[list[BandPoint], Field(max_length=MAX_ITEMS)] = []


class DeclaredStep(Record):
    """A declared curve's step: above ``above_c`` the machine runs at ``factor`` of its flat figure."""

    above_c: Celsius
    factor: Annotated[float, Field(ge=0.0, le=10.0)]


class Derating(Record):
    """A machine's derating: fitted from measured windows, or declared from published figures.

    A fitted one holds its ``points`` and the ``throughput`` (and, where the windows had power, ``power``)
    curves; a declared one holds ``steps`` for throughput and power (each a factor of the flat figure above
    a temperature) and ``shutdown_c``. ``reference`` names where the figures come from; ``method`` says how
    the bounds were found.
    """

    source: DerateSource
    workload: Name
    unit: Name
    system: Name
    channel: Name = "inlet_c"
    method: Text = ""
    reference: Text = ""
    points: Annotated[list[DeratePoint], Field(max_length=MAX_WINDOWS)] = []
    throughput: DerateCurve | None = None
    power: DerateCurve | None = None
    throughput_steps: Annotated[list[DeclaredStep], Field(max_length=64)] = []
    power_steps: Annotated[list[DeclaredStep], Field(max_length=64)] = []
    knee_c: Celsius | None = None
    shutdown_c: Celsius | None = None
    notes: Texts = []

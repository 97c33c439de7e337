"""The ``power`` block of a run and the figures of each meter in it.

Units: W, J, s. Times in traces are seconds from the start of the run.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from bench.record.base import Record
from bench.record.bounds import (
    MAX_ITEMS,
    MAX_METERS,
    Count,
    Fraction,
    Gauge,
    Joules,
    Name,
    PositiveSeconds,
    PowerTrace,
    Seconds,
    Series,
    SignedWatts,
    Text,
    Texts,
    Time,
    Watts,
)

ScopeClass = Literal["wall", "node", "components", "modelled"]


class Gap(Record):
    """A failed read of a meter (or a hole in its log) touching the window."""

    t: Time
    reason: Text


class MinMeanMax(Record):
    """A telemetry series summarised over the measured window."""

    min: Gauge
    mean: Gauge
    max: Gauge


class TelemetrySummary(Record):
    """Telemetry over the measured window: series summaries and throttle reasons (fraction of readings)."""

    series: Annotated[dict[Name, MinMeanMax], Field(max_length=MAX_ITEMS)] = {}
    throttle_reasons: Annotated[dict[Name, Fraction], Field(max_length=MAX_ITEMS)] = {}
    throttled: bool = False


class MeterFigure(Record):
    """One meter: what it is, how accurate, and its figures over the measured window.

    ``energy_j`` / ``avg_w`` / ``peak_w`` cover the measured window; ``trace``
    and ``telemetry`` the whole run; ``valid`` is False (with reasons) when the
    window cannot be used for sizing.
    """

    name: Name
    kind: Name
    scope: Name
    method: Name
    measured: bool
    accuracy: Fraction | None = None
    accuracy_w: Watts | None = None
    accuracy_note: Text = ""
    update_period_s: PositiveSeconds | None = None
    device_uuid: Name | None = None
    readings: Count | None = None
    energy_j: Joules | None = None
    avg_w: Watts | None = None
    peak_w: Watts | None = None
    idle_before_w: Watts | None = None
    idle_after_w: Watts | None = None
    duration_s: Seconds | None = None
    energy_method: Name | None = None
    valid: bool = True
    invalid_reasons: Texts = []
    notes: Texts = []
    gaps: Annotated[list[Gap], Field(max_length=MAX_ITEMS)] = []
    trace: PowerTrace = []
    telemetry: Annotated[dict[Name, Series], Field(max_length=64)] = {}
    telemetry_summary: TelemetrySummary | None = None

    def tolerance_w(self, power_w: float) -> float | None:
        """The stated accuracy in W at ``power_w``; None when the meter states none."""
        if self.accuracy is None and self.accuracy_w is None:
            return None
        return max((self.accuracy or 0.0) * abs(power_w), self.accuracy_w or 0.0)


class Crosscheck(Record):
    """Two meter groups whose scopes nest (or match), compared within their stated accuracies."""

    outer: Annotated[list[Name], Field(max_length=MAX_METERS)]
    inner: Annotated[list[Name], Field(max_length=MAX_METERS)]
    outer_w: Watts
    inner_w: Watts
    remainder_w: SignedWatts
    tolerance_w: Watts | None = None
    agree: bool
    note: Text = ""


class Quality(Record):
    """Measurement quality level 0..3 (EEHPC-style) and what kept the run below 3."""

    level: Annotated[int, Field(ge=0, le=3)]
    reasons: Texts = []


class PowerBlock(Record):
    """Power of one run over its measured windows, from the primary meters (the widest measured scope).

    ``energy_j`` is the energy over the measured windows, ``window_s`` their
    span and ``avg_w = energy_j / window_s``; ``window_energy_j`` splits the
    energy by window. ``valid_for_sizing`` is False, with the reasons, when
    the figure must not size a site.
    """

    avg_w: Watts | None = None
    energy_j: Joules | None = None
    peak_w: Watts | None = None
    idle_before_w: Watts | None = None
    idle_after_w: Watts | None = None
    scope: Name | None = None
    scope_class: ScopeClass | None = None
    measured: bool
    window_s: PositiveSeconds | None = None
    window_energy_j: Annotated[list[Joules], Field(max_length=100_000)] = []
    valid_for_sizing: bool
    invalid_reasons: Texts = []
    quality: Quality = Quality(level=0, reasons=["no power figure"])
    unattributed_w: SignedWatts | None = None
    crosschecks: Annotated[list[Crosscheck], Field(max_length=MAX_ITEMS)] = []
    flags: Texts = []
    meters: Annotated[list[MeterFigure], Field(max_length=MAX_METERS)] = []
    trace: PowerTrace = []

    @property
    def primary(self) -> list[MeterFigure]:
        """The meters whose sum is this block's figure (their scopes make up ``scope``)."""
        parts = set((self.scope or "").split("+"))
        return [m for m in self.meters if m.scope in parts]

    @property
    def modelled(self) -> bool:
        """True when the figure is an estimate (utilisation x TDP), not a measurement."""
        return self.scope_class == "modelled"


def no_power(reason: str = "no power measured") -> PowerBlock:
    """The block of a run without power (no meter, or no measured window)."""
    return PowerBlock(measured=False, valid_for_sizing=False, invalid_reasons=[reason])

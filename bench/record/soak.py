"""A soak: a run measured in consecutive windows for hours, and how its figures moved while it ran.

A run's ``soak`` block (``run --soak 2h``, ``serve --soak``, ``miners run --soak``) says what was asked
(``requested_s`` in windows of ``window_s``, so ``planned_windows``) and what was measured (``windows``,
``duration_s``: the sum of the measured windows' durations), then, from the run's own per-window figures:

``throughput`` and ``efficiency``
    the drift of each window's throughput (``throughput.samples``) and of its units per joule
    (``throughput.units / power.window_energy_j``) against the window's mid-time: a fraction of the mean per
    hour (``per_hour``: ``-0.012`` is -1.2 %/h) with its ``low``..``high`` interval at ``confidence`` and
    its ``verdict`` against ``threshold`` (:mod:`bench.drift` gives the method, ``method`` names it);
    ``efficiency`` is null where the run has no energy per window;
``verdict``
    ``drifting`` when either figure drifts, ``stable`` when each figure there is is stable, else
    ``inconclusive``;
``throttle``
    per device whose source reports clock-event reasons (the run's ``thermal.throttle``): the seconds
    throttled over the measured windows, their fraction of the windows the source covered, and the seconds
    with each reason active (benign ones included: ``sw_power_cap`` is a power-bound GPU at full load);
    ``throttled_s`` and ``throttled_fraction`` are the most-throttled device's; null where no source
    reports throttling (a ``notes`` line says so).

``validate`` recomputes every figure here from the run's windows (:mod:`bench.validation.soak`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from bench.record.base import Record
from bench.record.bounds import Count, Fraction, Name, PositiveSeconds, Rate, Seconds, Text, Texts

Verdict = Literal["stable", "drifting", "inconclusive"]
PerHour = Annotated[float, Field(ge=-1e9, le=1e9)]
"""A fraction of a mean per hour (-0.012: -1.2 %/h)."""


class SoakPlan(Record):
    """A soak as asked (the file's ``settings.soak``): its length, its windows' and the drift threshold (/h).

    A journal's header carries it, so that a soak killed before its end is recovered with its block.
    """

    requested_s: PositiveSeconds
    window_s: PositiveSeconds
    threshold: Annotated[float, Field(gt=0.0, le=100.0)]


class Drift(Record):
    """One figure's drift over the soak's windows: a fraction of its mean per hour, interval and verdict."""

    per_hour: PerHour
    low: PerHour | None = None
    high: PerHour | None = None
    mean: Rate
    windows: Count
    autocorrelation: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    effective_windows: Annotated[float, Field(ge=0.0, le=1e6)]
    verdict: Verdict


class SoakThrottle(Record):
    """One device's throttling over the soak's windows (from the run's ``thermal.throttle``)."""

    device: Name
    source: Name
    seconds: Seconds
    covered_s: Seconds
    fraction: Fraction
    reasons: Annotated[dict[Name, Seconds], Field(max_length=64)] = {}


class Soak(Record):
    """What a soak asked for, what it measured, and its drift and throttling (see the module docstring)."""

    requested_s: PositiveSeconds
    window_s: PositiveSeconds
    planned_windows: Count
    windows: Count
    duration_s: Seconds
    threshold: Annotated[float, Field(gt=0.0, le=100.0)]
    confidence: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.95
    method: Text = ""
    throughput: Drift | None = None
    efficiency: Drift | None = None
    verdict: Verdict
    throttled_s: Seconds | None = None
    throttled_fraction: Fraction | None = None
    throttle: Annotated[list[SoakThrottle], Field(max_length=64)] = []
    notes: Texts = []

"""The Meter interface every power back-end implements.

A meter has a name, a scope (``gpu:N``, ``cpu-package:N``, ``dram:N``,
``node``, ``wall``, ``modelled``), an accuracy statement, an update period,
and gives either a cumulative energy counter or an instantaneous power
reading, or both. Counters are preferred; polled power is integrated. A
failing read raises :class:`~bench.errors.MeterReadError` — never a silent 0 —
and a reading no meter of its scope can give (NaN, negative, beyond its maximum,
a counter that goes back or leaps) is refused where it enters the power layer
(:mod:`bench.power.plausible`): a gap with its reason, like a failed read.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bench.errors import MeterReadError, MeterUnavailable
from bench.record.power import MeterFigure


class CounterDiscontinuity(MeterReadError):
    """A counter went backwards (by less than a wrap) or jumped by more than the meter can draw.

    The energy across it is unknown: a window containing one is refused.
    """


class ImpossibleReading(MeterReadError):
    """A reading no meter of its scope can give (NaN, +-Inf, negative power, power beyond its maximum, a time
    before the previous reading's): a gap with the reason, never a figure (:mod:`bench.power.plausible`)."""


class NoReading(MeterUnavailable):
    """A meter that cannot be opened because its device gave no valid reading when asked (unreachable,
    silent, credentials refused, a failed read): the spec is right, the device may answer later.

    Where one meter per machine is opened (a PDU outlet per miner) this fails that machine, not the command.
    """


@dataclass(frozen=True)
class Reading:
    """One reading of one meter.

    Attributes:
        t: ``time.monotonic()`` when the reading was taken.
        energy_j: cumulative energy in J (wrap corrected), or None when the
            meter has no counter. Its origin is the meter's own: only
            differences count, and the sampler keeps each counter from 0 at
            its first reading and across restarts (:mod:`bench.power.plausible`).
        power_w: power in W at ``t``, or None when the meter has only a counter.
        extra: other figures read at the same time (clocks, temperature...).
    """

    t: float
    energy_j: float | None = None
    power_w: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Meter(ABC):
    """One source of power or energy readings covering one scope."""

    #: back-end name, e.g. ``"rapl"``, ``"nvml"``, ``"model"``.
    kind: ClassVar[str]
    #: False for a meter the sampler must not poll: its readings come from
    #: :meth:`backfill` after the run (a PDU or wall-meter log imported by clock).
    polled: ClassVar[bool] = True

    def __init__(
        self,
        name: str,
        scope: str,
        *,
        accuracy: float | None,
        accuracy_note: str,
        update_period_s: float,
        method: str,
        measured: bool = True,
        accuracy_w: float | None = None,
    ) -> None:
        self.name = name
        self.scope = scope
        self.accuracy = accuracy
        self.accuracy_note = accuracy_note
        self.update_period_s = update_period_s
        self.method = method
        self.measured = measured
        #: absolute accuracy in W where the maker states one (NVML: +/- 5 W);
        #: the tolerance at power P is max(accuracy x P, accuracy_w).
        self.accuracy_w = accuracy_w
        #: the longest poll period that keeps the meter exact (a RAPL counter's
        #: wrap time); None when any rate works. The sampler polls faster or warns.
        self.max_poll_period_s: float | None = None
        #: the measured device's own identity where it has one (a GPU's UUID): two ranks that both call
        #: their GPU ``gpu:0`` (each with its own CUDA_VISIBLE_DEVICES) still measure two GPUs.
        self.device_uuid: str | None = None
        #: the most power (W) the measured device can draw, where the meter knows it (a GPU's power-limit
        #: range x a margin); None leaves the bound to the scope (:func:`bench.power.plausible.limit`).
        self.max_w: float | None = None
        #: how long before a reading's ``t`` its value may have been current, beyond one update period (a
        #: scraped page: the wait for the next poll plus the scrape's deadline); the counter rule allows for it.
        self.latency_s = 0.0

    @abstractmethod
    def read(self) -> Reading:
        """Take one reading now.

        A meter with ``polled = False`` is never read by the sampler; it may
        implement this by raising MeterReadError.

        Raises:
            MeterReadError: when the read fails; the sampler records a gap.
        """

    def backfill(self, t0: float, t1: float) -> list[Reading] | None:
        """Readings for [t0, t1] (time.monotonic() seconds) delivered after the fact, for meters
        that cannot be polled live (a PDU or wall-meter log imported by clock). None (the default)
        means the meter is polled live by the sampler."""
        return None

    def close(self) -> None:
        """Release handles; the default has none."""

    def figure(self, **figures: Any) -> MeterFigure:
        """This meter's provenance (name, scope, method, accuracy, period) with ``figures`` for a window."""
        return MeterFigure(
            name=self.name, kind=self.kind, scope=self.scope, method=self.method, measured=self.measured,
            accuracy=self.accuracy, accuracy_w=self.accuracy_w, accuracy_note=self.accuracy_note[:2000],
            update_period_s=self.update_period_s, device_uuid=self.device_uuid, **figures,
        )

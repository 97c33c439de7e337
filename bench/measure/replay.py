"""The one replay meter: a meter whose readings were taken already, described by its recorded figure.

A journal's readings come back in the order they were taken, each marker pointing at the
reading before it (:class:`ReplayMeter`, what ``recover`` rebuilds a run's power from). A
front end that polls its own meters on its own schedule (``miners run``: each miner's outlet
and firmware) hands its readings to the power layer to be selected by clock instead
(:class:`ClockReplayMeter`). Neither can be read live: a read is an error, never a 0.

The temperature sources a journal declared come back the same way (:class:`ReplaySource`, gathered by
:func:`replay_thermal` into a :class:`~bench.power.thermal.sampler.ThermalSampler` that is never started),
so a rebuilt run's thermal block is made by the code that makes a live run's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bench.errors import MeterReadError
from bench.power.channels import Channel, admit
from bench.power.meter import Meter, Reading
from bench.power.thermal.sampler import ThermalSampler
from bench.power.thermal.source import ThermalSource
from bench.record import MeterFigure
from bench.record.thermal import SourceKind


class ReplayMeter(Meter):
    """A meter as its recorded figure describes it (name, scope, accuracy, method), with recorded readings."""

    kind = "replay"

    def __init__(self, fig: MeterFigure, default_period_s: float = 0.1) -> None:
        super().__init__(fig.name, fig.scope, accuracy=fig.accuracy, accuracy_note=fig.accuracy_note,
                         update_period_s=fig.update_period_s or default_period_s, method=fig.method,
                         measured=fig.measured, accuracy_w=fig.accuracy_w)
        self.kind = fig.kind  # type: ignore[misc]

    def read(self) -> Reading:
        raise MeterReadError(f"{self.name}: a replayed meter has recorded readings only")


class ClockReplayMeter(ReplayMeter):
    """A replayed meter whose readings the power layer selects by their clock (not polled by the sampler)."""

    polled = False

    def __init__(self, fig: MeterFigure, default_period_s: float = 1.0) -> None:
        super().__init__(fig, default_period_s)


class ReplaySource(ThermalSource):
    """A temperature source as its journal declared it (kind, channels, period, notes), with recorded readings."""

    def __init__(self, name: str, kind: SourceKind, channels: list[Channel], *, period_s: float, local: bool = False,
                 notes: list[str] | None = None) -> None:
        super().__init__(name, channels, period_s=period_s, notes=notes)
        self.kind = kind  # type: ignore[misc]
        self.local = local  # type: ignore[misc]

    def read(self) -> dict[str, float]:
        raise MeterReadError(f"{self.name}: a replayed source has recorded readings only")


def replay_thermal(sources: Sequence[ReplaySource], readings: Mapping[str, Iterable[tuple[float, dict[str, float]]]],
                   gaps: Mapping[str, Iterable[tuple[float, str]]]) -> ThermalSampler | None:
    """A sampler (never started) holding each source's recorded readings and gaps, as a live one holds them:
    values its channels' units cannot be are left out (:func:`~bench.power.channels.admit`), and a reading
    not after the one before it is dropped. None without a source."""
    if not sources:
        return None
    sampler = ThermalSampler(list(sources))
    for source in sources:
        units = {c.name: c.unit for c in source.channels}
        log = sampler.logs[source.name]
        for t, values in readings.get(source.name, ()):
            if log.readings and t <= log.readings[-1][0]:
                continue
            log.readings.append((t, {k: v for k, value in values.items()
                                     if k in units and (v := admit(value, units[k])) is not None}))
        log.gaps = sorted(gaps.get(source.name, ()))
    return sampler

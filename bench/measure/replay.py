"""The one replay meter: a meter whose readings were taken already, described by its recorded figure.

A journal's readings come back in the order they were taken, each marker pointing at the
reading before it (:class:`ReplayMeter`, what ``recover`` rebuilds a run's power from). A
front end that polls its own meters on its own schedule (``miners run``: each miner's outlet
and firmware) hands its readings to the power layer to be selected by clock instead
(:class:`ClockReplayMeter`). Neither can be read live: a read is an error, never a 0.
"""

from __future__ import annotations

from bench.errors import MeterReadError
from bench.power.meter import Meter, Reading
from bench.record import MeterFigure


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

"""Wall-meter and PDU logs imported by clock: ``--meter csv:LOG[,scope=S][,offset=S][,accuracy=F]``.

The log (a CSV with a header or a SPEC PTDaemon log, see
:mod:`bench.power.meters.powerlog`) is written by another program while the run goes;
it cannot be polled, so the meter is ``polled = False`` and hands its readings
to the sampler after the run through :meth:`CsvLogMeter.backfill`.

Options:

- ``scope=wall`` (default; a wall meter or PDU outlet feeding the machine) or
  ``scope=node``;
- ``offset=S``: the logger's clock minus this machine's clock, in seconds
  (``offset=2.5`` when the logger's clock runs 2.5 s ahead, ``offset=-2.5``
  when it runs behind); 0 by default, i.e. both clocks NTP-synchronised;
- ``accuracy=F``: the meter's accuracy as a fraction (``0.005`` for ±0.5%);
  1% by default for PTDaemon logs (SPEC requires analysers within 1%), unknown
  for other logs.

Alignment: when the meter is opened it records ``time.time() - time.monotonic()``
and maps each logged wall-clock time ``T`` to ``T - offset - that difference``
on the monotonic clock the phase markers use.

Gaps are never integrated over silently: a backfill whose span holds a stretch
without readings longer than 3x the log's median interval, or that the log does
not cover from start to end, fails with one line naming where; the sampler
records that as a gap of this meter.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime
from pathlib import Path

from bench.errors import MeterReadError, MeterUnavailable
from bench.power.meter import Meter, Reading
from bench.power.meters.powerlog import LogError, PowerLog
from bench.power.spec import MeterSpec

GAP_FACTOR = 3.0
#: beyond 3 intervals, how long a backfill waits for the logger to write the end of the run
LOGGER_GRACE_S = 1.0
PTDAEMON_ACCURACY = 0.01


class LogGap(MeterReadError):
    """A stretch of the log without readings inside the backfilled span.

    ``t`` is where it starts (monotonic s) and ``readings`` are the span's valid
    readings on both sides: a sampler that knows this error can keep them and
    refuse only the windows that hold the gap; one that does not records the
    whole backfill as failed.
    """

    def __init__(self, message: str, t: float, readings: list[Reading],
                 holes: list[tuple[float, float]] | None = None) -> None:
        super().__init__(message)
        self.t = t
        self.readings = readings
        #: every hole as (start, end) in monotonic s; the first starts at ``t``
        self.holes = holes or []


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).strftime("%H:%M:%S.%f")[:-3]


class CsvLogMeter(Meter):
    """Readings of an external meter's log, mapped onto the monotonic clock."""

    kind = "csv"
    polled = False

    def __init__(self, path: Path, *, scope: str = "wall", offset_s: float = 0.0,
                 accuracy: float | None = None) -> None:
        self.log = PowerLog(path)
        try:
            self.log.update()
        except LogError as exc:
            raise MeterUnavailable(str(exc)) from None
        if not self.log.rows:
            raise MeterUnavailable(f"{path}: no readings in the log (empty, or only a header)")
        if len(self.log.rows) < 2:
            raise MeterUnavailable(f"{path}: one reading only; the log needs two to know its interval")
        self.offset_s = offset_s
        self.wall_minus_monotonic = time.time() - time.monotonic()
        if accuracy is None and self.log.format == "ptdaemon":
            accuracy, stated = PTDAEMON_ACCURACY, "SPEC PTDaemon analyser, within 1% as SPEC requires"
        else:
            stated = "as stated by the user" if accuracy is not None else "not stated (pass accuracy=FRACTION)"
        super().__init__(
            f"csv:{path.name}",
            scope,
            accuracy=accuracy,
            accuracy_note=f"{self.log.format} log {path} imported by clock (logger offset {offset_s:+g} s); "
            f"accuracy {stated}; readings every {self.interval_s():g} s",
            update_period_s=self.interval_s(),
            method="log",
        )

    def interval_s(self) -> float:
        """The median interval between the log's readings so far."""
        rows = self.log.rows
        return statistics.median(b[0] - a[0] for a, b in zip(rows, rows[1:]))

    def to_monotonic(self, epoch: float) -> float:
        """A logged wall-clock time on this machine's monotonic clock."""
        return epoch - self.offset_s - self.wall_minus_monotonic

    def read(self) -> Reading:
        raise MeterReadError(f"{self.name}: a log is imported after the run (backfill), not polled")

    def _wait_for(self, t1: float) -> None:
        """Give the logger up to 3 intervals (+ LOGGER_GRACE_S) to write the readings up to ``t1``."""
        deadline = time.monotonic() + GAP_FACTOR * self.interval_s() + LOGGER_GRACE_S
        while True:
            self.log.update()
            if self.to_monotonic(self.log.rows[-1][0]) >= t1 or time.monotonic() >= deadline:
                return
            time.sleep(min(0.05, self.interval_s()))

    def backfill(self, t0: float, t1: float) -> list[Reading]:
        """The log's readings inside [t0, t1] (monotonic seconds), read from the file now.

        Raises:
            MeterReadError: the log became malformed, does not cover [t0, t1], or has a gap in it.
        """
        try:
            self._wait_for(t1)
        except LogError as exc:
            raise MeterReadError(str(exc)) from None
        path, tol = self.log.path, GAP_FACTOR * self.interval_s()
        inside = [(t, w) for t, w in self.log.rows if t0 <= self.to_monotonic(t) <= t1]
        span = f"the run {_clock(self._epoch(t0))}-{_clock(self._epoch(t1))}"
        if not inside:
            first, last = self.log.rows[0][0], self.log.rows[-1][0]
            raise MeterReadError(f"{path}: the log ({_clock(first)}-{_clock(last)}, logger offset "
                                 f"{self.offset_s:+g} s) does not cover {span}; check the logger's clock or offset=")
        start_gap = self.to_monotonic(inside[0][0]) - t0
        end_gap = t1 - self.to_monotonic(inside[-1][0])
        if start_gap > tol:
            raise MeterReadError(f"{path}: the log starts {start_gap:.1f} s after the start of {span}")
        if end_gap > tol:
            raise MeterReadError(f"{path}: the log ends {end_gap:.1f} s before the end of {span}")
        readings = [Reading(t=self.to_monotonic(t), power_w=w) for t, w in inside]
        gaps = [(ta, tb - ta) for (ta, _), (tb, _) in zip(inside, inside[1:]) if tb - ta > tol]
        if gaps:
            (ta, length), more = gaps[0], f" and {len(gaps) - 1} more" if len(gaps) > 1 else ""
            raise LogGap(f"{path}: gap of {length:.1f} s in the log after {_clock(ta)}{more} (more than "
                         f"{GAP_FACTOR:g}x its median interval {self.interval_s():g} s) inside {span}",
                         self.to_monotonic(ta), readings,
                         [(self.to_monotonic(a), self.to_monotonic(a + n)) for a, n in gaps])
        return readings

    def _epoch(self, t_monotonic: float) -> float:
        return t_monotonic + self.wall_minus_monotonic + self.offset_s


def open_spec(spec: MeterSpec) -> list[Meter]:
    """The log the target names (``csv:LOG[,scope=wall|node][,offset=S][,accuracy=F]``).

    Raises:
        MeterUnavailable: no such file, or a log that cannot be read; one line.
    """
    path = Path(spec.target or "")
    if not path.is_file():
        raise MeterUnavailable(f"{path}: no such file")
    accuracy = spec["accuracy"]
    return [CsvLogMeter(path, scope=spec.word("scope") or "wall", offset_s=spec.number("offset"),
                        accuracy=accuracy if isinstance(accuracy, float) else None)]

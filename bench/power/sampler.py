"""A background thread that polls every meter at a fixed rate.

Readings carry ``time.monotonic()`` timestamps. Phase markers take a reading
of every meter at the moment they are set (after the caller synchronised the
device), so a window's energy is bounded by readings at its exact edges. A
failed read is recorded as a gap with its reason; it never becomes a 0. Every
reading enters through its meter's :class:`~bench.power.plausible.Screen`:
one no meter of its scope can give (NaN, negative, beyond its maximum, a
counter that goes back or leaps) is a gap with its reason too, like a failed
read, and the run goes on. Every reading and marker can stream to a journal
so an interrupted run keeps what it measured.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench.errors import MeterReadError
from bench.power.meter import CounterDiscontinuity, Meter, Reading
from bench.power.plausible import Screen
from bench.power.thermal.sampler import ThermalSampler


@dataclass
class Gap:
    """A failed read of one meter at ``t`` (or a failure spanning ``t``..``until``);
    ``discontinuity`` when a counter broke (energy across it unknown)."""

    t: float
    reason: str
    discontinuity: bool = False
    until: float | None = None

    def overlaps(self, t0: float, t1: float) -> bool:
        """True when the gap touches [t0, t1]."""
        return self.t <= t1 and (self.until if self.until is not None else self.t) >= t0


@dataclass(frozen=True)
class Marker:
    """A phase marker: its time and, per meter, the index of the reading taken with it."""

    phase: str
    t: float
    index: dict[str, int]


@dataclass
class MeterLog:
    """What one meter gave since the last :meth:`Sampler.trim`.

    ``offset`` readings were dropped from the front; marker indices count from
    the first reading of the session, so ``readings[index - offset]``.
    """

    meter: Meter
    readings: list[Reading] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    offset: int = 0
    #: admits each reading or refuses it (:mod:`bench.power.plausible`)
    screen: Screen = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.screen = Screen(self.meter)


def _time(reading: Reading, default: float = float("-inf")) -> float:
    """A reading's time, or ``default`` when it is not a finite number (to be refused; first in time order)."""
    t = reading.t
    return float(t) if isinstance(t, (int, float)) and abs(t) < float("inf") else default


#: The fastest the sampler polls, whatever a meter asks for.
MAX_RATE_HZ = 1000.0


class Sampler:
    """Polls ``meters`` every ``1 / rate_hz`` seconds in a daemon thread.

    A meter that must be read more often than that to stay exact (a RAPL
    counter that wraps, :attr:`Meter.max_poll_period_s`) raises the rate, up to
    :data:`MAX_RATE_HZ`; ``notes`` says so, or warns when even that is too slow.
    """

    def __init__(self, meters: list[Meter], rate_hz: float = 10.0, journal: Any | None = None,
                 thermal: ThermalSampler | None = None) -> None:
        self.logs = {m.name: MeterLog(m) for m in meters}
        #: temperature sources polled beside the meters, started, read at markers, trimmed and stopped with them
        self.thermal = thermal
        self.notes: list[str] = []
        self.period_s = 1.0 / rate_hz
        for m in meters:
            need = m.max_poll_period_s
            if need is None or not m.polled or need >= self.period_s:
                continue
            self.period_s = max(need, 1.0 / MAX_RATE_HZ)
            if need < 1.0 / MAX_RATE_HZ:
                self.notes.append(f"{m.name} must be read every {need:.3g} s to stay exact, faster than "
                                  f"{MAX_RATE_HZ:g} Hz: counter wraps may be missed")
            else:
                self.notes.append(f"sampling raised from {rate_hz:g} Hz to {1 / self.period_s:.3g} Hz: "
                                  f"{m.name} must be read every {need:.3g} s to stay exact")
        self.rate_hz = 1.0 / self.period_s
        self.journal = journal
        self.markers: list[Marker] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _poll(self) -> None:
        with self._lock:
            self._poll_locked()

    def _gap(self, log: MeterLog, t: float, exc: MeterReadError) -> None:
        gap = Gap(t, str(exc), isinstance(exc, CounterDiscontinuity))
        log.gaps.append(gap)
        if self.journal:
            self.journal.write({"type": "gap", "meter": log.meter.name, "t": gap.t, "reason": gap.reason,
                                "discontinuity": gap.discontinuity})

    def _keep(self, log: MeterLog, reading: Reading) -> None:
        log.readings.append(reading)
        if self.journal:
            record = {"type": "reading", "meter": log.meter.name, "t": reading.t,
                      "energy_j": reading.energy_j, "power_w": reading.power_w}
            if reading.extra:
                record["extra"] = reading.extra
            self.journal.write(record)

    def _poll_locked(self) -> None:
        for log in self.logs.values():
            if not log.meter.polled:
                continue
            try:
                reading = log.screen.admit(log.meter.read())
            except MeterReadError as exc:
                self._gap(log, time.monotonic(), exc)
                continue
            self._keep(log, reading)

    def admit(self, name: str, readings: list[Reading]) -> MeterLog:
        """Readings of meter ``name`` taken elsewhere (a journal's, a front end's own polls), in the order
        taken, admitted as a polled reading is: each one no meter can give becomes a gap with its reason.

        Returns:
            The meter's log.
        """
        log = self.logs[name]
        with self._lock:
            for reading in readings:
                try:
                    kept = log.screen.admit(reading)
                except MeterReadError as exc:
                    self._gap(log, _time(reading, time.monotonic()), exc)
                    continue
                self._keep(log, kept)
        return log

    def _loop(self) -> None:
        next_t = time.monotonic()
        while not self._stop.is_set():
            self._poll()
            next_t += self.period_s
            self._stop.wait(max(0.0, next_t - time.monotonic()))

    def declare(self) -> None:
        """Journal the temperatures each meter reads with its power (a ``meter-channels`` line per meter that
        lists ``thermal_channels``, NVML's), so ``recover`` knows them; nothing without a journal."""
        if not self.journal:
            return
        for log in self.logs.values():
            channels = getattr(log.meter, "thermal_channels", None)
            if channels:
                self.journal.write({"type": "meter-channels", "meter": log.meter.name,
                                    "channels": [dataclasses.asdict(c) for c in channels]}, flush=True)

    def start(self) -> None:
        """Take a first reading and start polling (with a journal, the meters' and sources' channels declared
        first, and the temperature sources journaled too)."""
        self.declare()
        self._poll()
        self._thread = threading.Thread(target=self._loop, name="sitebench-sampler", daemon=True)
        self._thread.start()
        if self.thermal is not None:
            if self.thermal.journal is None:
                self.thermal.journal = self.journal
            self.thermal.start()

    def mark(self, phase: str) -> float:
        """Record a phase marker with a reading of every meter; returns its time."""
        with self._lock:
            t = time.monotonic()
            self._poll_locked()
            index = {name: log.offset + len(log.readings) - 1 for name, log in self.logs.items() if log.meter.polled}
            self.markers.append(Marker(phase, t, index))
            if self.journal:  # under the lock: the marker line follows exactly the readings taken with it
                self.journal.write({"type": "marker", "phase": phase, "t": t}, flush=True)
        if self.thermal is not None:  # after the marker: the local sources' reading opens the window it starts
            self.thermal.mark()
        return t

    def stop(self, close_meters: bool = True) -> None:
        """Stop polling (one last reading is taken) and, unless told not to, close the meters."""
        self._stop.set()
        if self._thread:
            self._thread.join()
        self._poll()
        if self.thermal is not None:
            self.thermal.stop(close=close_meters)
        if close_meters:
            for log in self.logs.values():
                log.meter.close()

    def backfill(self, t0: float, t1: float) -> None:
        """Fill the logs of meters that are not polled with their readings for [t0, t1].

        A backfill that fails is recorded as a gap over [t0, t1], like a failed read; one that
        fails on a hole in the log but hands over the readings around it (``exc.readings``,
        ``exc.t``) keeps them, with the hole as a gap that refuses the windows it touches.
        """
        for log in self.logs.values():
            if log.meter.polled:
                continue
            try:
                readings = log.meter.backfill(t0, t1) or []
            except MeterReadError as exc:
                # a hole inside the log (csvlog.LogGap) carries its start and the readings around it:
                # keep those and refuse only windows that hold the hole
                kept = getattr(exc, "readings", None)
                if not isinstance(kept, list):
                    log.gaps.append(Gap(t0, str(exc), until=t1))
                    continue
                start = float(getattr(exc, "t", t0))
                holes = getattr(exc, "holes", None) or [(start, min((r.t for r in kept if r.t > start), default=t1))]
                for a, b in holes:
                    log.gaps.append(Gap(float(a), str(exc), discontinuity=True, until=float(b)))
                readings = kept
            known = {r.t for r in log.readings}
            screen = Screen(log.meter)  # each delivery judged on its own, in time order
            for reading in sorted((r for r in readings if r.t not in known), key=_time):
                try:
                    log.readings.append(screen.admit(reading))
                except MeterReadError as exc:
                    log.gaps.append(Gap(_time(reading, t0), str(exc), isinstance(exc, CounterDiscontinuity)))
            log.readings.sort(key=lambda r: r.t)

    def trim(self) -> None:
        """Forget everything before the last marker (its reading is kept).

        The runner calls this once a run's power block is built, so memory
        holds one run's readings however long the suite; the journal keeps all.
        """
        with self._lock:
            if not self.markers:
                return
            last = self.markers[-1]
            for name, log in self.logs.items():
                drop = last.index.get(name, log.offset) - log.offset if log.meter.polled else len(log.readings)
                if drop > 0:
                    del log.readings[:drop]
                    log.offset += drop
                log.gaps = [g for g in log.gaps if g.overlaps(last.t, float("inf"))]
            self.markers = [last]
        if self.thermal is not None:
            self.thermal.trim(last.t)

    def marker(self, phase: str) -> Marker:
        """The last marker named ``phase``."""
        for m in reversed(self.markers):
            if m.phase == phase:
                return m
        raise KeyError(phase)

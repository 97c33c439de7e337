"""Polls temperature sources beside the power sampler and keeps every reading with its time.

Each source is polled on its own :class:`~bench.power.poller.Poller` thread every ``period_s`` (a BMC
or a PDU answers in seconds; the power sampler never waits for them). A local source (hwmon: a file
read) is also read at every phase marker of the power sampler (:meth:`ThermalSampler.mark`), so that
each measured window starts with a reading of it, as it does with every power meter's.

Readings carry ``time.monotonic()`` (taken when the read returned) and hold only values the unit allows
(:func:`~bench.power.thermal.source.admit`); a failed read is a gap with its reason, never a 0.
:meth:`ThermalSampler.trim` forgets what precedes a time (the power sampler trims both once a run's
record is built), keeping the last reading before it, which may stand for the next window.

With a journal (the power sampler hands it its own when it starts), every source is declared once as it
starts (a ``thermal-source`` line: its kind, period, notes and channels) and every reading and gap is
journaled as it is taken (``thermal`` and ``thermal-gap`` lines), so ``sitebench recover`` rebuilds a
killed run's thermal block from them (:func:`bench.measure.replay.replay_thermal`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from bench.errors import MeterReadError
from bench.power.poller import Poller
from bench.power.thermal.source import Channel, ThermalSource, admit

#: Gaps kept per source (the oldest dropped first): a source that fails for hours stays bounded.
MAX_GAPS = 1000


@dataclass
class ThermalLog:
    """What one source gave: ``readings`` as ``(t, {channel name: value})`` in time order, and its gaps."""

    source: ThermalSource
    readings: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    gaps: list[tuple[float, str]] = field(default_factory=list)

    def points(self, channel: str) -> list[tuple[float, float]]:
        """``(t, value)`` of one channel, in time order."""
        return [(t, values[channel]) for t, values in self.readings if channel in values]


class ThermalSampler:
    """Polls ``sources`` in the background; :meth:`mark` reads the local ones at a power marker.

    ``journal`` (anything with ``write(dict)``, thread-safe) takes every declaration, reading and gap.
    """

    def __init__(self, sources: list[ThermalSource], journal: Any | None = None) -> None:
        self.journal = journal
        self.logs = {s.name: ThermalLog(s) for s in sources}
        self._lock = threading.Lock()
        self._units = {c.name: c.unit for s in sources for c in s.channels}
        self.pollers = {s.name: Poller(partial(self._read, s), s.period_s, name=f"thermal-{s.name}", keep=1)
                        for s in sources}

    @property
    def sources(self) -> list[ThermalSource]:
        return [log.source for log in self.logs.values()]

    def channels(self) -> list[tuple[ThermalSource, Channel]]:
        """Every channel with its source, in the sources' order."""
        return [(log.source, c) for log in self.logs.values() for c in log.source.channels]

    def _read(self, source: ThermalSource) -> dict[str, float]:
        log = self.logs[source.name]
        try:
            raw = source.read()
        except Exception as exc:  # noqa: BLE001 - any failure of a source is a gap for it, never the end of the run
            reason = str(exc) if isinstance(exc, MeterReadError) else f"{source.name}: {type(exc).__name__}: {exc}"
            with self._lock:
                t = time.monotonic()
                log.gaps.append((t, reason[:2000]))
                del log.gaps[:-MAX_GAPS]
                if self.journal is not None:
                    self.journal.write({"type": "thermal-gap", "source": source.name, "t": t, "reason": reason[:2000]})
            raise MeterReadError(reason) from None
        values = {name: v for name, value in raw.items()
                  if name in self._units and (v := admit(value, self._units[name])) is not None}
        with self._lock:  # the time taken under the lock: a marker's read and the poller's stay in time order
            t = time.monotonic()
            log.readings.append((t, values))
            if self.journal is not None:
                self.journal.write({"type": "thermal", "source": source.name, "t": t, "values": values})
        return values

    def poll(self, name: str) -> None:
        """Read source ``name`` once now, in this thread (a failure is recorded as a gap)."""
        try:
            self._read(self.logs[name].source)
        except MeterReadError:
            pass

    def declare(self) -> None:
        """Journal every source and its channels (a ``thermal-source`` line each); nothing without a journal."""
        if self.journal is None:
            return
        for log in self.logs.values():
            s = log.source
            self.journal.write({"type": "thermal-source", "source": s.name, "kind": s.kind, "period_s": s.period_s,
                                "local": s.local, "notes": [n[:2000] for n in s.notes[:1000]],
                                "channels": [asdict(c) for c in s.channels]}, flush=True)

    def start(self) -> None:
        """Declare the sources to the journal, take a first reading of each, then poll in the background."""
        self.declare()
        for name in self.logs:
            self.poll(name)
        for poller in self.pollers.values():
            poller.start()

    def mark(self) -> None:
        """Read the local sources now (the power sampler calls this at each of its markers)."""
        for name, log in self.logs.items():
            if log.source.local:
                self.poll(name)

    def stop(self, close: bool = True) -> None:
        """Stop polling (a read in flight is left to its thread) and, unless told not to, close the sources."""
        for poller in self.pollers.values():
            poller.stop()
        if close:
            for log in self.logs.values():
                log.source.close()

    def snapshot(self) -> dict[str, ThermalLog]:
        """A copy of every log, safe to read while polling goes on."""
        with self._lock:
            return {n: ThermalLog(log.source, list(log.readings), list(log.gaps)) for n, log in self.logs.items()}

    def trim(self, before: float) -> None:
        """Forget readings and gaps before ``before`` (``time.monotonic()``), keeping the last reading before it."""
        with self._lock:
            for log in self.logs.values():
                older = [i for i, (t, _) in enumerate(log.readings) if t < before]
                if len(older) > 1:
                    del log.readings[: older[-1]]
                log.gaps = [g for g in log.gaps if g[0] >= before]

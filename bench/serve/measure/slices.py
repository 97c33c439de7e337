"""The measured windows of a load point: the steady window cut into contiguous slices.

The run record measures throughput and power over the same contiguous windows
(:mod:`bench.record.figures`); for a served endpoint those windows are slices of the steady
window (:mod:`bench.serve.measure.steady`), each bounded by markers on the power sampler.

The steady window's end is only known when it comes (the first completion after the last
request was sent), so equal slices cannot be marked in advance. While the window is open a
:class:`Ticker` thread sets a marker on the sampler every ``max(MIN_TICK_S, elapsed / DENSITY)``
seconds (a reading of every meter with each), so ticks stay about :data:`DENSITY` per elapsed
span however long the window lasts: a few hundred for an hour. When the window closes,
:func:`boundaries` keeps the tick nearest to each of the :data:`SLICES` equal divisions of the
window (within ``1 / DENSITY`` of it), and the slices between the kept ticks are the run's
``window-0`` ... ``window-N`` phases: every boundary is a real marker, so the power of each slice
is read at its edges like a ``sitebench run`` window.

A soak (``serve --soak``) ticks on a fixed grid instead (:class:`Ticker` with a ``period``: one tick every
``--window`` seconds from the window's start) and keeps the first ticks as its boundaries
(:func:`grid_boundaries`): each slice is one soak window, the last one running on to the window's end.

Token attribution (:func:`token_events`, :func:`attribute`): a request's output tokens are
spread evenly over its token events (one event may carry several tokens, and the server's
usage says only how many in all), and each event's share counts in the slice holding its
arrival time, ``[start, end)``. Failed requests count no tokens (their count is unknown).
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable

from bench.serve.protocol.records import RequestRecord

#: Equal slices the steady window is cut into (also the slices of the stability check).
SLICES = 5
#: Ticks per elapsed span: the spacing of the ticks grows with the window so their number stays small.
DENSITY = 40
#: Shortest gap between two ticks.
MIN_TICK_S = 0.01
#: Shortest slice kept (phase times are recorded to 0.1 ms).
MIN_SLICE_S = 1e-3

Boundary = tuple[str, float]


class Ticker:
    """Sets markers ``tick-K`` through ``mark`` in a daemon thread from :meth:`start` until :meth:`stop`;
    every ``period`` seconds from the start when one is given (a soak's windows)."""

    def __init__(self, mark: Callable[[str], float], period: float | None = None) -> None:
        self.mark = mark
        self.period = period
        self.ticks: list[Boundary] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, t0: float) -> None:
        """Begin ticking from ``t0`` (the steady window's start marker)."""
        self._thread = threading.Thread(target=self._run, args=(t0,), name="sitebench-serve-ticks", daemon=True)
        self._thread.start()

    def _run(self, t0: float) -> None:
        delay = self.period or MIN_TICK_S
        while not self._stop.wait(delay):
            name = f"tick-{len(self.ticks)}"
            t = self.mark(name)
            self.ticks.append((name, t))
            if self.period:  # on the grid: the next tick at t0 + (k + 1) x period, however late this one was
                delay = max(0.0, t0 + (len(self.ticks) + 1) * self.period - time.monotonic())
            else:
                delay = max(MIN_TICK_S, (t - t0) / DENSITY)

    def stop(self, join: bool = True) -> None:
        """No more ticks; ``join`` waits for a tick being set to finish."""
        self._stop.set()
        if join and self._thread is not None:
            self._thread.join()


def boundaries(start: Boundary, end: Boundary, ticks: list[Boundary], slices: int = SLICES) -> list[Boundary]:
    """The slice boundaries: ``start``, the ticks nearest each equal division, ``end`` (times increasing).

    A division with no tick strictly inside the window is skipped, so a window shorter than a
    few ticks is one slice.
    """
    t0, t1 = start[1], end[1]
    inside = [b for b in ticks if t0 + MIN_SLICE_S <= b[1] <= t1 - MIN_SLICE_S]
    chosen: list[Boundary] = []
    for i in range(1, slices):
        if not inside:
            break
        target = t0 + i * (t1 - t0) / slices
        best = min(inside, key=lambda b: abs(b[1] - target))
        last = chosen[-1][1] if chosen else t0
        if best[1] - last >= MIN_SLICE_S:
            chosen.append(best)
    return [start, *chosen, end]


def grid_boundaries(start: Boundary, end: Boundary, ticks: list[Boundary], count: int) -> list[Boundary]:
    """A soak's slice boundaries: ``start``, the first ``count - 1`` ticks strictly inside the window, ``end``
    (the last slice runs on to the window's end)."""
    inside = [b for b in ticks if start[1] + MIN_SLICE_S <= b[1] <= end[1] - MIN_SLICE_S]
    return [start, *inside[: max(count - 1, 0)], end]


def equal_bounds(start: float, end: float, slices: int = SLICES) -> list[float]:
    """``slices`` equal slices of [start, end] (for a window measured after the fact, e.g. an import)."""
    width = (end - start) / slices
    return [start + i * width for i in range(slices)] + [end]


def token_events(records: list[RequestRecord]) -> list[tuple[float, float]]:
    """(time, tokens) of every token event of the successful requests (output tokens spread evenly)."""
    out: list[tuple[float, float]] = []
    for r in records:
        if r.ok and r.output_tokens and r.token_times:
            share = r.output_tokens / len(r.token_times)
            out.extend((t, share) for t in r.token_times)
    return out


def attribute(events: list[tuple[float, float]], bounds: list[float]) -> list[float]:
    """Tokens per slice ``[bounds[i], bounds[i + 1])`` by event time; events outside count nowhere."""
    counts = [0.0] * (len(bounds) - 1)
    if not counts:
        return counts
    for t, n in events:
        if bounds[0] <= t < bounds[-1]:
            counts[min(bisect.bisect_right(bounds, t) - 1, len(counts) - 1)] += n
    return counts

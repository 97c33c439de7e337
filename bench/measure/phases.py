"""A run's timed phases and measured windows, each bounded by markers on the sampler.

Every front end that measures in windows shares these: the runner, the pytest-benchmark
plugin, and the record builder (:func:`bench.measure.runrecord.measured_run`) that reads
the phases back. Windows are contiguous: one marker per boundary, set right after the last
step of the window before it returned (steps synchronise their device).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bench.errors import VerificationError
from bench.power.sampler import Sampler
from bench.record import Phase
from bench.workload import Workload, synchronize

ProgressFn = Callable[[str, float], None]


def noop(phase: str, fraction: float) -> None:
    pass


class Phases:
    """Timed phases of one run, each bounded by markers on the sampler (when there is one).

    ``t_ref`` is the run's start; phase times are recorded in seconds from it.
    """

    def __init__(self, tag: str, device: str, sampler: Sampler | None, progress: ProgressFn = noop) -> None:
        self.tag = tag
        self.device = device
        self.sampler = sampler
        self.progress = progress
        self.phases: list[Phase] = []
        self.t_ref = self.mark("run/start")

    def mark(self, name: str) -> float:
        """Set the marker ``<tag>/<name>`` now; returns its time."""
        return self.sampler.mark(f"{self.tag}/{name}") if self.sampler else time.monotonic()

    def marker_name(self, name: str) -> str:
        """The sampler's name of the marker ``name`` of this run."""
        return f"{self.tag}/{name}"

    def _record(self, name: str, t0: float, t1: float) -> None:
        self.phases.append(Phase(name=name, start=round(t0 - self.t_ref, 4), end=round(t1 - self.t_ref, 4)))

    def idle(self, name: str, seconds: float) -> None:
        """Wait ``seconds`` with the device idle, between the markers ``<name>/start`` and ``<name>/end``."""
        t0 = self.mark(f"{name}/start")
        while (left := seconds - (time.monotonic() - t0)) > 0:
            time.sleep(min(0.05, left))
            self.progress(name, min(1.0, (time.monotonic() - t0) / seconds))
        self._record(name, t0, self.mark(f"{name}/end"))

    def work(self, name: str, step: Callable[[], int], *, seconds: float | None = None, steps: int | None = None,
             start: tuple[str, float] | None = None, end: str | None = None) -> tuple[float, float, int]:
        """Call ``step`` for ``seconds`` (or ``steps`` times); return (start, end, units done).

        ``start`` reuses a marker already set (the end of the window before: windows
        are contiguous); ``end`` names the end marker (default ``<name>/end``).
        """
        t0 = start[1] if start else self.mark(f"{name}/start")
        done = calls = 0
        while (seconds is not None and time.monotonic() - t0 < seconds) or (steps is not None and calls < steps):
            done += step()
            calls += 1
            if seconds:
                self.progress(name, min(1.0, (time.monotonic() - t0) / seconds))
        synchronize(self.device)  # steps synchronise already; the end marker must follow the device
        t1 = self.mark(end or f"{name}/end")
        self._record(name, t0, t1)
        return t0, t1, done


@dataclass
class Windows:
    """Units and durations of the measured windows so far, with their marker names."""

    units: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    markers: list[tuple[str, str]] = field(default_factory=list)
    last_end: float = 0.0

    def measure(self, phases: Phases, step: Callable[[], int], *, seconds: float | None = None,
                steps: int | None = None) -> None:
        """One more window, starting at the end marker of the last one (contiguous windows)."""
        i = len(self.units)
        start_name = f"window-{i}"
        start = (start_name, phases.mark(start_name) if i == 0 else self.last_end)
        t0, t1, done = phases.work(f"window-{i}", step, seconds=seconds, steps=steps, start=start,
                                   end=f"window-{i + 1}")
        self.last_end = t1
        self.units.append(float(done))
        self.durations.append(t1 - t0)
        self.markers.append((phases.marker_name(f"window-{i}"), phases.marker_name(f"window-{i + 1}")))


def prepare(workload: Workload, device: str, params: Mapping[str, object]) -> str | None:
    """Set up and verify; the reason it failed, or None. A workload that fails is never timed."""
    try:
        workload.setup(device, dict(params))
        workload.verify()
    except VerificationError as exc:
        return f"verification failed: {exc}"
    except Exception as exc:  # a broken workload must not take the suite down
        return f"setup failed: {type(exc).__name__}: {exc}"
    return None

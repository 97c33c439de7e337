"""``sitebench run --soak DURATION``: one run per workload measured in consecutive windows for hours.

:func:`plan_soak` turns the options into a :class:`~bench.measure.soak.SoakSpec` and the timing that
measures it (``repeats`` = the windows that cover the soak; ``--repeats`` is refused beside it), checked
against what one run record holds before anything starts. While the soak runs, :class:`SoakLog` stands
between the runner and the journal: every window still goes to the journal as it completes, and the
running throughput drift (:class:`bench.drift.Tracker`, constant memory) goes to the run's progress bar.
The record's ``soak`` block is built from the run's windows when it ends (:meth:`RunSpec.record
<bench.run.runner.RunSpec.record>`), before the journal takes the run.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.drift import Tracker, percent
from bench.measure import soak
from bench.measure.runrecord import RunHead
from bench.measure.soak import SoakSpec
from bench.power.meter import Meter
from bench.record import Run, Timing
from bench.run.runner import RunLog


def plan_soak(text: str | None, window_s: float | None, repeats: int | None, threshold_pct: float | None,
              base: Timing) -> SoakSpec | None:
    """The soak ``--soak`` asks for (None without it), in windows of ``--window`` or of the preset's
    (:func:`bench.measure.soak.from_options`)."""
    return soak.from_options(text, window_s, repeats, threshold_pct, base.window_s)


def soak_timing(timing: Timing, spec: SoakSpec) -> Timing:
    """``timing`` measuring the soak: its window length and as many windows as cover it."""
    return timing.model_copy(update={"window_s": spec.window_s, "repeats": spec.windows})


def check_capacity(spec: SoakSpec, timing: Timing, meters: list[Meter], rate_hz: float) -> None:
    """Refuse a soak whose power trace, at the rate the sampler will poll ``meters``, a run record cannot hold."""
    soak.check_meters(spec, meters, rate_hz, timing.idle_s + timing.warmup_s + timing.tail_s,
                      option=f"--soak (--sample-hz {rate_hz:g})")


Update = Callable[[str], None]


class SoakLog:
    """The runner's log during a soak: the journal's, plus the running drift for the progress display."""

    def __init__(self, journal: RunLog | None, update: Update, threshold: float) -> None:
        self.journal = journal
        self.update = update
        self.threshold = threshold
        self.tracker = Tracker(threshold)
        self.elapsed = 0.0

    def run_start(self, head: RunHead, tag: str) -> None:
        """A run begins: its drift starts afresh."""
        self.tracker, self.elapsed = Tracker(self.threshold), 0.0
        if self.journal is not None:
            self.journal.run_start(head, tag)

    def window(self, tag: str, index: int, units: float, duration_s: float) -> None:
        """A window completed (windows are contiguous: its mid-time is the durations so far)."""
        if self.journal is not None:
            self.journal.window(tag, index, units, duration_s)
        if duration_s > 0:
            self.tracker.add(self.elapsed + duration_s / 2, units / duration_s)
        self.elapsed += duration_s
        est = self.tracker.estimate()
        self.update(f"drift {percent(est)}" + (f" {est.verdict}" if est is not None and est.low is not None else ""))

    def run(self, run: Run) -> None:
        """A run's record, for the journal."""
        if self.journal is not None:
            self.journal.run(run)

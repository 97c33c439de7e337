"""The runner: idle baseline -> setup -> verify -> warm-up -> measured windows -> idle tail.

Phase execution lives in :class:`bench.measure.phases.Phases`; the record of a finished run is built
by :func:`bench.measure.runrecord.measured_run`. Power and throughput come from the
same windows: the windows are contiguous, and one phase marker (with a reading
of every meter) is set at each boundary, right after the last step of the
window before it returned (steps synchronise their device). Every window's
throughput is kept; no best-of-N.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from bench.measure.contention import Busy, snapshot
from bench.measure.phases import Phases, ProgressFn, Windows, noop, prepare
from bench.measure.runrecord import RunHead, measured_run
from bench.measure.soak import SoakSpec, with_soak
from bench.power.sampler import Sampler
from bench.record import Run, Timing, failed_run, utc_now
from bench.record.run import Status
from bench.record.setting import Setting
from bench.run.overlimit import judged
from bench.workload import Workload

#: Phase timings per preset. ``ci`` finishes the default suite in well under a
#: minute on 2 cores; ``full`` measures 10 minutes per workload, as MLPerf Power asks.
TIMINGS: dict[str, Timing] = {
    "ci": Timing(idle_s=0.5, warmup_s=0.5, window_s=1.0, repeats=3, tail_s=0.3),
    "full": Timing(idle_s=10.0, warmup_s=30.0, window_s=120.0, repeats=5, tail_s=10.0),
}

@dataclass
class Outcome:
    """A finished run, and the interrupt (Ctrl-C or a stop signal) that ended it early, if any."""

    run: Run
    stopped: KeyboardInterrupt | None = None


AlignFn = Callable[[str], bool]


class RunLog(Protocol):
    """Where a run reports its progress as it happens (the journal): start, each window, the record."""

    def run_start(self, head: RunHead, tag: str) -> None: ...

    def window(self, tag: str, index: int, units: float, duration_s: float) -> None: ...

    def run(self, run: Run) -> None: ...


def run_workload(workload: Workload, device: str, params: Mapping[str, object], timing: Timing,
                 sampler: Sampler | None, *, preset: str | None = None, progress: ProgressFn = noop,
                 align: AlignFn | None = None, log: RunLog | None = None) -> Outcome:
    """Run one workload through every phase and return its record.

    A workload that fails setup or verification is never timed (``status:
    "failed"``). Ctrl-C or a stop signal during the run ends it with ``status:
    "interrupted"`` and whatever windows completed; the outcome says so.
    ``align`` (a fleet's barrier) is called after the warm-up, right before the
    measured windows, so every rank measures the same span. ``log`` (the journal) hears of
    the run's start and each window as they complete.
    """
    head = RunHead(workload=workload.name, device=device, unit=workload.unit, params=dict(params), preset=preset,
                   started=utc_now())
    phases = Phases(f"{workload.name}@{device}", device, sampler, progress)
    if log is not None:
        log.run_start(head, phases.tag)
    wins = Windows()
    status: Status = "ok"
    error: str | None = None
    stopped: KeyboardInterrupt | None = None
    metrics: dict[str, object] = {}
    ceiling = None
    verified = False
    busy = Busy()
    try:
        busy.idle_start = snapshot()
        phases.idle("idle", timing.idle_s)
        busy.fit_threads(device)
        progress("setup", 0.0)
        failure = prepare(workload, device, params)
        if failure:
            return Outcome(head.failed("failed", failure))
        verified = True
        ceiling = workload.ceiling(device)
        phases.work("warmup", workload.step, seconds=timing.warmup_s)
        if align is not None and not align(workload.name):
            metrics["fleet_aligned"] = False
        workload.reset_metrics()
        busy.start = snapshot()
        for i in range(timing.repeats):
            wins.measure(phases, workload.step, seconds=timing.window_s)
            busy.end = snapshot()
            if log is not None:
                log.window(phases.tag, i, wins.units[-1], wins.durations[-1])
        metrics = {**workload.metrics(), **metrics}
        phases.idle("tail", timing.tail_s)
    except KeyboardInterrupt as exc:
        status, error, stopped = "interrupted", f"interrupted ({exc or 'Ctrl-C'})", exc
    except Exception as exc:  # out of memory at one sweep point, a crashing kernel: record it, go on
        status, error = "failed", f"step failed: {type(exc).__name__}: {exc}"
    finally:
        _teardown(workload)
        busy.restore_threads()
    if not wins.units:
        run = head.failed(status if status != "ok" else "failed", error or "no measured window", verified=verified)
    else:
        run = measured_run(head, wins.units, wins.durations, sampler=sampler, t_ref=phases.t_ref,
                           windows=wins.markers, phases=phases, tail=status == "ok", status=status, error=error,
                           verified=verified, ceiling=ceiling, metrics=metrics)
        run = busy.record(run)
    if sampler:
        sampler.trim()  # this run's power block is built: memory holds one run at a time
    return Outcome(run, stopped)


def _teardown(workload: Workload) -> None:
    try:
        workload.teardown()
    except Exception:
        pass
    gc.collect()


@dataclass(frozen=True)
class RunSpec:
    """One workload on one device with its parameters.

    ``failed`` is set for a sweep point refused before running (e.g. a model
    that does not fit in device memory at that batch): it is recorded as a
    failed run with that reason and the sweep goes on. ``setting`` is the
    operating point a knob sweep set before this run (``run --power-limit``):
    its record carries it, judged against the run's measured power. ``soak``
    (``run --soak``): the record carries its soak block, from its windows.
    """

    workload: Workload
    device: str
    params: dict[str, object]
    preset: str | None = None
    failed: str | None = None
    setting: Setting | None = None
    soak: SoakSpec | None = None

    def record(self, run: Run) -> Run:
        """``run`` with this spec's setting (over its limit or not) and soak block, as the journal and the file
        keep it."""
        run = with_soak(run, self.soak)
        return run if self.setting is None else run.model_copy(update={"setting": judged(run, self.setting)})


@dataclass
class SuiteOutcome:
    """Every run recorded, and the interrupt that stopped the suite before its end, if any."""

    runs: list[Run]
    stopped: KeyboardInterrupt | None = None

    @property
    def interrupted(self) -> bool:
        """True when the suite did not run to its end."""
        return self.stopped is not None

    def stop(self, exc: KeyboardInterrupt, specs: list[RunSpec], log: RunLog | None = None) -> None:
        """A stop signal outside any run's measurement: the next run, if any, is recorded as interrupted."""
        self.stopped = self.stopped or exc
        if len(self.runs) < len(specs):
            spec = specs[len(self.runs)]
            run = spec.record(RunHead(workload=spec.workload.name, device=spec.device, unit=spec.workload.unit,
                                      params=spec.params, preset=spec.preset, started=utc_now()).failed(
                "interrupted", f"interrupted before it started measuring ({exc or 'Ctrl-C'})"))
            self.runs.append(run)
            if log is not None:
                log.run(run)


def run_suite(specs: list[RunSpec], timing: Timing, sampler: Sampler | None,
              progress: Callable[[RunSpec], ProgressFn] | None = None,
              log: RunLog | None = None, align: AlignFn | None = None) -> SuiteOutcome:
    """Run every spec in order; ``log`` (the journal) gets each record the moment it is complete.

    After Ctrl-C or a stop signal the suite ends with the interrupted run recorded.
    """
    out = SuiteOutcome([])
    try:
        for i, spec in enumerate(specs):
            # the barrier's name must be the same on every rank, whose devices differ
            aligned = (lambda name, i=i: align(f"{i}/{name}")) if align else None
            if spec.failed:
                head = RunHead(workload=spec.workload.name, device=spec.device, unit=spec.workload.unit,
                               params=spec.params, preset=spec.preset, started=utc_now())
                outcome = Outcome(head.failed("failed", spec.failed))
            else:
                outcome = run_workload(spec.workload, spec.device, spec.params, timing, sampler, preset=spec.preset,
                                       progress=progress(spec) if progress else noop, align=aligned, log=log)
            run = spec.record(outcome.run)
            out.runs.append(run)
            if log is not None:
                log.run(run)
            if outcome.stopped is not None:
                out.stopped = outcome.stopped
                break
    except KeyboardInterrupt as exc:  # between two runs, or as one starts: the next is recorded as interrupted
        out.stop(exc, specs, log)
    return out


__all__ = ["TIMINGS", "Outcome", "Phases", "RunSpec", "SuiteOutcome", "Timing", "Windows", "failed_run",
           "prepare", "run_suite", "run_workload"]

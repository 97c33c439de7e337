"""One ``sitebench run`` from start to file: meters, journal, sampler, the suite, a fleet's gather, the write.

Nothing measured is lost: the journal receives every reading and, the moment
each run completes, its record (synced); Ctrl-C, SIGTERM and SIGHUP end the
run in progress as ``interrupted`` and the file is still written; a journal
left at the same ``--out`` by a run that was killed is moved aside, never
appended to or deleted.

A knob sweep (``--power-limit``) changes the machine, so it is put back on every way out: its
originals are journaled (synced) before the first change, and once the measurement ends, however
it ends (the last point, Ctrl-C, SIGTERM, SIGHUP, an error), every knob is restored while stop
signals are held, so a second signal cannot skip it. A knob that cannot be restored keeps the
journal (``sitebench recover`` tries again) and fails the command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import console
from bench.measure import system
from bench.measure.journal import Journal, journal_path, prepare_out
from bench.measure.soak import SoakSpec
from bench.measure.stopsignals import stop_signals
from bench.power.discovery import Unavailable
from bench.power.knobs.guard import KnobGuard
from bench.power.meter import Meter
from bench.power.sampler import Sampler
from bench.power.thermal.sampler import ThermalSampler
from bench.power.thermal.source import ThermalSource
from bench.record import Document, Settings, Timing, new_document, write_result
from bench.record import Unavailable as UnavailableRecord
from bench.run.progress import progress_for, run_progress, trend_updater
from bench.run.ranks import Fleet
from bench.run.runner import RunLog, RunSpec, SuiteOutcome, run_suite
from bench.run.soak import SoakLog
from bench.run.sweep import Sweep, run_sweep
from bench.validation.signing import sign_document


@dataclass
class RunPlan:
    """Everything a run needs, checked before it starts."""

    specs: list[RunSpec]
    timing: Timing
    preset: str
    out: Path
    meters: list[Meter]
    unavailable: list[Unavailable]
    rate_hz: float = 10.0
    quiet: bool = False
    sign: str | None = None
    fleet: object | None = None
    sweep: Sweep | None = None
    #: temperature sources read beside the meters (--thermal), per window in each run's thermal block
    thermal: list[ThermalSource] = field(default_factory=list)
    #: --soak: every run measured in consecutive windows for this long, its drift shown as it goes
    soak: SoakSpec | None = None


@dataclass
class Outcome:
    """The document written (None on a fleet rank that is not rank 0) and how the run ended."""

    doc: Document | None
    out: Path
    stopped: KeyboardInterrupt | None = None
    #: Knobs put back after a sweep (one line each) and those that could not be (the journal is kept).
    restored: list[str] = field(default_factory=list)
    not_restored: list[str] = field(default_factory=list)


def _settings(plan: RunPlan, sampler: Sampler) -> Settings:
    return Settings(preset=plan.preset, timing=plan.timing, sample_rate_hz=sampler.rate_hz,
                    sampler_notes=[n[:2000] for n in sampler.notes], soak=plan.soak.record() if plan.soak else None,
                    meters_unavailable=[UnavailableRecord(name=u.name, reason=u.reason[:2000]) for u in plan.unavailable])


def _synced(journal: Journal) -> Any:
    def write(record: dict[str, Any]) -> None:
        journal.write(record)
        journal.sync()
    return write


def _say(line: str) -> None:
    console.err().print(f"sweep: {line}", markup=False)


def _restore(knobs: KnobGuard) -> list[str]:
    """Put every knob back; one line per knob restored."""
    held = {label: (f"{original:g} {knob.unit}" if isinstance(original, (int, float)) else str(original))
            for label, (knob, original) in knobs.originals.items()}
    knobs.restore_all()
    return [f"{label}: restored to {held[label]}" for label in knobs.restored if label in held]


def execute(plan: RunPlan) -> Outcome:
    """Run the plan's specs (at each point of its sweep) while sampling power, journal everything, put every
    knob back, write the result file."""

    fleet = plan.fleet if isinstance(plan.fleet, Fleet) else None
    notes = prepare_out(plan.out)
    journal = Journal(journal_path(plan.out))
    sampler = Sampler(plan.meters, rate_hz=plan.rate_hz, journal=journal,
                      thermal=ThermalSampler(plan.thermal) if plan.thermal else None)
    for note in [*notes, *sampler.notes]:
        console.err().print(f"[yellow]note:[/yellow] {note}")
    doc = new_document(system.describe(), settings=_settings(plan, sampler))
    journal.header(doc, [m.figure() for m in plan.meters])
    progress = run_progress(console.err(), plan.quiet)
    log: RunLog = journal if plan.soak is None else SoakLog(journal, trend_updater(progress), plan.soak.threshold)
    suite = SuiteOutcome([])
    knobs = KnobGuard(_synced(journal))
    restored: list[str] = []
    with stop_signals() as guard:
        try:
            sampler.start()
            with progress:
                align = fleet.align if fleet is not None else None
                if plan.sweep is not None:
                    suite = run_sweep(plan.sweep, plan.specs, plan.timing, sampler, knobs,
                                      progress=progress_for(progress, plan.timing), log=log, align=align,
                                      say=_say)
                else:
                    suite = run_suite(plan.specs, plan.timing, sampler, progress_for(progress, plan.timing),
                                      log=log, align=align)
        except KeyboardInterrupt as exc:  # just before the suite began or just after it returned
            suite.stop(exc, plan.specs, journal)
        finally:
            guard.hold()  # whatever arrives now waits until the knobs are back and the file is written
            try:
                restored = _restore(knobs)
            finally:
                sampler.stop()
        for line in restored:
            _say(line)
        for line in knobs.failures:
            console.err().print(f"NOT RESTORED: {line}", markup=False, style="red")
        keep = bool(knobs.failures)  # recover tries again from the journal
        doc = doc.model_copy(update={"runs": suite.runs})
        stopped = suite.stopped or guard.pending
        if fleet is not None:
            gathered = fleet.collect(doc)
            if gathered is None:  # not rank 0: rank 0 writes the fleet's file
                written = fleet.wait_written()
                journal.close(remove=written and not keep)
                if not written:
                    console.err().print(f"[yellow]note:[/yellow] rank 0 did not confirm the fleet file: this rank's "
                                        f"runs stay in {journal.path} (sitebench recover)")
                return Outcome(None, plan.out, stopped, restored, list(knobs.failures))
            doc = gathered
        if plan.sign:

            doc = sign_document(doc, plan.sign)
        write_result(plan.out, doc)
        if fleet is not None:
            fleet.confirm_written()
        journal.close(remove=not keep)
        if keep:
            console.err().print(f"the journal is kept: put the knobs back with: sitebench recover {journal.path}",
                                markup=False)
        return Outcome(doc, plan.out, stopped or guard.pending, restored, list(knobs.failures))

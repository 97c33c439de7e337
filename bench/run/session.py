"""One ``sitebench run`` from start to file: meters, journal, sampler, the suite, a fleet's gather, the write.

Nothing measured is lost: the journal receives every reading and, the moment
each run completes, its record (synced); Ctrl-C, SIGTERM and SIGHUP end the
run in progress as ``interrupted`` and the file is still written; a journal
left at the same ``--out`` by a run that was killed is moved aside, never
appended to or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench import console
from bench.measure import system
from bench.measure.journal import Journal, journal_path, prepare_out
from bench.measure.stopsignals import stop_signals
from bench.power.discovery import Unavailable
from bench.power.meter import Meter
from bench.power.sampler import Sampler
from bench.record import Document, Settings, Timing, new_document, write_result
from bench.record import Unavailable as UnavailableRecord
from bench.run.progress import progress_for, run_progress
from bench.run.ranks import Fleet
from bench.run.runner import RunSpec, SuiteOutcome, run_suite
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


@dataclass
class Outcome:
    """The document written (None on a fleet rank that is not rank 0) and how the run ended."""

    doc: Document | None
    out: Path
    stopped: KeyboardInterrupt | None = None


def _settings(plan: RunPlan, sampler: Sampler) -> Settings:
    return Settings(preset=plan.preset, timing=plan.timing, sample_rate_hz=sampler.rate_hz,
                    sampler_notes=[n[:2000] for n in sampler.notes],
                    meters_unavailable=[UnavailableRecord(name=u.name, reason=u.reason[:2000]) for u in plan.unavailable])


def execute(plan: RunPlan) -> Outcome:
    """Run the plan's specs while sampling power, journal everything, write the result file."""

    fleet = plan.fleet if isinstance(plan.fleet, Fleet) else None
    notes = prepare_out(plan.out)
    journal = Journal(journal_path(plan.out))
    sampler = Sampler(plan.meters, rate_hz=plan.rate_hz, journal=journal)
    for note in [*notes, *sampler.notes]:
        console.err().print(f"[yellow]note:[/yellow] {note}")
    doc = new_document(system.describe(), settings=_settings(plan, sampler))
    journal.header(doc, [m.figure() for m in plan.meters])
    progress = run_progress(console.err(), plan.quiet)
    suite = SuiteOutcome([])
    with stop_signals() as guard:
        try:
            sampler.start()
            with progress:
                suite = run_suite(plan.specs, plan.timing, sampler, progress_for(progress, plan.timing),
                                  log=journal, align=fleet.align if fleet is not None else None)
        except KeyboardInterrupt as exc:  # just before the suite began or just after it returned
            suite.stop(exc, plan.specs, journal)
        finally:
            guard.hold()  # whatever arrives now waits until the file is written
            sampler.stop()
        doc = doc.model_copy(update={"runs": suite.runs})
        stopped = suite.stopped or guard.pending
        if fleet is not None:
            gathered = fleet.collect(doc)
            if gathered is None:  # not rank 0: rank 0 writes the fleet's file
                written = fleet.wait_written()
                journal.close(remove=written)
                if not written:
                    console.err().print(f"[yellow]note:[/yellow] rank 0 did not confirm the fleet file: this rank's "
                                        f"runs stay in {journal.path} (sitebench recover)")
                return Outcome(None, plan.out, stopped)
            doc = gathered
        if plan.sign:

            doc = sign_document(doc, plan.sign)
        write_result(plan.out, doc)
        if fleet is not None:
            fleet.confirm_written()
        journal.close(remove=True)
        return Outcome(doc, plan.out, stopped or guard.pending)

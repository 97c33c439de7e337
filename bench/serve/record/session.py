"""One ``sitebench serve`` from the server's probe to the result file, as :mod:`bench.run.session` does for ``run``.

Nothing measured is lost: the journal beside ``--out`` (``<out>.journal.jsonl``) gets a header
(the document, the meters), every power reading and marker through the sampler, a ``run-start``
line as each load point begins and its ``run`` line (synced) the moment it ends. SIGTERM, SIGHUP
and Ctrl-C stop the load in progress: the requests in flight are cancelled, that point is
recorded ``interrupted`` with the slices of its steady window that completed, no further point
starts, the file is written, and the exit code is 128 + the signal (130 for Ctrl-C). After a
SIGKILL or a crash, ``sitebench recover`` rebuilds the file from the journal: completed points as
recorded, the point in progress ``interrupted`` (its tokens are known only once every request
ends, so it comes back without windows). A journal left at the same ``--out`` is moved aside.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bench import console
from bench.errors import Stopped
from bench.measure import system
from bench.measure.journal import Journal, journal_path, prepare_out
from bench.measure.runrecord import RunHead
from bench.power.sampler import Sampler
from bench.record import Document, Run, Settings, new_document, write_result
from bench.record.io import first_error
from bench.serve.measure.outcome import LoadPoint, Progress, ServeMeasurement, ServeSettings, Setup, measure_all
from bench.serve.record.runrecord import run_head, to_run_record

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class ServePlan:
    """A checked ``sitebench serve``: what to send, at which points, measured by which meters, written where."""

    settings: ServeSettings
    points: list[LoadPoint]
    out: Path
    meters: list[Any]
    rate_hz: float = 10.0
    notes: list[str] = field(default_factory=list)
    no_power_reason: str = "no power meter"


@dataclass
class ServeOutcome:
    """The document written, the measurements behind it and the interrupt that ended the sweep early, if any."""

    doc: Document
    measurements: list[ServeMeasurement]
    out: Path
    stopped: KeyboardInterrupt | None = None


def run_until_stopped(make: Callable[[asyncio.Event], Coroutine[Any, Any, Any]]) -> tuple[Any, int | None]:
    """Run ``make(stop)`` on a fresh loop; SIGINT, SIGTERM and SIGHUP set ``stop`` instead of killing.

    Returns the coroutine's result and the first signal received (None without one). The
    handlers in place before are restored afterwards.
    """
    box: list[Any] = []
    received: list[int] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        def on_signal(signum: int) -> None:
            received.append(signum)
            stop.set()

        previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
        installed = []
        for s in STOP_SIGNALS:
            try:
                loop.add_signal_handler(s, on_signal, s)
                installed.append(s)
            except (ValueError, RuntimeError, NotImplementedError):  # not the main thread
                pass
        try:
            box.append(await make(stop))
        finally:
            for s in installed:
                loop.remove_signal_handler(s)
                signal.signal(s, previous[s])

    asyncio.run(main())
    return box[0], received[0] if received else None


def _stopped(signum: int | None) -> KeyboardInterrupt | None:
    if signum is None:
        return None
    return KeyboardInterrupt() if signum == signal.SIGINT else Stopped(signum)


def execute(plan: ServePlan, setup: Setup, progress: Progress | None = None) -> ServeOutcome:
    """Measure every point with the journal open, then write the result file (also when interrupted)."""
    notes = prepare_out(plan.out)
    journal = Journal(journal_path(plan.out))
    sampler = Sampler(plan.meters, rate_hz=plan.rate_hz, journal=journal)
    for note in [*notes, *sampler.notes]:
        console.err().print(f"[yellow]note:[/yellow] {note}")
    doc = new_document(system.describe(), settings=Settings(
        sample_rate_hz=sampler.rate_hz, sampler_notes=[n[:2000] for n in [*sampler.notes, *plan.notes]]))
    journal.header(doc, [m.figure() for m in plan.meters])
    heads: dict[LoadPoint, RunHead] = {}
    runs: list[Run] = []

    def before(point: LoadPoint) -> None:
        heads[point] = run_head(setup, plan.settings, point, plan.meters)
        journal.run_start(heads[point], f"serve/{point.label}")

    def after(m: ServeMeasurement) -> None:
        try:
            run = to_run_record(m, heads[m.point], plan.no_power_reason)
        except ValidationError as exc:  # a figure out of the record's bounds: the point is kept, as failed
            run = heads[m.point].failed("failed", f"the run record refused a figure: {first_error(exc)}")
        runs.append(run)
        journal.run(run)

    sampler.start()
    try:
        measurements, signum = run_until_stopped(lambda stop: measure_all(
            setup, plan.settings, plan.points, sampler=sampler, progress=progress, before=before, after=after,
            stop=stop))
    finally:
        sampler.stop()
    doc = doc.model_copy(update={"runs": runs})
    write_result(plan.out, doc)
    journal.close(remove=True)
    return ServeOutcome(doc, measurements, plan.out, _stopped(signum))

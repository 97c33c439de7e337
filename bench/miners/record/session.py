"""``sitebench miners run`` from addresses to result file: find, measure, journal, write; or sweep a knob.

Order: the miners are identified (:func:`bench.miners.protocol.scan.scan`: a named address that is not
a miner is a failed run with the reason, the others go on); their outlet meters are opened (one
request per PDU, :mod:`bench.power.meters.outlets`); then every miner is polled until it has its windows
(:func:`bench.miners.measure.outcome.measure`) while a sampler reads the outlets. Nothing measured is
lost: the journal (:mod:`bench.miners.measure.journal`) takes every poll and outlet reading as it comes
and each miner's record, synced, as soon as it is complete; SIGINT, SIGTERM and SIGHUP end the
polling, the miners short of windows are recorded ``interrupted`` and the file is still written
(the caller exits 128 + the signal number); after SIGKILL, ``sitebench recover`` rebuilds it. The room's
air (``--thermal``: a rack PDU's environmental probe) is polled beside them, journaled as it is read, and
leads each miner's thermal block over that miner's windows.

A sweep (``--power-target 2400,2800,stock``) is one run per miner per point. Before anything changes,
each miner's knob is chosen by its firmware (:func:`bench.miners.protocol.knobs.miner_knob`), every point
resolved on it and checked against its range, and the permission it needs checked
(:func:`bench.power.knobs.guard.check_before_change`): any refusal is one line, exit 2, nothing changed.
Then, point by point: every knob is set through one :class:`~bench.power.knobs.guard.KnobGuard` (the
original read, journaled and synced first), the miners are left ``settle_s`` to retune, and measured as
usual (warm-up, windows, verification), each run carrying its :class:`~bench.record.Setting` (the value
asked for, read back, the original, whether it is stock, and whether the measured power went over the
limit beyond its accuracy, :func:`judged`). A miner whose knob fails mid-sweep is a failed run at that
point and is not swept further. The guard puts every knob back when the sweep ends, however it ends (the
last point, a stop signal, an error); after SIGKILL, ``sitebench recover`` does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.markup import escape

from bench import console
from bench.errors import UsageError
from bench.measure import system
from bench.measure.journal import journal_path, prepare_out
from bench.measure.runrecord import RunHead
from bench.miners.measure.journal import MinersJournal
from bench.miners.measure.outcome import Plan, analyse, measure
from bench.miners.measure.trend import SoakTrend
from bench.miners.protocol.client import MinerClient
from bench.miners.protocol.knobs import miner_knob
from bench.miners.protocol.model import Sample
from bench.miners.protocol.scan import ScanResult, scan
from bench.miners.protocol.transport import DEFAULT_TIMEOUT_S, LIMITS, Limits
from bench.miners.record.overlimit import judged
from bench.miners.record.runrecord import UNIT, WORKLOAD, OutletLog, device, head, miner_run
from bench.miners.record.sink import ShardSink
from bench.power.knobs.guard import KnobGuard, check_before_change
from bench.power.knobs.knob import Knob, KnobFailed, KnobRefused, Value
from bench.power.meter import Meter
from bench.power.meters.outlets import OutletEntry, open_outlets
from bench.power.sampler import Sampler
from bench.power.thermal.sampler import ThermalSampler
from bench.power.thermal.source import ThermalSource
from bench.record import Document, Run, Settings, Timing, new_document, utc_now, write_result
from bench.record.setting import Setting

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class Request:
    """A checked ``miners run``: what to measure, how, and where the file goes; ``points``: a sweep's
    points as given (``2400``, ``stock``), ``settle_s`` the wait after each change (None: the knobs' own)."""

    specs: list[str]
    plan: Plan
    out: Path
    force: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S
    concurrency: int = 256
    limits: Limits = LIMITS
    outlet_map: dict[str, OutletEntry] | None = None
    wall_meter: Meter | None = None
    points: list[str] | None = None
    settle_s: float | None = None
    #: A shard of a fleet run (bench.miners.fleet): every sample as it comes, and the file it writes.
    sink: ShardSink | None = None
    #: ``--thermal``: sources of the room's air (a rack PDU's probe), polled beside the miners, journaled, and
    #: in every miner's thermal block over its own windows.
    thermal: list[ThermalSource] = field(default_factory=list)


@dataclass
class Outcome:
    """The document written, the signal that ended polling early (None: it ran out), the notes; and for a sweep,
    the knobs that could not be put back (one line each, naming the miner)."""

    doc: Document
    out: Path
    signum: int | None = None
    notes: list[str] = field(default_factory=list)
    not_restored: list[str] = field(default_factory=list)


@dataclass
class Tuned:
    """One miner of a sweep: its client and knob, the value of each point on it, its stock value; ``dropped``
    says why it is swept no further (its knob failed)."""

    client: MinerClient
    knob: Knob
    values: list[Value]
    stock: Value
    dropped: str | None = None


def _not_measured(host: str, error: str, result: ScanResult | None = None) -> Run:
    if result is not None and result.identity is not None:
        return head(result.identity, [result.poll] if result.poll else []).failed("failed", error)
    return RunHead(workload=WORKLOAD, device=f"asic:{host}", unit=UNIT).failed("failed", error)


async def _identify(req: Request, notes: list[str]) -> tuple[list[ScanResult], list[Run]]:
    results = await scan(req.specs, force=req.force, concurrency=req.concurrency, timeout_s=req.timeout_s,
                         limits=req.limits)
    found = [r for r in results if r.identity is not None]
    named = [r for r in results if r.identity is None and r.target.named]
    silent = len(results) - len(found) - len(named)
    if silent:
        notes.append(f"{silent} address(es) in the ranges given are not miners (refused, silent or another service)")
    if not found:
        why = "; ".join(str(r.error) for r in named[:3]) or "no address in the ranges answered as a miner"
        raise UsageError(f"no miner to measure: {why}")
    return found, [_not_measured(r.target.host, str(r.error)) for r in named]


async def _prepare(req: Request, found: list[ScanResult], notes: list[str]) -> tuple[dict[str, Meter], list[Run]]:
    """Outlet meters by miner address, and the miners that cannot be measured (PDU silent)."""
    failed: list[Run] = []
    meters: dict[str, Meter] = {}
    if req.wall_meter is not None:
        meters[found[0].client.identity.address] = req.wall_meter  # type: ignore[union-attr]
    if req.outlet_map is not None:
        entries = [req.outlet_map[r.target.host] for r in found if r.target.host in req.outlet_map]
        unmapped = [r.target.host for r in found if r.target.host not in req.outlet_map]
        if unmapped:
            notes.append(f"not in the outlet map, measured without an outlet: {', '.join(unmapped[:10])}"
                         + ("..." if len(unmapped) > 10 else ""))
        opened, silent = await asyncio.to_thread(open_outlets, entries)
        if entries and not opened:
            raise UsageError(f"--outlets: no PDU could be read: {next(iter(silent.values()))}")
        by_host = {r.target.host: r for r in found}
        meters.update({by_host[host].client.identity.address: m for host, m in opened.items()})  # type: ignore[union-attr]
        failed += [_not_measured(host, reason, by_host[host]) for host, reason in silent.items()]
    return meters, failed


async def _tune(req: Request, clients: list[MinerClient]) -> tuple[list[Tuned], list[Run]]:
    """Each miner's knob with its points resolved, everything checked before anything changes; and the miners
    whose knob did not answer (failed runs: nothing was changed on them).

    Raises:
        KnobRefused: a firmware without a knob, a point out of a miner's range or not one of its modes, a
            missing permission (one line, exit 2; nothing was changed).
    """
    assert req.points is not None
    points = req.points

    def one(client: MinerClient) -> Tuned | str:
        knob = miner_knob(client.identity, req.timeout_s)
        try:
            values = [knob.resolve(word) for word in points]
            return Tuned(client, knob, values, knob.stock())
        except (KnobFailed, OSError) as exc:
            return f"its {knob.kind} could not be read, so it was not changed: {exc}"[:2000]

    def check(tuned: list[Tuned]) -> None:
        try:
            check_before_change([t.knob for t in tuned], [(t.knob, v) for t in tuned for v in t.values])
        except KnobFailed as exc:
            raise KnobRefused(str(exc)) from None

    try:
        opened = await asyncio.gather(*(asyncio.to_thread(one, c) for c in clients))
        tuned = [t for t in opened if isinstance(t, Tuned)]
        await asyncio.to_thread(check, tuned)
    except KnobRefused as exc:
        said = str(exc)
        raise KnobRefused(said if "nothing was changed" in said else f"{said}; nothing was changed") from None
    silent = [head(c.identity, []).failed("failed", t) for c, t in zip(clients, opened) if isinstance(t, str)]
    return tuned, silent


def _outlet_log(sampler: Sampler | None, meter: Meter | None) -> OutletLog | None:
    if sampler is None or meter is None:
        return None
    log = sampler.logs[meter.name]
    return OutletLog(meter, list(log.readings), list(log.gaps))


@dataclass
class _Context:
    """What every point of a run shares: the plan, journal, outlet meters and sampler, the stop signal."""

    plan: Plan
    journal: MinersJournal
    outlets: dict[str, Meter]
    sampler: Sampler | None
    params: dict[str, object]
    stop: asyncio.Event
    got: list[int]
    sink: ShardSink | None = None
    room: ThermalSampler | None = None


async def _measure(ctx: _Context, clients: Sequence[MinerClient], point: int | None = None,
                   settings: dict[str, Setting] | None = None) -> list[Run]:
    """One measurement of ``clients`` (a whole run, or one point of a sweep): its ``miners`` line, polls and runs."""
    plan = dataclasses.replace(ctx.plan, miners=max(len(clients), 1))  # the pool check's confidence, shared
    settings = settings or {}
    t_ref, started = time.monotonic(), utc_now()
    if ctx.sink is not None:
        ctx.sink.start(t_ref)
        ctx.journal.write(ctx.sink.journal_line())  # synced with the miners line: recover makes the shard's file
    outlet_of = {c.identity.address: ctx.outlets.get(c.identity.address) for c in clients}
    ctx.journal.miners(plan, t_ref, [(c.identity, o.name if o else None) for c, o in zip(clients, outlet_of.values())],
                       ctx.params, started, point, {a: s.to_json() for a, s in settings.items()})
    finished: dict[str, Run] = {}
    by_address = {c.identity.address: c for c in clients}  # a scan of the list per miner is seconds at 10,000

    def finish(address: str, samples: list[Sample], final: bool) -> None:
        client = by_address[address]
        m = analyse(client.identity, samples, plan)
        outlet = _outlet_log(ctx.sampler, outlet_of[address])
        end = m.valid_windows[-1].t_end if m.valid_windows else None
        if not final and outlet is not None and end is not None and not any(r.t > end for r in outlet.readings[-3:]):
            return  # the outlet's figure at the window's end needs a reading after it: next check
        run = miner_run(m, plan, t_ref, outlet=outlet, stopped=final and bool(ctx.got), params=ctx.params,
                        started=started, room=ctx.room)
        if address in settings:
            run = run.model_copy(update={"setting": judged(run, settings[address])})
        finished[address] = run
        ctx.journal.record(run)

    def on_tick(done: set[str], samples: dict[str, list[Sample]]) -> None:
        for address in sorted(done - set(finished)):
            finish(address, samples[address], final=False)
        ctx.journal.sync()

    def on_sample(address: str, tick: int, sample: Sample) -> None:
        ctx.journal.sample(address, tick, sample, point)
        if ctx.sink is not None:
            ctx.sink.sample(address, tick, sample)

    soak = plan.soak
    trend = SoakTrend(plan.repeats, soak.threshold, _say_trend) if soak is not None else None
    results, _ = await measure(clients, plan, on_sample, on_tick=on_tick, stop=ctx.stop,
                               on_windows=trend.update if trend is not None else None)
    for client, m in zip(clients, results):
        if client.identity.address not in finished:
            finish(client.identity.address, m.samples, final=True)
    return [finished[c.identity.address] for c in clients]


def _say_trend(line: str) -> None:
    """A soak's running drift (:mod:`bench.miners.measure.trend`), on stderr as it goes."""
    console.err().print(line, markup=False, highlight=False)


def _setting(t: Tuned, i: int, guard: KnobGuard, read_back: Value | None, settle_s: float) -> Setting:
    value = t.values[i]
    original = guard.original(t.knob)
    return Setting(knob=t.knob.kind, target=t.knob.target, unit=t.knob.unit, requested=value,
                   read_back=read_back, original=original, stock=_same(value, t.stock),
                   limit_w=t.knob.limit_w(value), settle_s=settle_s)


def _same(a: Value, b: Value) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


async def _settle(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or until a stop signal."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass


async def _sweep(ctx: _Context, req: Request, tuned: list[Tuned], guard: KnobGuard, notes: list[str]) -> list[Run]:
    """Every point in turn: set, settle, measure. Returns the runs (failed ones for knobs that failed)."""
    assert req.points is not None
    runs: list[Run] = []
    for i, word in enumerate(req.points):
        if ctx.stop.is_set():
            notes.append(f"the sweep stopped before point {i + 1} of {len(req.points)} ({word})")
            break
        active = [t for t in tuned if t.dropped is None]
        if not active:
            break
        got = await asyncio.gather(*(asyncio.to_thread(guard.apply, t.knob, t.values[i]) for t in active),
                                   return_exceptions=True)
        settle_s = req.settle_s if req.settle_s is not None else max(t.knob.settle_s for t in active)
        settings: dict[str, Setting] = {}
        for t, result in zip(active, got):
            if isinstance(result, (KnobFailed, KnobRefused, OSError)):
                t.dropped = f"{t.knob.label}: point {word} not set: {result}"[:2000]
                failed = head(t.client.identity, []).failed("failed", f"{t.dropped}; not swept further")
                runs.append(failed.model_copy(update={"setting": _setting(t, i, guard, None, 0.0)}))
            elif isinstance(result, BaseException):
                raise result
            else:
                settings[t.client.identity.address] = _setting(t, i, guard, result, settle_s)
        clients = [t.client for t in active if t.dropped is None]
        if not clients:
            continue
        await _settle(ctx.stop, settle_s)
        if ctx.stop.is_set():
            notes.append(f"the sweep stopped while point {i + 1} of {len(req.points)} ({word}) settled: not measured")
            break
        runs += await _measure(ctx, clients, i, settings)
    return runs


async def run_miners(req: Request) -> Outcome:
    """Identify, (sweep and) measure, write; see the module's docstring. Stop signals end polling, not the file;
    in a sweep every knob changed is put back before this returns or raises."""
    loop = asyncio.get_running_loop()
    stop, got = asyncio.Event(), []

    def on_signal(signum: int) -> None:
        got.append(signum)
        stop.set()

    for s in STOP_SIGNALS:
        loop.add_signal_handler(s, on_signal, s)
    notes: list[str] = []
    found, not_miners = await _identify(req, notes)
    outlet_meters, failed = await _prepare(req, found, notes)
    try:
        gone = {r.device for r in failed}
        clients = [r.client for r in found if r.client is not None and device(r.client.identity) not in gone]
        tuned: list[Tuned] = []
        if req.points is not None:
            tuned, silent = await _tune(req, clients)
            failed += silent
            clients = [t.client for t in tuned]
        return await _run(req, clients, tuned, outlet_meters, not_miners + failed, notes, stop, got)
    finally:
        for meter in outlet_meters.values():
            meter.close()
        for source in req.thermal:
            source.close()


async def _run(req: Request, clients: list[MinerClient], tuned: list[Tuned], outlet_meters: dict[str, Meter],
               not_measured: list[Run], notes: list[str], stop: asyncio.Event, got: list[int]) -> Outcome:
    params: dict[str, object] = {"poll_period_s": req.plan.period_s}
    notes += prepare_out(req.out)
    plan = req.plan
    timing = Timing(idle_s=0.0, warmup_s=plan.warmup_s, window_s=plan.window_s, repeats=plan.repeats, tail_s=0.0)
    meters = [outlet_meters[c.identity.address] for c in clients if c.identity.address in outlet_meters]
    sampler = Sampler(meters, rate_hz=1.0 / plan.period_s) if meters else None
    doc = new_document(system.describe(), settings=Settings(
        timing=timing, sample_rate_hz=sampler.rate_hz if sampler else None,
        sampler_notes=[n[:2000] for n in sampler.notes] if sampler else []))
    journal = MinersJournal(journal_path(req.out))
    room = ThermalSampler(req.thermal, journal=journal) if req.thermal else None
    ctx = _Context(plan, journal, outlet_meters, sampler, params, stop, got, req.sink, room)
    journal.header(doc, [m.figure() for m in meters])
    for run in not_measured:
        journal.record(run)
    if sampler is not None:
        sampler.journal = journal
        sampler.start()
    if room is not None:
        await asyncio.to_thread(room.start)  # a first reading of each (a PDU answers in a second or two)
    guard = KnobGuard(write=journal.knob)
    try:
        if req.points is None:
            runs = await _measure(ctx, clients)
        else:
            runs = await _sweep(ctx, req, tuned, guard, notes)
    finally:
        try:
            not_restored = await asyncio.to_thread(guard.restore_all)
        finally:
            if sampler is not None:
                await asyncio.to_thread(sampler.stop)
            if room is not None:
                await asyncio.to_thread(room.stop, False)  # closed with the run's other sources
    doc = doc.model_copy(update={"runs": not_measured + runs})
    if req.sink is not None:
        logs = {a: _outlet_log(sampler, m) for a, m in outlet_meters.items()}
        doc = req.sink.finish(doc, {a: log for a, log in logs.items() if log is not None})
    write_result(req.out, doc)
    journal.close(remove=not not_restored)  # a knob not put back stays in the journal for recover
    for note in notes:
        console.err().print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False)
    return Outcome(doc, req.out, got[0] if got else None, notes, not_restored)

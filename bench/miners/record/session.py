"""``sitebench miners run`` from addresses to result file: find, (optionally) set, measure, journal, write.

Order: the miners are identified (:func:`bench.miners.protocol.scan.scan`: a named address that is not
a miner is a failed run with the reason, the others go on); their outlet meters are opened (one
request per PDU, :mod:`bench.power.meters.outlets`); a power target is written only when asked
(:mod:`bench.miners.protocol.write`); then every miner is polled until it has its windows
(:func:`bench.miners.measure.outcome.measure`) while a sampler reads the outlets. Nothing measured is
lost: the journal (:mod:`bench.miners.measure.journal`) takes every poll and outlet reading as it comes
and each miner's record, synced, as soon as it is complete; SIGINT, SIGTERM and SIGHUP end the
polling, the miners short of windows are recorded ``interrupted`` and the file is still written
(the caller exits 128 + the signal number); after SIGKILL, ``sitebench recover`` rebuilds it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import time
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
from bench.miners.protocol.client import MinerClient
from bench.miners.protocol.model import Sample
from bench.miners.protocol.parse import MinerError
from bench.miners.protocol.scan import ScanResult, scan
from bench.miners.protocol.transport import DEFAULT_TIMEOUT_S, LIMITS, Limits
from bench.miners.protocol.write import set_power_target
from bench.miners.record.runrecord import UNIT, WORKLOAD, OutletLog, device, head, miner_run
from bench.power.meter import Meter
from bench.power.meters.outlets import OutletEntry, open_outlets
from bench.power.sampler import Sampler
from bench.record import Document, Run, Settings, Timing, new_document, utc_now, write_result

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class Request:
    """A checked ``miners run``: what to measure, how, and where the file goes."""

    specs: list[str]
    plan: Plan
    out: Path
    force: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S
    concurrency: int = 256
    limits: Limits = LIMITS
    outlet_map: dict[str, OutletEntry] | None = None
    wall_meter: Meter | None = None
    power_target_w: int | None = None
    credentials: tuple[str, str] | None = None


@dataclass
class Outcome:
    """The document written, the signal that ended polling early (None: it ran out), the not-miners skipped."""

    doc: Document
    out: Path
    signum: int | None = None
    notes: list[str] = field(default_factory=list)


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
    """Outlet meters by miner address, and the miners that cannot be measured (PDU silent, target refused)."""
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
    if req.power_target_w is not None and req.credentials is not None:
        for r in found:
            try:
                notes.append(f"{r.target.host}: " + await set_power_target(
                    r.client, req.power_target_w, *req.credentials))  # type: ignore[arg-type]
            except MinerError as exc:
                failed.append(_not_measured(r.target.host, str(exc), r))
    return meters, failed


def _outlet_log(sampler: Sampler | None, meter: Meter | None) -> OutletLog | None:
    if sampler is None or meter is None:
        return None
    log = sampler.logs[meter.name]
    return OutletLog(meter, list(log.readings), list(log.gaps))


async def run_miners(req: Request) -> Outcome:
    """Identify, measure and write; see the module's docstring. Stop signals end polling, not the file."""
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
    gone = {r.device for r in failed}
    clients: list[MinerClient] = [r.client for r in found if r.client is not None and device(r.client.identity) not in gone]
    plan = dataclasses.replace(req.plan, miners=max(len(clients), 1))  # the pool check's confidence, shared
    params: dict[str, object] = {"poll_period_s": plan.period_s}
    if req.power_target_w is not None:
        params["power_target_w"] = req.power_target_w
    notes += prepare_out(req.out)
    timing = Timing(idle_s=0.0, warmup_s=plan.warmup_s, window_s=plan.window_s, repeats=plan.repeats, tail_s=0.0)
    meters = [outlet_meters[c.identity.address] for c in clients if c.identity.address in outlet_meters]
    sampler = Sampler(meters, rate_hz=1.0 / plan.period_s) if meters else None
    doc = new_document(system.describe(), settings=Settings(
        timing=timing, sample_rate_hz=sampler.rate_hz if sampler else None,
        sampler_notes=[n[:2000] for n in sampler.notes] if sampler else []))
    journal = MinersJournal(journal_path(req.out))
    t_ref, started = time.monotonic(), utc_now()
    outlet_of = {c.identity.address: outlet_meters.get(c.identity.address) for c in clients}
    journal.start(doc, [m.figure() for m in meters], plan, t_ref,
                  [(c.identity, o.name if o else None) for c, o in zip(clients, outlet_of.values())], params, started)
    for run in not_miners + failed:
        journal.record(run)
    finished: dict[str, Run] = {}

    def finish(address: str, samples: list[Sample], final: bool) -> None:
        client = next(c for c in clients if c.identity.address == address)
        m = analyse(client.identity, samples, plan)
        outlet = _outlet_log(sampler, outlet_of[address])
        end = m.valid_windows[-1].t_end if m.valid_windows else None
        if not final and outlet is not None and end is not None and not any(r.t > end for r in outlet.readings[-3:]):
            return  # the outlet's figure at the window's end needs a reading after it: next check
        finished[address] = miner_run(m, plan, t_ref, outlet=outlet, stopped=final and bool(got), params=params,
                                      started=started)
        journal.record(finished[address])

    def on_tick(done: set[str], samples: dict[str, list[Sample]]) -> None:
        for address in sorted(done - set(finished)):
            finish(address, samples[address], final=False)
        journal.sync()

    if sampler is not None:
        sampler.journal = journal
        sampler.start()
    try:
        results, _ = await measure(clients, plan, journal.sample, on_tick=on_tick, stop=stop)
    finally:
        if sampler is not None:
            await asyncio.to_thread(sampler.stop)
        for meter in outlet_meters.values():
            meter.close()
    for client, m in zip(clients, results):
        if client.identity.address not in finished:
            finish(client.identity.address, m.samples, final=True)
    runs = not_miners + failed + [finished[c.identity.address] for c in clients]
    doc = doc.model_copy(update={"runs": runs})
    write_result(req.out, doc)
    journal.close(remove=True)
    for note in notes:
        console.err().print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False)
    return Outcome(doc, req.out, got[0] if got else None, notes)

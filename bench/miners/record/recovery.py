"""Rebuilding a miners run's result file from its journal (``sitebench recover``, after SIGKILL or a crash).

Miners whose ``run`` line is in the journal intact come back exactly as it holds them. The others are
rebuilt from their ``poll`` lines and their outlet meter's ``reading`` / ``gap`` lines through the
same code a live run uses (:func:`bench.miners.measure.outcome.analyse`, :func:`bench.miners.record.runrecord.miner_run`):
``ok`` when they had all their windows, else ``interrupted`` with the windows that completed.

The journal crosses the file boundary first (:mod:`bench.measure.journalfile`: limits, checksums, strict
JSON); the miners' own lines are typed here (:func:`~bench.miners.measure.journal.head_from`,
:func:`~bench.miners.measure.journal.sample_from`), and a line that fails is one refused line, reported by
its line number like any damage, while the other miners and polls go on. A miner whose record is not in the
journal intact says so, with the damaged lines, in ``metrics.recovered``.
"""

from __future__ import annotations

from bench.measure.journalfile import Damage
from bench.measure.recover import KILLED, Journaled, register
from bench.measure.replay import ReplayMeter
from bench.miners.measure.journal import MinersHead, head_from, sample_from
from bench.miners.measure.outcome import analyse
from bench.miners.protocol.model import Identity, Sample
from bench.miners.record.runrecord import WORKLOAD, OutletLog, device, miner_run
from bench.record import Run, failed_run

REASON = KILLED
#: The line types of a miners run's journal, beyond the runner's.
KINDS = ("miners", "poll")


def is_miners_journal(j: Journaled) -> bool:
    """True for the journal of ``sitebench miners run``."""
    return any(line.kind in KINDS for line in j.lines)


def _head(j: Journaled) -> MinersHead | None:
    for line in j.of_kind("miners"):
        try:
            return head_from(line.value)
        except (KeyError, TypeError, ValueError) as exc:
            j.refuse(line, f"a miners line that fails its types ({type(exc).__name__}: {exc})")
    return None


def _samples(j: Journaled, head: MinersHead) -> dict[str, list[Sample]]:
    by_address = {i.address: i for i, _ in head.miners}
    samples: dict[str, list[Sample]] = {a: [] for a in by_address}
    for line in j.of_kind("poll"):
        miner = line.value.get("miner")
        identity = by_address.get(miner) if isinstance(miner, str) else None
        if identity is None:
            j.refuse(line, f"a poll of {str(miner)[:80]!r}, which the miners line does not name")
            continue
        try:
            sample = sample_from(line.value.get("sample"), identity)
        except (KeyError, TypeError, ValueError) as exc:
            j.refuse(line, f"a poll that fails its types ({type(exc).__name__}: {exc})")
            continue
        got = samples[identity.address]
        if got and sample.t <= got[-1].t:
            j.refuse(line, f"a poll of {identity.address} out of time order (t={sample.t:.6g})")
            continue
        got.append(sample)
    return samples


def recover_runs(j: Journaled) -> list[Run]:
    """Every miner's run: the journal's records, the others rebuilt from their polls (in the run's order).

    Lines that cannot be used are reported in ``j.damage``; a miner that cannot be rebuilt is reported and
    comes back ``interrupted`` without windows.
    """
    head = _head(j)
    if head is None:
        for d in j.damage:
            if d.kind in (None, "run", "poll") and d.lost and not d.outcome:
                d.outcome = "lost with the miners line"
        j.damage.append(Damage(0, "no intact miners line: the plan and the miners' identities are lost, so only miners "
                                  "with a record in the journal come back", 0, lines=0))
        return list(j.runs)
    samples = _samples(j, head)
    outlets: dict[str, OutletLog] = {}
    for fig in j.meters:
        log = OutletLog(ReplayMeter(fig))
        log.readings = list(j.readings.get(fig.name, []))
        log.gaps = [g for _, g in j.gaps.get(fig.name, [])]
        outlets[fig.name] = log
    done = {r.device: r for r in j.runs}
    measured = {device(i) for i, _ in head.miners}
    out = [r for r in j.runs if r.device not in measured]  # hosts not measured (not miners...), recorded first
    damaged = [d for d in j.damage if d.lost and not d.cut and d.kind in (None, "run")]
    for identity, outlet in head.miners:
        dev = device(identity)
        if dev in done:
            out.append(done[dev])
            continue
        out.append(_rebuild(j, identity, outlet, head, samples, outlets, damaged))
    return out


def _rebuild(j: Journaled, identity: Identity, outlet: str | None, head: MinersHead, samples: dict[str, list[Sample]],
             outlets: dict[str, OutletLog], damaged: list[Damage]) -> Run:
    dev = device(identity)
    exact = [d for d in damaged if d.device == dev]  # a run line that still says whose it was
    unknown = [d for d in damaged if d.device is None and d.kind is None]  # a line that did not read at all
    reason = REASON
    if exact:
        reason = f"its record (line {exact[0].no}) is damaged; rebuilt from its polls"
        for d in exact:
            d.outcome = f"the record of {dev}: rebuilt from its polls"
    elif unknown:
        reason = (f"{REASON}; or its record was on a damaged line ({', '.join(str(d.no) for d in unknown[:8])}): "
                  "rebuilt from its polls")
        for d in unknown:
            d.outcome = d.outcome or "if it held the record of a miner without one, that miner is rebuilt from its polls"
    try:
        m = analyse(identity, samples[identity.address], head.plan)
        complete = len(m.valid_windows) >= head.plan.repeats
        run = miner_run(m, head.plan, head.t_ref, outlet=outlets.get(outlet) if outlet else None, stopped=not complete,
                        params=head.params, started=head.started)
    except Exception as exc:  # noqa: BLE001 - the one boundary around rebuilding one miner: the others go on
        j.damage.append(Damage(0, f"the miner {dev} could not be rebuilt ({type(exc).__name__}: {exc})"[:400], 0,
                               lines=0))
        why = f"{reason}; it could not be rebuilt"
        failed = failed_run(WORKLOAD, dev, "hash", "interrupted", why, params=dict(head.params), started=head.started)
        return failed.model_copy(update={"metrics": {"recovered": why}})
    return run.model_copy(update={"metrics": {**run.metrics, "recovered": reason}})


register(is_miners_journal, recover_runs, KINDS)

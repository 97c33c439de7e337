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

A sweep's journal has one ``miners`` line per point: each point's miners are rebuilt from that point's polls
(their ``point``), with the setting the line holds for them (its over-limit judged again from the rebuilt
power), and a ``run`` line belongs to the point whose ``miners`` line it follows when its setting is that
point's. The knob lines (``knob``, ``knob_set``, ``knob_restored``) are read here as the miners journal's own
too; ``recover`` restores every knob they show changed and not put back
(:func:`bench.power.knobs.guard.restore_journaled`), reopening a miner's knob from its spec through the
openers :mod:`bench.miners.protocol.knobs` registers.
"""

from __future__ import annotations

from pydantic import ValidationError

import bench.miners.protocol.knobs  # noqa: F401  (registers the miners' knobs for recover to reopen)
from bench.measure.journalfile import Damage, Line
from bench.measure.recover import KILLED, Journaled, register
from bench.measure.replay import ReplayMeter
from bench.miners.measure.journal import MinersHead, head_from, sample_from
from bench.miners.measure.outcome import analyse
from bench.miners.protocol.model import Identity, Sample
from bench.miners.record.overlimit import judged
from bench.miners.record.runrecord import WORKLOAD, OutletLog, device, miner_run
from bench.record import Run, failed_run
from bench.record.setting import Setting

REASON = KILLED
#: The line types of a miners run's journal, beyond the runner's (its knob guard's lines included).
KINDS = ("miners", "poll", "knob", "knob_set", "knob_restored", "knob_restore_failed")


def is_miners_journal(j: Journaled) -> bool:
    """True for the journal of ``sitebench miners run`` (its own lines; knob lines are every sweep's)."""
    return any(line.kind in ("miners", "poll") for line in j.lines)


def _heads(j: Journaled) -> list[tuple[int, MinersHead]]:
    """The intact ``miners`` lines with their place among the journal's lines: one, or one per sweep point."""
    out: list[tuple[int, MinersHead]] = []
    for at, line in enumerate(j.lines):
        if line.kind != "miners":
            continue
        try:
            head = head_from(line.value)
        except (KeyError, TypeError, ValueError) as exc:
            j.refuse(line, f"a miners line that fails its types ({type(exc).__name__}: {exc})")
            continue
        if out and (head.point is None or out[-1][1].point is None):
            j.refuse(line, "a second miners line outside a sweep's points")
            continue
        if out and any(head.point == h.point for _, h in out):
            j.refuse(line, f"a second miners line of point {head.point}")
            continue
        out.append((at, head))
    return out


def _samples(j: Journaled, head: MinersHead, polls: list[Line]) -> dict[str, list[Sample]]:
    by_address = {i.address: i for i, _ in head.miners}
    samples: dict[str, list[Sample]] = {a: [] for a in by_address}
    for line in polls:
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
    heads = _heads(j)
    if not heads:
        for d in j.damage:
            if d.kind in (None, "run", "poll") and d.lost and not d.outcome:
                d.outcome = "lost with the miners line"
        j.damage.append(Damage(0, "no intact miners line: the plan and the miners' identities are lost, so only miners "
                                  "with a record in the journal come back", 0, lines=0))
        return list(j.runs)
    polls = _polls(j, heads)
    outlets: dict[str, OutletLog] = {}
    for fig in j.meters:
        log = OutletLog(ReplayMeter(fig))
        log.readings = list(j.readings.get(fig.name, []))
        log.gaps = [g for _, g in j.gaps.get(fig.name, [])]
        outlets[fig.name] = log
    damaged = [d for d in j.damage if d.lost and not d.cut and d.kind in (None, "run")]
    out: list[Run] = []
    current: tuple[MinersHead, dict[str, Run]] | None = None

    def close() -> None:
        """Every miner of the current point: its record, or rebuilt from the point's polls."""
        if current is None:
            return
        head, done = current
        samples = _samples(j, head, polls.get(head.point, []))
        for identity, outlet in head.miners:
            dev = device(identity)
            out.append(done[dev] if dev in done else
                       _rebuild(j, identity, outlet, head, samples, outlets, damaged))

    starts = dict(heads)
    for at, line in enumerate(j.lines):
        if at in starts:
            close()
            current = (starts[at], {})
        elif line.kind == "run":
            run: Run = line.value
            if current is not None and _of_point(run, current[0]) and run.device not in current[1]:
                current[1][run.device] = run
            else:  # a host not measured (not a miner), or a miner whose knob failed at a point
                out.append(run)
    close()
    return out


def _polls(j: Journaled, heads: list[tuple[int, MinersHead]]) -> dict[int | None, list[Line]]:
    """The poll lines by the point they were taken at (None outside a sweep)."""
    points = {h.point for _, h in heads}
    out: dict[int | None, list[Line]] = {p: [] for p in points}
    for line in j.of_kind("poll"):
        point = line.value.get("point")
        if point not in points:
            j.refuse(line, f"a poll of point {str(point)[:20]}, which no miners line names")
            continue
        out[point].append(line)
    return out


def _of_point(run: Run, head: MinersHead) -> bool:
    """Whether ``run`` is the record of one of ``head``'s miners at its point (outside a sweep: any of them)."""
    miners = {device(i): i for i, _ in head.miners}
    if run.device not in miners:
        return False
    if head.point is None:
        return True
    want = head.settings.get(miners[run.device].address)
    s = run.setting
    return want is not None and s is not None and (s.knob, s.target, s.requested) == (
        want.get("knob"), want.get("target"), want.get("requested"))


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
                        params=head.params, started=head.started, room=j.polled())  # --thermal: the room's air
        setting = _setting(j, head, identity)
        if setting is not None:
            run = run.model_copy(update={"setting": judged(run, setting)})
    except Exception as exc:  # noqa: BLE001 - the one boundary around rebuilding one miner: the others go on
        j.damage.append(Damage(0, f"the miner {dev} could not be rebuilt ({type(exc).__name__}: {exc})"[:400], 0,
                               lines=0))
        why = f"{reason}; it could not be rebuilt"
        failed = failed_run(WORKLOAD, dev, "hash", "interrupted", why, params=dict(head.params), started=head.started)
        return failed.model_copy(update={"metrics": {"recovered": why}, "setting": _setting(j, head, identity)})
    return run.model_copy(update={"metrics": {**run.metrics, "recovered": reason}})


def _setting(j: Journaled, head: MinersHead, identity: Identity) -> Setting | None:
    """The setting ``head`` holds for the miner (None outside a sweep, or when it fails its types: reported)."""
    raw = head.settings.get(identity.address)
    if raw is None:
        return None
    try:
        return Setting.model_validate(raw)
    except ValidationError as exc:
        j.damage.append(Damage(0, f"the setting of {identity.address} at point {head.point} fails its types "
                                  f"({exc.error_count()} error(s)): rebuilt without it"[:400], 0, lines=0))
        return None


register(is_miners_journal, recover_runs, KINDS)

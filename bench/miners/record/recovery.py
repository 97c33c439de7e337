"""Rebuilding a miners run's result file from its journal (``sitebench recover``, after SIGKILL or a crash).

Miners whose ``run`` line is in the journal come back exactly as it holds them. The others are
rebuilt from their ``poll`` lines and their outlet meter's ``reading`` / ``gap`` lines through the
same code a live run uses (:func:`bench.miners.measure.outcome.analyse`, :func:`bench.miners.record.runrecord.miner_run`):
``ok`` when they had all their windows, else ``interrupted`` with the windows that completed.
"""

from __future__ import annotations

from typing import Any

from bench.errors import InvalidResultFile
from bench.measure.recover import Journaled, register
from bench.measure.replay import ReplayMeter
from bench.miners.measure.journal import identity_from, sample_from
from bench.miners.measure.outcome import Plan, analyse
from bench.miners.protocol.model import Identity, Sample
from bench.miners.record.runrecord import OutletLog, device, miner_run
from bench.power.meter import Reading
from bench.power.sampler import Gap
from bench.record import Run

REASON = "killed before it ended (recovered from its journal)"


def is_miners_journal(lines: list[dict[str, Any]]) -> bool:
    """True for the journal of ``sitebench miners run``."""
    return any(line.get("type") == "miners" for line in lines[:3])


def recover_runs(j: Journaled) -> list[Run]:
    """Every miner's run: the journal's records, the others rebuilt from their polls (in the run's order).

    Raises:
        InvalidResultFile: a ``miners`` or ``poll`` line that cannot be read.
    """
    try:
        head = next(line for line in j.lines if line.get("type") == "miners")
        plan = Plan(**head["plan"])
        t_ref, params, started = float(head["t_ref"]), dict(head.get("params") or {}), head.get("started")
        miners: list[tuple[Identity, str | None]] = [(identity_from(m), m.get("outlet")) for m in head["miners"]]
        by_address = {i.address: i for i, _ in miners}
        samples: dict[str, list[Sample]] = {a: [] for a in by_address}
        outlets: dict[str, OutletLog] = {f.name: OutletLog(ReplayMeter(f)) for f in j.meters}
        for line in j.lines:
            kind = line.get("type")
            if kind == "poll" and line.get("miner") in by_address:
                samples[line["miner"]].append(sample_from(line["sample"], by_address[line["miner"]]))
            elif kind == "reading" and line.get("meter") in outlets:
                outlets[line["meter"]].readings.append(Reading(t=float(line["t"]), power_w=line.get("power_w")))
            elif kind == "gap" and line.get("meter") in outlets:
                outlets[line["meter"]].gaps.append(Gap(float(line["t"]), str(line.get("reason", "")),
                                                       bool(line.get("discontinuity"))))
    except (StopIteration, KeyError, TypeError, ValueError) as exc:
        raise InvalidResultFile("journal", "miners", f"malformed line ({type(exc).__name__}: {exc})"[:300]) from None
    done = {r.device: r for r in j.runs}
    measured = {device(i) for i, _ in miners}
    out = [r for r in j.runs if r.device not in measured]  # hosts not measured (not miners...), recorded first
    for identity, outlet in miners:
        if device(identity) in done:
            out.append(done[device(identity)])
            continue
        m = analyse(identity, samples[identity.address], plan)
        complete = len(m.valid_windows) >= plan.repeats
        run = miner_run(m, plan, t_ref, outlet=outlets.get(outlet) if outlet else None, stopped=not complete,
                        params=params, started=started)
        out.append(run.model_copy(update={"metrics": {**run.metrics, "recovered": REASON}}))
    return out


register(is_miners_journal, recover_runs)

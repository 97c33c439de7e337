"""One miner's measurement as a run record: workload ``sha256d``, unit ``hash``, device ``asic:HOST``.

Throughput: the valid windows of :mod:`bench.miners.measure.outcome` (contiguous, one segment), units =
hashes by the counter, durations = poll to poll; :func:`bench.measure.runrecord.measured_run` makes the
figures, as for every other run. Power comes from the power layer
(:func:`bench.power.window.block.power_block`) over the same windows, from meters whose readings
were taken already (markers at the windows' first and last polls):

- the miner's PDU outlet (``snmp``, scope ``wall``), when mapped: the run's figure;
- the miner's own figure (kind ``miner-api``, method ``firmware_estimate``, scope ``node``), when
  the firmware reports one: the figure without an outlet, quality level at most 1; with an outlet,
  compared with it two-sided (the firmware claims the unit's input power), the disagreement flagged;
  a figure implausible for the model (:mod:`bench.miners.measure.plausible`) is refused and flagged;
- else the model's nameplate J/TH x the measured hash rate (kind ``nameplate``, method
  ``modelled_nameplate``, scope ``modelled``, ``measured: false``): MODELLED, quality 0.

The miner's telemetry (boards, chips, fans, errors) rides on its ``miner-api`` meter in the GPU
layout (:mod:`bench.miners.measure.telemetry`), and its temperatures and fans per window in the run's
``thermal`` block (:mod:`bench.miners.measure.thermal`); its identity is the run's ``hardware``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bench.measure.replay import ClockReplayMeter
from bench.measure.runrecord import RunHead, measured_run
from bench.measure.soak import with_soak
from bench.miners.measure import telemetry
from bench.miners.measure.outcome import MinerMeasurement, Plan
from bench.miners.measure.thermal import miner_thermal
from bench.miners.measure.verify import LIE_FACTOR, hw_error_rate, share_check
from bench.miners.protocol import catalog
from bench.miners.protocol.model import Identity, Poll
from bench.power.meter import Meter, Reading
from bench.power.sampler import Gap, Marker, Sampler
from bench.power.thermal.sampler import ThermalSampler
from bench.power.window.block import power_block
from bench.power.window.quality import quality
from bench.record import Crosscheck, Hardware, MeterFigure, Phase, PowerBlock, Quality, Run, no_power
from bench.record.miners import max_temperature
from bench.record.run import Status
from bench.sizing.power import UNSTATED_ACCURACY

WORKLOAD, UNIT = "sha256d", "hash"
FIRMWARE_ESTIMATE, MODELLED_NAMEPLATE = "firmware_estimate", "modelled_nameplate"
#: The accuracy assumed for a firmware's (or a PDU's) power figure that states none, when the two
#: are compared: sitebench's default for an unstated accuracy (:data:`bench.sizing.power.UNSTATED_ACCURACY`).
ASSUMED_ACCURACY = UNSTATED_ACCURACY


@dataclass
class OutletLog:
    """What one miner's outlet meter recorded: the meter (its provenance), its readings and gaps."""

    meter: Meter
    readings: list[Reading] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)


def device(identity: Identity) -> str:
    """``asic:HOST`` (``asic:HOST:PORT`` when the API is not on its usual port)."""
    usual = 4433 if identity.protocol == "whatsminer-v3" else 4028
    return f"asic:{identity.host}" + ("" if identity.port == usual else f":{identity.port}")


def hardware(identity: Identity, polls: list[Poll]) -> Hardware:
    """The miner as a run's ``hardware``: chips present is the fewest seen in ``polls``."""
    spec = catalog.lookup(identity.model)
    chips = [p.chips for p in polls if p.chips is not None]
    expected = [p.chips_expected for p in polls if p.chips_expected is not None]
    last = polls[-1] if polls else None
    details: dict[str, Any] = {"host": identity.host, "port": identity.port, "protocol": identity.protocol,
                               "family": identity.family}
    if expected:
        details["chips_expected"] = max(expected)
    elif spec is not None and spec.chips_per_board and last is not None and last.boards:
        details["chips_expected"] = spec.chips_per_board * len(last.boards)
    if last is not None and last.boards:
        details["boards"] = len(last.boards)
        details["board_chips"] = "/".join("-" if b.chips is None else str(b.chips) for b in last.boards)
    if spec is not None and spec.nameplate_ths:
        details.update(nameplate_ths=spec.nameplate_ths, nameplate_w=spec.nameplate_w)
    return Hardware(kind="asic", make=identity.make[:200], model=identity.model[:200], firmware=identity.firmware[:200],
                    serial=identity.serial[:200] if identity.serial else None, chips=min(chips) if chips else None,
                    details=details)


def head(identity: Identity, polls: list[Poll], params: dict[str, object] | None = None,
         started: str | None = None) -> RunHead:
    """What the run is before its figures: sha256d on ``asic:HOST``, the miner as its hardware."""
    return RunHead(workload=WORKLOAD, device=device(identity), unit=UNIT, params=dict(params or {}), started=started,
                   hardware=hardware(identity, polls))


def _firmware_figure(identity: Identity, polls: list[Poll], period_s: float) -> MeterFigure:
    source = next((p.power_source for p in polls if p.power_source), None)
    return MeterFigure(name=f"miner-api:{identity.host}", kind="miner-api", scope="node", method=FIRMWARE_ESTIMATE,
                       measured=True, update_period_s=period_s,
                       accuracy_note=f"the miner's own power figure ({source or 'not reported'}), estimated by its "
                       "firmware, not metered; its maker states no accuracy")


def _meters(m: MinerMeasurement, plan: Plan, outlet: OutletLog | None) -> list[tuple[Meter, list[Reading], list[Gap]]]:
    polls = m.polls
    out: list[tuple[Meter, list[Reading], list[Gap]]] = []
    if outlet is not None:
        out.append((ClockReplayMeter(outlet.meter.figure()), outlet.readings, outlet.gaps))
    powered = [Reading(t=p.t, power_w=p.power_w) for p in polls if p.power_w is not None]
    if powered and m.power_refused is None:
        out.append((ClockReplayMeter(_firmware_figure(m.identity, polls, plan.period_s)), powered, []))
    spec = catalog.lookup(m.identity.model)
    if not out and spec is not None and spec.j_per_th is not None:
        w = m.valid_windows
        segment = [p for p in polls if w[0].t_start <= p.t <= w[-1].t_end and p.counter is not None]
        note = (f"MODELLED: {spec.make} {spec.model} nameplate {spec.j_per_th:.4g} J/TH ({spec.nameplate_w:g} W at "
                f"{spec.nameplate_ths:g} TH/s, sitebench's reference table) x the measured hash rate; not measured")
        fig = MeterFigure(name=f"nameplate:{m.identity.host}", kind="nameplate", scope="modelled",
                          method=MODELLED_NAMEPLATE, measured=False, update_period_s=plan.period_s, accuracy_note=note)
        energy = [Reading(t=p.t, energy_j=spec.j_per_th * p.counter.hashes / 1e12) for p in segment]  # type: ignore[union-attr]
        out.append((ClockReplayMeter(fig), energy, []))
    return out


def _agreement(outlet: MeterFigure, fw: MeterFigure) -> Crosscheck:
    """The outlet against the firmware's figure, two-sided, within their accuracies (unstated: assumed)."""
    o, f = outlet.avg_w or 0.0, fw.avg_w or 0.0
    tol_o = outlet.tolerance_w(o) if outlet.accuracy is not None else None  # a digit alone is no accuracy
    tol_f = fw.tolerance_w(f) if fw.accuracy is not None else None
    assumed = [name for name, t in (("outlet", tol_o), ("firmware", tol_f)) if t is None]
    tol = (tol_o if tol_o is not None else ASSUMED_ACCURACY * o) + (tol_f if tol_f is not None else ASSUMED_ACCURACY * f)
    agree = abs(f - o) <= tol
    how = f" (+/-{ASSUMED_ACCURACY:.0%} assumed for the {' and '.join(assumed)}: no accuracy stated)" if assumed else ""
    note = (f"firmware {f:.1f} W and outlet {o:.1f} W {'agree' if agree else 'DISAGREE'}: "
            f"{abs(f - o):.1f} W apart, accuracies {tol:.1f} W{how}")
    return Crosscheck(outer=[outlet.name], inner=[fw.name], outer_w=o, inner_w=f, remainder_w=o - f, tolerance_w=tol,
                      agree=agree, note=note[:2000])


def _relabel(block: PowerBlock, m: MinerMeasurement, t_ref: float, window_polls: list[Poll], period_s: float) -> None:
    """Telemetry on the ``miner-api`` meter, the two-sided firmware/outlet check, the power-source labels."""
    fw = next((f for f in block.meters if f.method == FIRMWARE_ESTIMATE), None)
    if fw is None:
        fw = _firmware_figure(m.identity, m.polls, period_s).model_copy(update={
            "method": "telemetry", "accuracy_note": "the miner's API: telemetry only (its firmware reports no power)"})
        block.meters.append(fw)
    fw.telemetry = telemetry.series(m.polls, t_ref)
    fw.telemetry_summary = telemetry.summary(window_polls)
    outlet = next((f for f in block.meters if f.scope == "wall" and f.avg_w is not None), None)
    if outlet is not None and fw.avg_w is not None:
        stale = [c for c in block.crosschecks if c.inner == [fw.name]]
        notes = {c.note for c in stale if not c.agree}
        block.flags = [x for x in block.flags if x not in notes]
        check = _agreement(outlet, fw)
        block.crosschecks = [c for c in block.crosschecks if c not in stale] + [check]
        if not check.agree:
            block.flags.append(check.note)
    if m.power_refused is not None:
        block.flags.append(m.power_refused[:2000])
    chosen = block.primary
    if not chosen:
        return
    q = quality(chosen, block.valid_for_sizing, block.idle_before_w, block.idle_after_w, block.crosschecks)
    if chosen[0].method == FIRMWARE_ESTIMATE:
        q = Quality(level=min(q.level, 1), reasons=[*q.reasons, "firmware estimate (the miner's own figure), not metered"])
        block.flags.append("power is the miner's firmware_estimate, not metered (quality at most 1): map its PDU "
                           "outlet (--outlets) to measure it")
    elif chosen[0].method == MODELLED_NAMEPLATE:
        q = Quality(level=0, reasons=["MODELLED: nameplate J/TH x measured hash rate, not measured"])
        block.flags.append("power MODELLED: nameplate J/TH x the measured hash rate (no outlet meter; the firmware "
                           + ("power was refused)" if m.power_refused else "reports no power)"))
    block.quality = q


def power_source(block: PowerBlock) -> str:
    """``outlet``, ``firmware_estimate``, ``modelled_nameplate`` or ``none``: what the run's power figure is."""
    chosen = block.primary
    if block.avg_w is None or not chosen:
        return "none"
    return "outlet" if chosen[0].scope == "wall" else chosen[0].method


def _power(m: MinerMeasurement, plan: Plan, t_ref: float, outlet: OutletLog | None, dev: str) -> PowerBlock:
    used = m.valid_windows
    meters = _meters(m, plan, outlet)
    if not meters:
        return no_power("no power figure: no outlet meter, the firmware reports none and the model's "
                        "nameplate is not in sitebench's table")
    sampler = Sampler([meter for meter, _, _ in meters])
    for meter, readings, gaps in meters:
        sampler.logs[meter.name].readings, sampler.logs[meter.name].gaps = sorted(readings, key=lambda r: r.t), gaps
    times = [w.t_start for w in used] + [used[-1].t_end]
    sampler.markers = [Marker("run/start", m.samples[0].t, {}),
                       *(Marker(f"window-{i}", t, {}) for i, t in enumerate(times)), Marker("run/end", m.samples[-1].t, {})]
    windows = [(f"window-{i}", f"window-{i + 1}") for i in range(len(used))]
    return power_block(sampler, t_ref, windows, None, ("run/start", "run/end"), device=dev)


def _metrics(m: MinerMeasurement, plan: Plan, block: PowerBlock, window_polls: list[Poll]) -> dict[str, object]:
    used = m.valid_windows
    check = share_check(used, plan.miners)
    warm = m.warmups[-1] if m.warmups else None
    fw = next((f for f in block.meters if f.method == FIRMWARE_ESTIMATE), None)
    out: dict[str, object] = {
        "power_source": power_source(block), "polls": len(m.polls), "polls_failed": len(m.samples) - len(m.polls),
        "restarts": len(m.breaks), "windows_planned": plan.repeats, "warmup_s": warm.waited_s if warm else None,
        "warmup_method": warm.method if warm else None, "share_check": check.reason, "shares": check.shares,
        "share_ratio": check.ratio, "share_ratio_low": check.ratio_low, "share_ratio_high": check.ratio_high,
        "share_confidence": check.confidence,
        "hw_error_rate": hw_error_rate(used), "hw_errors": sum(w.hw_errors or 0 for w in used),
        "temp_max_c": max_temperature(telemetry.summary(window_polls)),
        "firmware_power_w": fw.avg_w if fw is not None else None, "verification": "; ".join(m.verify_reasons)[:2000],
        "share_difficulty_per_share": check.difficulty_per_share,
        "pool_difficulty_low": check.pool_difficulty[0] if check.pool_difficulty else None,
        "pool_difficulty_high": check.pool_difficulty[1] if check.pool_difficulty else None,
        "share_lie_factor": LIE_FACTOR, "windows_refused": sum(any(r.startswith("implausible") for r in w.invalid_reasons)
                                                               for w in m.windows),
    }
    if m.limits is not None:
        out.update(m.limits.metrics())
    if m.power_refused is not None:
        out["power_refused"] = m.power_refused
    if len(used) < plan.repeats:
        out["note"] = f"{len(used)} of {plan.repeats} windows measured"
    if m.breaks:
        out["restart_reasons"] = "; ".join(reason for _, reason in m.breaks)[:2000]
    return out


def _why_none(m: MinerMeasurement) -> str:
    polls = m.polls
    if not polls:
        failures = sorted({s.reason for s in m.samples if not isinstance(s, Poll)})
        return "no successful poll" + (f": {failures[0]}" if failures else "")
    reasons = list(dict.fromkeys(r for w in m.windows for r in w.invalid_reasons))
    gaps = {_general(reason): reason for _, reason in reversed(m.breaks)}  # each kind once, its first example
    if gaps:
        reasons.append(f"{len(m.breaks)} gap(s) in the counter: {'; '.join(list(gaps.values())[::-1][:3])}")
    failed = [s for s in m.samples if not isinstance(s, Poll)]
    if failed:
        reasons.append(f"{len(failed)} of {len(m.samples)} polls failed (first: {failed[0].reason})")
    if not reasons and m.warmups:
        reasons = [m.warmups[-1].reason]
    return ("no valid measured window" + (f": {'; '.join(reasons)}" if reasons else ""))[:2000]


def _general(reason: str) -> str:
    """A break's reason without its figures in parentheses (one kind for many alike)."""
    return re.sub(r" \([^)]*\)", "", reason)


def miner_run(m: MinerMeasurement, plan: Plan, t_ref: float, *, outlet: OutletLog | None = None,
              stopped: bool = False, params: dict[str, object] | None = None, started: str | None = None,
              room: ThermalSampler | None = None) -> Run:
    """The run record of one miner's measurement (``t_ref``: ``time.monotonic()`` of the run's start); ``room``:
    the run's ``--thermal`` sources (a PDU's probe), whose channels lead the miner's thermal block.

    Status ``ok`` when it has valid windows (``metrics.note`` says when fewer than planned), ``interrupted``
    when a stop came first, ``failed`` without a window; ``verified`` and ``error`` from the pool and
    hardware-error checks (:func:`bench.miners.measure.verify.verdict`).
    """
    h = head(m.identity, m.polls, params, started)
    used = m.valid_windows
    if not used:
        run = h.failed("interrupted" if stopped else "failed", _why_none(m))
        return run.model_copy(update={"metrics": {"polls": len(m.polls), "polls_failed": len(m.samples) - len(m.polls)}})
    window_polls = [p for p in m.polls if used[0].t_start <= p.t <= used[-1].t_end]
    block = _power(m, plan, t_ref, outlet, h.device)
    _relabel(block, m, t_ref, window_polls, plan.period_s)
    warm = next((w for w in reversed(m.warmups) if w.t_end is not None and w.t_end <= used[0].t_start), None)
    phases = [Phase(name="warmup", start=round(warm.t_end - warm.waited_s - t_ref, 4), end=round(warm.t_end - t_ref, 4))
              ] if warm is not None and warm.t_end is not None else []
    phases += [Phase(name=f"window-{i}", start=round(w.t_start - t_ref, 4), end=round(w.t_end - t_ref, 4))
               for i, w in enumerate(used)]
    status: Status = "interrupted" if stopped and len(used) < plan.repeats else "ok"
    run = measured_run(h, [w.hashes for w in used], [w.duration_s for w in used], power=block, phases=phases,
                       status=status, error=None if m.verified else "; ".join(m.verify_reasons)[:2000],
                       verified=m.verified, metrics=_metrics(m, plan, block, window_polls))
    thermal = miner_thermal(m.polls, h.device, [(w.t_start, w.t_end) for w in used], t_ref, plan.period_s,
                            m.identity.family, room.snapshot() if room is not None else None)
    return with_soak(run if thermal is None else run.model_copy(update={"thermal": thermal}), plan.soak)

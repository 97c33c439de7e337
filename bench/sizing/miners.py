"""A miners file as ``size`` and ``plan`` see it: one average unit per model, from the miners measured.

A site is filled with units like the ones measured, so a file of many miners sizes as one average
miner per model: its "windows" are the miners' measured spans (units = each miner's hashes,
durations = its measured seconds, energies = its joules), so the one definition gives the average
unit's figures (rate = total hashes / total seconds, J/TH = total joules / total hashes) and the
p10 / p90 that bound it are the spread between miners. Only miners that can be sized (measured,
verified, power valid for sizing) count; the candidate's name says how many of the model's miners
that is. Its power is the least good of theirs (scope class, quality, accuracy).
"""

from __future__ import annotations

from bench.measure.runrecord import RunHead, measured_run
from bench.record import Hardware, PowerBlock, Quality, Run
from bench.record.miners import is_miner

#: Scope classes from the least to the most trusted.
RANK = {"modelled": 0, "components": 1, "node": 2, "wall": 3}


def usable(run: Run) -> bool:
    """Measured, verified and with a power figure valid for sizing."""
    return run.ok and run.verified and run.power.valid_for_sizing and bool(run.efficiency.per_joule) \
        and run.power.energy_j is not None and bool(run.throughput.units)


def _weakest(runs: list[Run]) -> Run:
    def key(r: Run) -> tuple[int, float]:
        acc = r.power.primary[0].accuracy if r.power.primary else None
        return RANK.get(r.power.scope_class or "modelled", 0), -(acc if acc is not None else 1.0)
    return min(runs, key=key)


def average_unit(runs: list[Run]) -> Run:
    """The average miner of ``runs`` (usable ones of one model), as a run record sizing reads."""
    weakest = _weakest(runs)
    hw = weakest.hardware
    units = [sum(r.throughput.units) for r in runs]
    durations = [sum(r.throughput.durations_s) for r in runs]
    energies = [float(r.power.energy_j or 0.0) for r in runs]
    meters = [m.model_copy(update={"trace": [], "telemetry": {}, "telemetry_summary": None, "gaps": []})
              for m in weakest.power.primary]
    level = min(r.power.quality.level for r in runs)
    power = PowerBlock(avg_w=sum(energies) / sum(durations), energy_j=sum(energies), window_s=sum(durations),
                       window_energy_j=energies, scope=weakest.power.scope, scope_class=weakest.power.scope_class,
                       measured=all(r.power.measured for r in runs), valid_for_sizing=True,
                       quality=Quality(level=level, reasons=[f"the lowest level of the {len(runs)} miners"]),
                       meters=meters)
    head = RunHead(workload=weakest.workload, device=f"asic x{len(runs)}", unit=weakest.unit,
                   hardware=Hardware(kind="asic", make=hw.make if hw else None, model=hw.model if hw else None,
                                     details={"miners": len(runs)}))
    out = measured_run(head, units, durations, power=power, verified=True)
    setting = runs[0].setting
    if setting is None:
        return out
    if len(runs) > 1:  # one point of a sweep over several miners: the first miner's setting, for all of them
        setting = setting.model_copy(update={"target": f"asic x{len(runs)}",
                                             "over_limit": any(r.setting is not None and r.setting.over_limit
                                                               for r in runs)})
    return out.model_copy(update={"setting": setting})


def _point(run: Run) -> tuple[str, str, str]:
    """Which operating point a miner ran at (empty without a setting): miners are averaged per model and point."""
    s = run.setting
    return ("", "", "") if s is None else (s.knob, s.unit, str(s.requested))


def by_model(runs: list[Run]) -> list[tuple[str, int, Run]]:
    """``(name, index of a run, run)`` to size: one average miner per model and operating point (its first
    run's index; a sweep's points stay apart), and each run that is not a usable miner's on its own, so that
    sizing says why it was left out."""
    groups: dict[tuple[str, str, tuple[str, str, str]], list[tuple[int, Run]]] = {}
    out: list[tuple[str, int, Run]] = []
    for i, run in enumerate(runs):
        fleet = run.hardware.details.get("fleet_run_id") if run.hardware is not None else None
        if fleet is not None and run.hardware is not None and usable(run):  # a merged fleet's average miner, as it is
            hw = run.hardware
            out.append((f"{hw.make} {hw.model} (fleet mean of {hw.details.get('miners')} miners)", i, run))
        elif is_miner(run) and run.hardware is not None:
            key = (run.hardware.make or "?", run.hardware.model or "?", _point(run))
            groups.setdefault(key, []).append((i, run))
        else:
            out.append((run.device, i, run))
    for (make, model, _), members in groups.items():
        good = [r for _, r in members if usable(r)]
        if not good:
            out += [(f"{make} {model} ({r.device})", i, r) for i, r in members]
            continue
        left = len(members) - len(good)
        name = f"{make} {model} (mean of {len(good)} miner{'s' if len(good) > 1 else ''}"
        name += (f"; {left} not usable" if left else "") + ")"
        out.append((name, members[0][0], average_unit(good)))
    return out

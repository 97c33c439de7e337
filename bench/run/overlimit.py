"""Whether a run's measured power exceeded the limit its setting capped it at, beyond the meter's accuracy.

A power limit caps one part of the machine: a GPU limit its board (``gpu:N``), a RAPL package limit
its package (``cpu-package:N``). So the run's power is compared with the limit only where a measured
meter covers exactly that part: a node or wall meter also counts fans, memory and the rest, and
would exceed any GPU limit; a modelled figure is not a measurement. The margin is the accuracy
those meters state (:meth:`bench.record.MeterFigure.tolerance_w`, summed over the parts): a run is
over its limit when ``avg_w > limit_w + margin``. A meter that states no accuracy is compared with
no margin, and the note says so.
"""

from __future__ import annotations

import re

from bench.record import MeterFigure, Run
from bench.record.setting import Setting

_RAPL = re.compile(r"^intel-rapl:(\d+)$")


def scopes(target: str) -> list[str]:
    """The meter scopes a knob's target caps: ``gpu:0`` -> ``[gpu:0]``, ``intel-rapl:1`` -> ``[cpu-package:1]``;
    several targets joined by ``+`` (every package of a CPU) give one scope each."""
    out = []
    for part in target.split("+"):
        m = _RAPL.match(part)
        out.append(f"cpu-package:{m.group(1)}" if m else part)
    return out


def _covering(run: Run, wanted: list[str]) -> list[MeterFigure] | None:
    """One measured meter with an average for each scope in ``wanted``; None when any is missing."""
    found = []
    for scope in wanted:
        meter = next((m for m in run.power.meters
                      if m.scope == scope and m.measured and m.avg_w is not None and m.valid), None)
        if meter is None:
            return None
        found.append(meter)
    return found


def judged(run: Run, setting: Setting) -> Setting:
    """``setting`` with ``over_limit`` set from ``run``'s measured power, and a note saying how it was judged
    (or why it could not be)."""
    if setting.limit_w is None or run.power.avg_w is None:
        return setting
    wanted = scopes(setting.target)
    meters = _covering(run, wanted)
    if meters is None:
        note = (f"over-limit not judged: no measured meter of {'+'.join(wanted)} (the scope the limit caps) "
                "in this run; " + ("its power is modelled, not measured" if run.power.modelled
                                   else f"its power's scope is {run.power.scope or 'not stated'}"))
        return setting.model_copy(update={"notes": [*setting.notes, note[:2000]]})
    measured = sum(m.avg_w or 0.0 for m in meters)
    margins = [m.tolerance_w(m.avg_w or 0.0) for m in meters]
    margin = sum(t or 0.0 for t in margins)
    unstated = any(t is None for t in margins)
    over = measured > setting.limit_w + margin
    notes = list(setting.notes)
    if over:
        notes.append(f"OVER LIMIT: measured {measured:.1f} W on {'+'.join(wanted)} against a limit of "
                     f"{setting.limit_w:.1f} W (meter accuracy ±{margin:.1f} W"
                     + ("; a meter states no accuracy, compared with no margin for it" if unstated else "") + ")")
    elif unstated:
        notes.append(f"a meter of {'+'.join(wanted)} states no accuracy: its power was compared with the limit "
                     "with no margin for it")
    return setting.model_copy(update={"over_limit": over, "notes": [n[:2000] for n in notes]})

"""Whether a miner's measured power went over the power target it was set to, beyond the meter's accuracy.

A miner's power target caps the whole unit, so the run's own power figure is compared with it: its PDU
outlet (scope ``wall``) where mapped, else its firmware's own figure (scope ``node``). The margin is the
accuracy that meter states; a firmware figure states none, and is taken as +/-10%
(:func:`bench.sizing.power.unit_limit_margin_w`, the rule validate applies too), and the
note says so. A run whose power is MODELLED (nameplate J/TH x the measured rate) is not judged.
"""

from __future__ import annotations

from bench.miners.record.runrecord import ASSUMED_ACCURACY
from bench.record import Run
from bench.record.setting import Setting
from bench.sizing.power import unit_limit_margin_w


def judged(run: Run, setting: Setting) -> Setting:
    """``setting`` with ``over_limit`` from the run's measured power: over when ``avg_w`` exceeds ``limit_w`` by more
    than the primary meter's accuracy (a miner's limit caps the whole unit, so its outlet or its firmware's own
    figure is compared; an accuracy not stated is taken as +/-10%, as sitebench assumes for firmware figures;
    modelled power is not judged)."""
    power = run.power
    if setting.limit_w is None or power.avg_w is None or not power.primary:
        return setting
    notes = list(setting.notes)
    if not power.measured or power.scope_class == "modelled":
        notes.append("over-limit not judged: the run's power is MODELLED, not measured")
        return setting.model_copy(update={"notes": notes})
    margin, stated = unit_limit_margin_w(power)
    over = power.avg_w > setting.limit_w + margin
    how = f"±{margin:.1f} W" + ("" if stated else f" (±{ASSUMED_ACCURACY:.0%} assumed: the meter states no accuracy)")
    if over:
        notes.append(f"OVER LIMIT: measured {power.avg_w:.1f} W against a limit of {setting.limit_w:.1f} W ({how})")
    elif not stated:
        notes.append(f"power compared with the limit within {how}")
    return setting.model_copy(update={"over_limit": over, "notes": [n[:2000] for n in notes]})

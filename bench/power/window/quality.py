"""Measurement quality of a run's power, in the spirit of the EEHPC / Green500 levels.

``scope_class`` says what the sizing figure covers: ``"wall"``, ``"node"``,
``"components"`` (GPUs / CPU packages / DRAM only: sizing must add a node
overhead term) or ``"modelled"``.

Levels (the highest whose every condition holds; ``reasons`` says what kept
a run below 3):

3. wall or node scope; every primary meter an energy counter (EEHPC level 3
   asks for integrated energy) with stated accuracy <= 2%; the window valid
   and without gaps; idle measured before and after; cross-checks agree.
2. wall or node scope with stated accuracy <= 5% and a valid window (polled
   power, a gap, a missing idle baseline or a cross-check disagreement cap
   here).
1. measured, but components only, accuracy worse than 5% or unstated, or a
   window refused for sizing.
0. modelled (utilisation x TDP) or no power figure at all.
"""

from __future__ import annotations

from bench.record.power import Crosscheck, MeterFigure, Quality, ScopeClass

LEVEL3_ACCURACY = 0.02
LEVEL2_ACCURACY = 0.05


def scope_class(chosen: list[MeterFigure]) -> ScopeClass | None:
    """``wall``, ``node``, ``components`` or ``modelled`` for the primary meters; None without any."""
    if not chosen:
        return None
    if not all(m.measured for m in chosen):
        return "modelled"
    scope = chosen[0].scope
    if scope == "wall":
        return "wall"
    return "node" if scope == "node" else "components"


def quality(chosen: list[MeterFigure], valid_for_sizing: bool, idle_before_w: float | None,
            idle_after_w: float | None, crosschecks: list[Crosscheck]) -> Quality:
    """The quality level of a power figure from its primary meters and window."""
    cls = scope_class(chosen)
    if cls is None:
        return Quality(level=0, reasons=["no power figure"])
    if cls == "modelled":
        return Quality(level=0, reasons=["modelled (utilisation x TDP), not measured"])
    caps: list[tuple[int, str]] = []
    if cls == "components":
        caps.append((1, "components only: node overhead not measured"))
    accuracies = [m.accuracy for m in chosen]
    if any(a is None for a in accuracies):
        caps.append((1, "a primary meter states no relative accuracy"))
    else:
        worst = max(a for a in accuracies if a is not None)
        if worst > LEVEL2_ACCURACY:
            caps.append((1, f"stated accuracy {worst:.0%} > {LEVEL2_ACCURACY:.0%}"))
        elif worst > LEVEL3_ACCURACY:
            caps.append((2, f"stated accuracy {worst:.0%} > {LEVEL3_ACCURACY:.0%}"))
    if not valid_for_sizing:
        caps.append((1, "window refused for sizing"))
    if any(m.energy_method != "counter difference" for m in chosen):
        caps.append((2, "polled power integrated, not an energy counter"))
    gaps = sum(len(m.gaps) for m in chosen)
    if gaps:
        caps.append((2, f"{gaps} gap(s) in the measured window"))
    if idle_before_w is None or idle_after_w is None:
        caps.append((2, "idle not measured both before and after the window"))
    if any(not c.agree for c in crosschecks):
        caps.append((2, "meters disagree beyond their stated accuracy"))
    return Quality(level=min([3] + [c for c, _ in caps]), reasons=[r for _, r in caps])

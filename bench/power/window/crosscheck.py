"""Cross-checks between meters whose scopes nest: components inside node inside wall.

GPUs (``gpu:N``; ``module:N`` for a GH200 superchip's module counter),
CPU packages (``cpu-package:N``) and DRAM (``dram:N``) lie inside the node,
and the node inside the wall socket. Each nesting is checked:
the inner meters' sum must not exceed the outer meter by more than their
stated accuracies together, and two meters of the same scope must agree within
theirs. ``unattributed_w`` is what the widest meter saw beyond the measured
components (fans, NICs, disks, PSU losses...).
"""

from __future__ import annotations

from bench.record.power import Crosscheck, MeterFigure

COMPONENT_PREFIXES = ("gpu:", "module:", "cpu-package:", "dram:")


def is_component(scope: str) -> bool:
    """True for a scope inside the node (a GPU, CPU package or DRAM domain)."""
    return scope.startswith(COMPONENT_PREFIXES)


def _watts(m: MeterFigure) -> float:
    return m.avg_w if m.avg_w is not None else 0.0


def _compare(outer: list[MeterFigure], inner: list[MeterFigure], same_scope: bool) -> Crosscheck:
    outer_w = sum(_watts(m) for m in outer)
    inner_w = sum(_watts(m) for m in inner)
    tols = [m.tolerance_w(_watts(m)) for m in outer + inner]
    tol = None if any(t is None for t in tols) else sum(t for t in tols if t is not None)
    excess = abs(inner_w - outer_w) if same_scope else inner_w - outer_w
    agree = tol is None or excess <= tol
    names_in, names_out = [m.name for m in inner], [m.name for m in outer]
    note = ""
    if tol is None:
        note = "a meter states no accuracy: not judged"
    elif not agree:
        what = "differ" if same_scope else "exceed"
        note = (f"{'+'.join(names_in)} ({inner_w:.1f} W) {what} {'+'.join(names_out)} "
                f"({outer_w:.1f} W) by more than the stated accuracies ({tol:.1f} W)")
    return Crosscheck(outer=names_out, inner=names_in, outer_w=outer_w, inner_w=inner_w,
                      remainder_w=outer_w - inner_w, tolerance_w=tol, agree=agree, note=note[:2000])


def crosscheck(meters: list[MeterFigure]) -> tuple[float | None, list[Crosscheck]]:
    """``(unattributed_w, checks)``: every nesting / same-scope comparison among measured meters."""
    live = [m for m in meters if m.measured and m.avg_w is not None]
    components = [m for m in live if is_component(m.scope)]
    node = [m for m in live if m.scope == "node"]
    wall = [m for m in live if m.scope == "wall"]
    checks = []
    if node and components:
        checks.append(_compare(node[:1], components, same_scope=False))
    if wall and node:
        checks.append(_compare(wall[:1], node[:1], same_scope=False))
    elif wall and components:
        checks.append(_compare(wall[:1], components, same_scope=False))
    by_scope: dict[str, list[MeterFigure]] = {}
    for m in live:
        by_scope.setdefault(m.scope, []).append(m)
    for same in by_scope.values():
        for other in same[1:]:
            checks.append(_compare(same[:1], [other], same_scope=True))
    widest = (wall or node)[:1]
    unattributed = (_watts(widest[0]) - sum(_watts(m) for m in components)) if widest and components else None
    return unattributed, checks

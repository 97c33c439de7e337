"""Cross-checks between meters whose scopes nest: components inside node inside wall.

GPUs (``gpu:N``), CPU packages (``cpu-package:N``) and DRAM (``dram:N``) lie
inside the node, and the node inside the wall socket. Each nesting is checked:
the inner meters' sum must not exceed the outer meter by more than their
stated accuracies together, and two meters of the same scope must agree within
theirs. ``unattributed_w`` is what the widest meter saw beyond the measured
components (fans, NICs, disks, PSU losses...).
"""

from __future__ import annotations

from typing import Any

COMPONENT_PREFIXES = ("gpu:", "cpu-package:", "dram:")


def is_component(scope: str) -> bool:
    """True for a scope inside the node (a GPU, CPU package or DRAM domain)."""
    return scope.startswith(COMPONENT_PREFIXES)


def tolerance_w(fig: dict[str, Any], power_w: float) -> float | None:
    """A meter figure's stated accuracy in W at ``power_w``; None when it states none."""
    rel, abs_w = fig.get("accuracy"), fig.get("accuracy_w")
    if rel is None and abs_w is None:
        return None
    return max((rel or 0.0) * abs(power_w), abs_w or 0.0)


def _compare(outer: list[dict[str, Any]], inner: list[dict[str, Any]], same_scope: bool) -> dict[str, Any]:
    outer_w = sum(m["avg_w"] for m in outer)
    inner_w = sum(m["avg_w"] for m in inner)
    tols = [tolerance_w(m, m["avg_w"]) for m in outer + inner]
    tol = None if any(t is None for t in tols) else sum(t for t in tols if t is not None)
    excess = abs(inner_w - outer_w) if same_scope else inner_w - outer_w
    agree = tol is None or excess <= tol
    entry: dict[str, Any] = {
        "outer": [m["name"] for m in outer],
        "inner": [m["name"] for m in inner],
        "outer_w": outer_w,
        "inner_w": inner_w,
        "remainder_w": outer_w - inner_w,
        "tolerance_w": tol,
        "agree": agree,
    }
    if tol is None:
        entry["note"] = "a meter states no accuracy: not judged"
    elif not agree:
        what = "differ" if same_scope else "exceed"
        entry["note"] = (f"{'+'.join(entry['inner'])} ({inner_w:.1f} W) {what} {'+'.join(entry['outer'])} "
                         f"({outer_w:.1f} W) by more than the stated accuracies ({tol:.1f} W)")
    return entry


def crosscheck(meters: list[dict[str, Any]]) -> dict[str, Any]:
    """``unattributed_w`` and every nesting / same-scope comparison among measured meters.

    Args:
        meters: per-meter window figures (``scope``, ``avg_w``, ``accuracy``...).
    """
    live = [m for m in meters if m.get("measured") and m.get("avg_w") is not None]
    components = [m for m in live if is_component(m["scope"])]
    node = [m for m in live if m["scope"] == "node"]
    wall = [m for m in live if m["scope"] == "wall"]
    checks = []
    if node and components:
        checks.append(_compare(node[:1], components, same_scope=False))
    if wall and node:
        checks.append(_compare(wall[:1], node[:1], same_scope=False))
    elif wall and components:
        checks.append(_compare(wall[:1], components, same_scope=False))
    by_scope: dict[str, list[dict[str, Any]]] = {}
    for m in live:
        by_scope.setdefault(m["scope"], []).append(m)
    for same in by_scope.values():
        for other in same[1:]:
            checks.append(_compare(same[:1], [other], same_scope=True))
    widest = (wall or node)[:1]
    unattributed = (widest[0]["avg_w"] - sum(m["avg_w"] for m in components)) if widest and components else None
    return {"unattributed_w": unattributed, "crosschecks": checks}

"""The power one machine draws, as sizing uses it: scope class, node overhead and accuracy band.

Scope classes, widest first: ``wall`` > ``node`` > ``components`` (GPUs, CPU
packages, DRAM summed) > ``modelled``. The power layer records
``power.scope_class`` and ``power.valid_for_sizing``; files written before it
are classed from ``power.scope`` and ``power.measured`` and count as valid.

Accuracy band: factors (f_lo, f_hi) applied to the measured power for the low
and high bound.

- measured, stated accuracy ``a`` (a fraction): (1 - a, 1 + a), ``a`` the
  largest accuracy stated by the meters that make up the run's scope;
- measured, no accuracy stated: ``a`` = :data:`UNSTATED_ACCURACY`, and said so;
- declared (a data sheet): the declared tolerance, stored as the declared
  meter's accuracy;
- modelled (utilisation x TDP): (1/2.9, 1/0.4). CodeCarbon's own documents
  put that model at -60% to +190% of RAPL, so the true power lies between
  the estimate / 2.9 and the estimate / 0.4. Every output marks it MODELLED.

Node overhead (components-only runs): fans, NICs, drives, unmetered memory
and PSU losses on top of the metered GPUs / CPU packages / DRAM. Given with
``--node-overhead-w`` it is taken as exact, per machine. Otherwise the default
is :data:`DEFAULT_OVERHEAD` (30%) of the component power, bounded by
:data:`OVERHEAD_BAND` (10%..60%): PSU conversion loss alone is about 6% at
94% efficiency, and NVIDIA's DGX H100 is rated ~10.2 kW at most against
6.3 kW of GPU + CPU TDP (8 x 700 W + 2 x 350 W), 62% more at full draw.
The overhead is never silent: it appears in every output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.stats import summarize

UNSTATED_ACCURACY = 0.10
MODELLED_BAND = (1 / 2.9, 1 / 0.4)
MODELLED_NOTE = "MODELLED (utilisation x TDP): power bounds x1/2.9..x1/0.4 (CodeCarbon: the model is -60%..+190% off RAPL)"
DEFAULT_OVERHEAD = 0.30
OVERHEAD_BAND = (0.10, 0.60)
SCOPE_CLASSES = ("wall", "node", "components", "modelled")
REFUSED = "power not valid for sizing: "


@dataclass(frozen=True)
class MachinePower:
    """Power per machine in W with its bounds and where each part comes from."""

    watts: float
    low_w: float
    high_w: float
    scope: str
    scope_class: str
    measured: bool
    declared: bool
    band: tuple[float, float]
    band_note: str
    overhead_w: float = 0.0
    overhead_low_w: float = 0.0
    overhead_high_w: float = 0.0
    overhead_note: str = ""

    @property
    def modelled(self) -> bool:
        """True when the power is an estimate, neither measured nor declared."""
        return self.scope_class == "modelled"


def scope_class(power: dict[str, Any], declared: bool = False) -> str:
    """The run's scope class: recorded by the power layer, else derived from scope and measured."""
    recorded = power.get("scope_class")
    if recorded in SCOPE_CLASSES:
        return str(recorded)
    parts = set(str(power.get("scope") or "").split("+"))
    if not declared and (not power.get("measured") or "modelled" in parts):
        return "modelled"
    for wide in ("wall", "node"):
        if wide in parts:
            return wide
    return "components"


def refusal(power: dict[str, Any]) -> str | None:
    """Why the power layer marked this run not valid for sizing; None when it did not."""
    flag = power.get("valid_for_sizing")
    if flag is None or flag is True:
        return None
    reason: Any = None
    if isinstance(flag, dict):
        if flag.get("valid", flag.get("value", False)):
            return None
        reason = flag.get("reason")
    for key in ("sizing_reason", "valid_for_sizing_reason", "reason", "invalid_reasons"):
        reason = reason or power.get(key)
    if isinstance(reason, list):
        reason = "; ".join(str(r) for r in reason)
    return f"{REFUSED}{reason or 'marked so by the power layer'}"


def _scope_meters(power: dict[str, Any]) -> list[dict[str, Any]]:
    parts = set(str(power.get("scope") or "").split("+"))
    return [m for m in power.get("meters") or [] if isinstance(m, dict) and m.get("scope") in parts]


def accuracy_band(power: dict[str, Any], cls: str, declared: bool) -> tuple[tuple[float, float], str]:
    """(f_lo, f_hi) and a short note saying where the band comes from."""
    if cls == "modelled":
        return MODELLED_BAND, MODELLED_NOTE
    stated = [m["accuracy"] for m in _scope_meters(power)
              if isinstance(m.get("accuracy"), (int, float)) and not isinstance(m.get("accuracy"), bool)
              and 0 <= m["accuracy"] < 1]
    what = "declared tolerance" if declared else "meter accuracy"
    if stated:
        a = max(stated)
        return (1 - a, 1 + a), f"{what} ±{a:.0%}"
    a = UNSTATED_ACCURACY
    return (1 - a, 1 + a), f"no {what} stated: ±{a:.0%} assumed"


def window_powers(run: dict[str, Any]) -> list[float]:
    """Average W in each measured window (``window-N`` phases) from the run's summed power trace."""
    trace = [p for p in (run.get("power") or {}).get("trace") or []
             if isinstance(p, (list, tuple)) and len(p) == 2
             and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)]
    from bench.validation.windows import window_phases

    out = []
    for _, ph in window_phases(run):
        pts = [w for t, w in trace if ph["start"] <= t <= ph["end"]]
        if len(pts) >= 2:
            out.append(sum(pts) / len(pts))
    return out


def machine_power(run: dict[str, Any], node_overhead_w: float | None = None,
                  declared: bool = False) -> MachinePower:
    """Power per machine with bounds: P = P_m + O, P_lo = P_m_lo x f_lo + O_lo, P_hi = P_m_hi x f_hi + O_hi.

    ``P_m`` is the run's ``power.avg_w``; ``P_m_lo`` / ``P_m_hi`` widen it to
    the p10 / p90 of the per-window powers when the run recorded a trace.
    The caller checks that ``avg_w`` is a positive number.
    """
    power = run.get("power") or {}
    p_m = float(power["avg_w"])
    spread = summarize(window_powers(run))
    p_lo = min(spread["p10"], p_m) if spread["p10"] is not None else p_m
    p_hi = max(spread["p90"], p_m) if spread["p90"] is not None else p_m
    cls = scope_class(power, declared)
    band, note = accuracy_band(power, cls, declared)
    o = o_lo = o_hi = 0.0
    o_note = ""
    if cls == "components":
        if node_overhead_w is not None:
            o = o_lo = o_hi = float(node_overhead_w)
            o_note = f"+{o:g} W node overhead per machine (--node-overhead-w)"
        else:
            o, o_lo, o_hi = (f * p_m for f in (DEFAULT_OVERHEAD, *OVERHEAD_BAND))
            o_note = (f"+{o:.4g} W node overhead per machine: default {DEFAULT_OVERHEAD:.0%} of component power "
                      f"(bounds {OVERHEAD_BAND[0]:.0%}..{OVERHEAD_BAND[1]:.0%}); "
                      "set --node-overhead-w (plan: node_overhead_w)")
    return MachinePower(
        watts=p_m + o, low_w=p_lo * band[0] + o_lo, high_w=p_hi * band[1] + o_hi,
        scope=str(power.get("scope") or "?"), scope_class=cls, measured=bool(power.get("measured")) and not declared,
        declared=declared, band=band, band_note=note,
        overhead_w=o, overhead_low_w=o_lo, overhead_high_w=o_hi, overhead_note=o_note,
    )

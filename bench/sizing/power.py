"""The power one machine draws, as sizing uses it: scope class, node overhead and accuracy band.

Scope classes, widest first: ``wall`` > ``node`` > ``components`` (GPUs, CPU
packages, DRAM summed) > ``modelled``, as the power layer records them in
``power.scope_class``.

Measured power per machine ``P_m`` is the run's throughput over its
efficiency, ``rate / per_joule``: the energy of the measured windows over
their duration. Its spread (``P_m_lo``, ``P_m_hi``) is the p10 / p90 of the
per-window powers (``window_energy_j / durations_s``; files without them: the
power trace averaged per window).

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
The overhead is never silent: it appears in every output, and the efficiency
it gives (the machine-level efficiency) is printed beside the measured one.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.record import PowerBlock, Run
from bench.stats import summarize

UNSTATED_ACCURACY = 0.10
MODELLED_BAND = (1 / 2.9, 1 / 0.4)
MODELLED_NOTE = "MODELLED (utilisation x TDP): power bounds x1/2.9..x1/0.4 (CodeCarbon: the model is -60%..+190% off RAPL)"
DEFAULT_OVERHEAD = 0.30
OVERHEAD_BAND = (0.10, 0.60)
REFUSED = "power not valid for sizing: "


def unit_limit_margin_w(power: PowerBlock) -> tuple[float, bool]:
    """How far a whole unit's measured power may exceed the power target it was set to before it is over:
    the largest accuracy its primary meters state, else :data:`UNSTATED_ACCURACY` of its power (a miner's
    firmware states none). Returns ``(margin_w, stated)``; ``(0, True)`` without a measured power."""
    if power.avg_w is None:
        return 0.0, True
    stated = [m.tolerance_w(m.avg_w or power.avg_w) for m in power.primary if m.accuracy is not None]
    known = [t for t in stated if t is not None]
    return (max(known), True) if known else (UNSTATED_ACCURACY * power.avg_w, False)


@dataclass(frozen=True)
class MachinePower:
    """Power per machine in W with its bounds and where each part comes from."""

    measured_w: float
    measured_low_w: float
    measured_high_w: float
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
    def watts(self) -> float:
        """Power per machine: measured plus node overhead."""
        return self.measured_w + self.overhead_w

    @property
    def low_w(self) -> float:
        """Low bound of the power per machine."""
        return self.measured_low_w + self.overhead_low_w

    @property
    def high_w(self) -> float:
        """High bound of the power per machine."""
        return self.measured_high_w + self.overhead_high_w

    @property
    def modelled(self) -> bool:
        """True when the power is an estimate, neither measured nor declared."""
        return self.scope_class == "modelled"


def refusal(power: PowerBlock) -> str | None:
    """Why the power layer marked this run not valid for sizing; None when it did not."""
    if power.valid_for_sizing:
        return None
    return f"{REFUSED}{'; '.join(power.invalid_reasons) or 'marked so by the power layer'}"


def accuracy_band(power: PowerBlock, declared: bool) -> tuple[tuple[float, float], str]:
    """(f_lo, f_hi) and a short note saying where the band comes from."""
    if power.scope_class == "modelled":
        if any(m.method == "modelled_nameplate" for m in power.primary):  # an ASIC miner's nameplate J/TH
            return MODELLED_BAND, MODELLED_NOTE.replace("utilisation x TDP", "nameplate J/TH x measured hash rate", 1)
        return MODELLED_BAND, MODELLED_NOTE
    stated = [m.accuracy for m in power.primary if m.accuracy is not None and m.accuracy < 1]
    what = "declared tolerance" if declared else "meter accuracy"
    if any(m.method == "firmware_estimate" for m in power.primary):  # an ASIC miner's own power figure
        what = "accuracy of the miner's firmware_estimate (not metered)"
    if stated:
        a = max(stated)
        return (1 - a, 1 + a), f"{what} ±{a:.0%}"
    a = UNSTATED_ACCURACY
    return (1 - a, 1 + a), f"no {what} stated: ±{a:.0%} assumed"


def window_powers(run: Run) -> list[float]:
    """Average W of each measured window: its energy over its duration (or the trace averaged over it)."""
    energies, durations = run.power.window_energy_j, run.throughput.durations_s
    if energies and len(energies) == len(durations):
        return [e / d for e, d in zip(energies, durations) if d > 0]
    out = []
    for ph in run.windows:
        pts = [w for t, w in run.power.trace if ph.start <= t <= ph.end]
        if len(pts) >= 2:
            out.append(sum(pts) / len(pts))
    return out


def measured_power(run: Run) -> float:
    """Measured power per machine: throughput over efficiency (energy of the windows over their duration).

    Declared and converted runs without both fall back to ``power.avg_w``. The caller checks the
    run can be sized.
    """
    rate, per_j = run.throughput.rate, run.efficiency.per_joule
    if rate and per_j:
        return rate / per_j
    assert run.power.avg_w is not None
    return run.power.avg_w


def machine_power(run: Run, node_overhead_w: float | None = None, declared: bool = False) -> MachinePower:
    """Power per machine with bounds: P = P_m + O, P_lo = P_m_lo x f_lo + O_lo, P_hi = P_m_hi x f_hi + O_hi."""
    power = run.power
    p_m = measured_power(run)
    spread = summarize(window_powers(run))
    p_lo = min(spread["p10"], p_m) if spread["p10"] is not None else p_m
    p_hi = max(spread["p90"], p_m) if spread["p90"] is not None else p_m
    cls = power.scope_class or "components"
    band, note = accuracy_band(power, declared)
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
        measured_w=p_m, measured_low_w=p_lo * band[0], measured_high_w=p_hi * band[1],
        scope=power.scope or "?", scope_class=cls, measured=power.measured and not declared,
        declared=declared, band=band, band_note=note,
        overhead_w=o, overhead_low_w=o_lo, overhead_high_w=o_hi, overhead_note=o_note,
    )

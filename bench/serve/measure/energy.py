"""Joules per token over the steady window, with the scope of each meter.

The power layer gives the block of the measured windows (the slices of the steady window,
:func:`bench.power.window.block.power_block`): each meter's energy between the first and last
slice markers (a counter's difference, or polled power integrated), the primary scope's sum
(wall, else node, else the measured components, see :func:`bench.power.window.energy.primary`),
and whether the window holds enough readings for each meter. J per output token is that energy
over the output tokens in the window (so it is ``1 / efficiency.per_joule`` of the run); J per
token over input plus output tokens.

Scrape jitter of a remote counter (the ``prometheus`` meter): a counter reading carries the time
its value first came back, so the readings at the window's edge markers date from up to one
poll (``period / 2``) plus a fetch before each marker. The energy is then that of a span which
differs from the window by at most that much at each edge: at power P over a window of T s, the
energy is off by at most ``P x (period / 2 + fetch time)`` (a relative ``period / (2 T)``).

The figure is refused for sizing (``valid_for_sizing`` false, with the reasons) when the power
layer refuses the window for those meters or the load in it was not steady
(:mod:`bench.serve.measure.steady`); the refusal is written into the run's power block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.record import PowerBlock, Quality
from bench.serve.measure.steady import SteadyWindow

REFUSED = "window refused for sizing"


@dataclass(frozen=True)
class MeterEnergy:
    """One meter's energy in the window and per token."""

    name: str
    scope: str
    measured: bool
    energy_j: float | None
    j_per_output_token: float | None
    j_per_token: float | None
    valid: bool
    reasons: list[str]


@dataclass
class ServeEnergy:
    """Energy per token of the primary scope and of every meter; ``block`` is the run's power block."""

    block: PowerBlock
    j_per_output_token: float | None
    j_per_token: float | None
    meters: list[MeterEnergy] = field(default_factory=list)


def _per(joules: float | None, tokens: float) -> float | None:
    return joules / tokens if joules is not None and tokens > 0 else None


def refuse(block: PowerBlock, reasons: list[str]) -> PowerBlock:
    """``block`` refused for sizing with ``reasons`` added (quality capped at level 1, as the power layer does)."""
    if not reasons:
        return block
    q = block.quality
    quality = q if REFUSED in q.reasons or block.avg_w is None else Quality(
        level=min(q.level, 1), reasons=[*q.reasons, REFUSED])
    return block.model_copy(update={"valid_for_sizing": False, "quality": quality,
                                    "invalid_reasons": list(dict.fromkeys([*block.invalid_reasons, *reasons]))})


def energy_per_token(block: PowerBlock, window: SteadyWindow, extra_reasons: list[str] | None = None) -> ServeEnergy:
    """J per output token and per token over ``window``; the block refused when the window was not steady."""
    reasons = [f"steady window: {r}"[:2000] for r in window.reasons] + list(extra_reasons or [])
    block = refuse(block, reasons)
    meters = [MeterEnergy(m.name, m.scope, m.measured, m.energy_j, _per(m.energy_j, window.output_tokens),
                          _per(m.energy_j, window.total_tokens), m.valid, list(m.invalid_reasons))
              for m in block.meters]
    return ServeEnergy(block, _per(block.energy_j, window.output_tokens), _per(block.energy_j, window.total_tokens),
                       meters)

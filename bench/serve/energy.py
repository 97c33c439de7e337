"""Joules per token over the steady window, with the scope of each meter.

The power layer gives each meter's figures between the window's markers
(:func:`bench.power.window.block.power_block`): mean power over the readings that span the
window, and whether the window holds enough readings for that meter. Energy in the window is
that mean power times the window's length: for a counter read at the markers (NVML, RAPL) this
is the counter difference exactly; for a remote counter held between scrapes (the
``prometheus`` meter), whose readings fall near but not on the markers, it keeps the energy on
the window rather than on the scrapes around it. J per output token divides it by the output
tokens in the window; J per token by input plus output tokens.

The figure for sizing is the power layer's primary scope (wall, else node, else the sum of the
measured components, see :func:`bench.power.window.energy.primary`). It is refused
(``valid_for_sizing`` false) when the power layer refuses the window for those meters or the
load in it was not steady (:mod:`bench.serve.steady`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.serve.steady import SteadyWindow


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
    """Energy per token of the primary scope, every meter's figure, and the power block."""

    scope: str | None
    scope_class: str | None
    measured: bool
    avg_w: float | None
    energy_j: float | None
    j_per_output_token: float | None
    j_per_token: float | None
    valid_for_sizing: bool
    reasons: list[str] = field(default_factory=list)
    meters: list[MeterEnergy] = field(default_factory=list)
    block: dict[str, Any] = field(default_factory=dict)


def _per(joules: float | None, tokens: float) -> float | None:
    return joules / tokens if joules is not None and tokens > 0 else None


def energy_per_token(block: dict[str, Any], window: SteadyWindow) -> ServeEnergy:
    """J per output token and per token from a power block over ``window``."""
    span = window.duration
    meters = []
    for m in block.get("meters") or []:
        joules = m["avg_w"] * span if m.get("avg_w") is not None and span > 0 else None
        meters.append(MeterEnergy(m["name"], m["scope"], bool(m.get("measured")), joules,
                                  _per(joules, window.output_tokens), _per(joules, window.total_tokens),
                                  bool(m.get("valid")), list(m.get("invalid_reasons") or [])))
    avg_w = block.get("avg_w")
    joules = avg_w * span if avg_w is not None and span > 0 else None
    reasons = [*(block.get("invalid_reasons") or []), *(f"steady window: {r}" for r in window.reasons)]
    return ServeEnergy(
        scope=block.get("scope"), scope_class=block.get("scope_class"), measured=bool(block.get("measured")),
        avg_w=avg_w, energy_j=joules, j_per_output_token=_per(joules, window.output_tokens),
        j_per_token=_per(joules, window.total_tokens),
        valid_for_sizing=bool(block.get("valid_for_sizing")) and window.valid and joules is not None,
        reasons=reasons, meters=meters, block=block,
    )

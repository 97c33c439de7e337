"""What a miner may claim, bounded by what it cannot forge: its model's catalog figures.

A miner's counter, its share difficulty and its nominal rate all come from its own firmware, so a
firmware that inflates them together agrees with itself. The bounds here come from outside it, from
the model's catalog entry (:mod:`bench.miners.protocol.catalog`: nameplate rate and power, chips per
board, from the makers' declared figures):

- **Rate ceiling.** ``nameplate x (1 + RATE_TOLERANCE) x chips present / chips expected`` (the chip
  fraction only where the firmware reports chips, never above 1). :data:`RATE_TOLERANCE` is +35%: the
  autotuning firmwares (Braiins OS, LuxOS, VNish) overclock a unit some 10-30% above its nameplate, so an
  honest overclock stays under it, and a 2x lie cannot. ``--rate-tolerance`` changes it for a site that
  overclocks harder, up to :data:`MAX_RATE_TOLERANCE` (+90%, still short of 2x); the run records it.
  A window over the ceiling is refused (invalid, with the reason) and the windows after it are measured
  on; a miner whose every window is over it has no valid window, and its run fails with the reason.
- **Jumps.** Between two polls the counter may not rise faster than :data:`JUMP_FACTOR` x the lower of the
  ceiling and the firmware's nominal rate, nor faster than :data:`~bench.miners.protocol.parse.MAX_RATE_HS`
  for any model: such an interval is a gap (a counter glitch), like a restart, never a window's work.
- **Firmware power.** A firmware's own power figure must lie between :data:`MIN_POWER_FRACTION` (0.5) x the
  nameplate J/TH x the measured rate (no miner is twice as efficient as its datasheet) and
  :data:`MAX_POWER_FACTOR` (2) x the nameplate power. Outside, the figure is refused: the run's power is
  the nameplate model instead (MODELLED), and the run is not verified.
- **Unknown models.** A model not in the catalog (or without nameplate figures) cannot be checked: the run
  says so, and is verified by its pool shares alone (:mod:`bench.miners.measure.verify`).

The figures used go in the run's ``metrics`` (:meth:`Bound.metrics`) so that a reader can recompute them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.miners.protocol import catalog
from bench.miners.protocol.model import Identity, Poll

#: How far over its nameplate a miner's measured rate may be: what an overclock reaches, not a 2x lie
#: (``--rate-tolerance``; at most :data:`MAX_RATE_TOLERANCE`).
RATE_TOLERANCE = 0.35
#: The most ``--rate-tolerance`` may be: beyond it, a 2x lie would pass.
MAX_RATE_TOLERANCE = 0.9
#: A counter rising faster than this multiple of the ceiling (or the nominal rate) between polls is a glitch.
JUMP_FACTOR = 3.0
#: The firmware's power may not be under this fraction of nameplate J/TH x the measured rate.
MIN_POWER_FRACTION = 0.5
#: The firmware's power may not be over this multiple of the nameplate power.
MAX_POWER_FACTOR = 2.0


@dataclass(frozen=True)
class Bound:
    """One miner's bounds from the catalog (None where the catalog does not know the figure).

    Attributes:
        model: the model as the firmware names it; ``catalog_model`` the catalog's entry (None: unknown).
        nameplate_hs, nameplate_w: the nameplate rate (H/s) and power (W).
        chips, chips_expected: the most chips the firmware reported, and the model's (all boards).
    """

    model: str
    catalog_model: str | None
    nameplate_hs: float | None
    nameplate_w: float | None
    chips: int | None = None
    chips_expected: int | None = None
    tolerance: float = RATE_TOLERANCE

    @property
    def chips_fraction(self) -> float | None:
        """Chips present over chips expected (at most 1), when both are known and some chips are reported."""
        if not self.chips or not self.chips_expected:
            return None
        return min(self.chips / self.chips_expected, 1.0)

    @property
    def ceiling_hs(self) -> float | None:
        """The most a miner of this model, with these chips, can hash (H/s); None: no nameplate."""
        if not self.nameplate_hs:
            return None
        return self.nameplate_hs * (1 + self.tolerance) * (self.chips_fraction or 1.0)

    @property
    def j_per_th(self) -> float | None:
        """Nameplate J/TH."""
        return self.nameplate_w / (self.nameplate_hs / 1e12) if self.nameplate_w and self.nameplate_hs else None

    def _name(self) -> str:
        return self.catalog_model or self.model

    def rate_reason(self, rate_hs: float | None) -> str | None:
        """Why ``rate_hs`` is no rate this miner can reach (None: plausible, or not checkable)."""
        ceiling = self.ceiling_hs
        if rate_hs is None or ceiling is None or rate_hs <= ceiling:
            return None
        chips = f" with {self.chips} of {self.chips_expected} chips" if self.chips_fraction not in (None, 1.0) else ""
        return (f"implausible: {rate_hs / 1e12:.4g} TH/s is {rate_hs / self.nameplate_hs:.2f}x the {self._name()}'s "  # type: ignore[operator]
                f"nameplate {self.nameplate_hs / 1e12:g} TH/s{chips}, over the +{self.tolerance:.0%} an overclock "  # type: ignore[operator]
                f"can reach (ceiling {ceiling / 1e12:.4g} TH/s): refused")

    def power_reason(self, power_w: float | None, rate_hs: float | None) -> str | None:
        """Why a firmware's ``power_w`` at ``rate_hs`` is no power this model draws (None: plausible or unchecked)."""
        if power_w is None or rate_hs is None or self.j_per_th is None or self.nameplate_w is None:
            return None
        floor = MIN_POWER_FRACTION * self.j_per_th * rate_hs / 1e12
        top = MAX_POWER_FACTOR * self.nameplate_w
        if power_w < floor:
            return (f"firmware power {power_w:.0f} W for {rate_hs / 1e12:.4g} TH/s is {power_w / (rate_hs / 1e12):.3g} "
                    f"J/TH, under {MIN_POWER_FRACTION:g}x the {self._name()}'s nameplate {self.j_per_th:.3g} J/TH "
                    f"(floor {floor:.0f} W): no miner is twice as efficient as its datasheet; refused")
        if power_w > top:
            return (f"firmware power {power_w:.0f} W is over {MAX_POWER_FACTOR:g}x the {self._name()}'s nameplate "
                    f"{self.nameplate_w:g} W: refused")
        return None

    def note(self) -> str:
        """One line for the run's verification reasons: what the rate was checked against."""
        if self.ceiling_hs is None:
            why = "not in sitebench's catalog" if self.catalog_model is None else "in the catalog without a nameplate rate"
            return (f"{self.model} is {why}: its rate cannot be checked against a nameplate, only against its pool "
                    "shares")
        chips = f" x {self.chips_fraction:.3f} of its chips" if self.chips_fraction not in (None, 1.0) else ""
        return (f"rate checked against the {self._name()}'s nameplate {self.nameplate_hs / 1e12:g} TH/s "  # type: ignore[operator]
                f"+{self.tolerance:.0%}{chips} (ceiling {self.ceiling_hs / 1e12:.4g} TH/s)")

    def metrics(self) -> dict[str, object]:
        """The figures behind the bounds, for the run's ``metrics`` (a reader recomputes the ceiling from them:
        ``nameplate_ths x 1e12 x (1 + rate_tolerance) x (chips_fraction or 1)``)."""
        return {"catalog_model": self.catalog_model,
                "nameplate_ths": None if self.nameplate_hs is None else self.nameplate_hs / 1e12,
                "nameplate_w": self.nameplate_w, "rate_tolerance": self.tolerance,
                "chips_fraction": self.chips_fraction, "rate_ceiling_hs": self.ceiling_hs,
                "power_floor_fraction": MIN_POWER_FRACTION, "power_ceiling_factor": MAX_POWER_FACTOR}


def bound(identity: Identity, polls: Sequence[Poll] = (), tolerance: float = RATE_TOLERANCE) -> Bound:
    """The bounds of one miner: its model's catalog figures, the most chips ``polls`` reported, and the
    overclock ``tolerance`` (``--rate-tolerance``)."""
    spec = catalog.lookup(identity.model)
    chips = max((p.chips for p in polls if p.chips is not None), default=None)
    expected = max((p.chips_expected for p in polls if p.chips_expected is not None), default=None)
    if expected is None and spec is not None and spec.chips_per_board:
        expected = spec.chips_per_board * spec.boards
    if spec is None:
        return Bound(identity.model, None, None, None, chips, expected, tolerance)
    return Bound(identity.model, spec.model, None if spec.nameplate_ths is None else spec.nameplate_ths * 1e12,
                 spec.nameplate_w, chips, expected, tolerance)


def jump_reference(bound: Bound | None, nominal_hs: float | None) -> tuple[float, str] | None:
    """The rate a rise between two polls is judged against, and what it is: the lower of the model's ceiling and
    the firmware's nominal rate (None: neither known). Over :data:`JUMP_FACTOR` x it, the interval is a glitch."""
    refs = [(r, what) for r, what in ((None if bound is None else bound.ceiling_hs, "the model's ceiling"),
                                      (nominal_hs, "the nominal rate")) if r]
    return min(refs) if refs else None

"""A simulated miner's power curve: what it hashes and draws under each power target, and how it gets there.

MODELLED from two DECLARED operating points of the Antminer S19j Pro (as the issue quotes them: 96 TH/s at
2,850 W stock, 29.7 J/TH; 74.5 TH/s at 1,905 W underclocked, 25.6 J/TH). Its energy per hash is taken as
linear in its hash rate through those two points, which, with ``x = h / h0`` the hash rate over the stock
rate and ``e0 = P0 / h0`` the stock J/TH, is::

    e(x) = e0 * (1 - K + K * x)          K = (1 - e1 / e0) / (1 - h1 / h0) = 0.6192 (the S19j Pro's)
    P(x) = x * h0 * e(x) = P0 * x * (1 - K + K * x)

so the hash rate under a power target ``P <= P0`` is the positive root of ``K x^2 + (1 - K) x - P / P0 = 0``.
A power limit caps the miner: a target at or over its stock power leaves it at stock. Another model's curve
has the same shape scaled to its own stock figures (:meth:`PowerCurve.for_model`: the model's DECLARED
nameplate rate and power from sitebench's catalog, which holds the reference table's figures).

After a retarget the miner moves from where it was to the new point along a first-order lag (time constant
``tau_s``, a few seconds: a real miner takes minutes), its hash rate and power both (:class:`Settle`); the
hashes done are the exact integral of that rate. Nothing here is random: the same calls give the same figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.miners.protocol import catalog

#: The S19j Pro's two declared points (TH/s, W): stock, and underclocked.
S19J_PRO_STOCK = (96.0, 2850.0)
S19J_PRO_UNDERCLOCKED = (74.5, 1905.0)


def _shape(stock: tuple[float, float], other: tuple[float, float]) -> float:
    """K of a curve through two (TH/s, W) points: the J/TH's slope in ``x``, over the stock J/TH."""
    (h0, p0), (h1, p1) = stock, other
    return (1 - (p1 / h1) / (p0 / h0)) / (1 - h1 / h0)


#: The S19j Pro's K (0.6192): J/TH falls by 61.9% of the stock J/TH per unit of hash rate given up.
K_S19J_PRO = _shape(S19J_PRO_STOCK, S19J_PRO_UNDERCLOCKED)
#: The lowest target the simulated firmware takes, as a fraction of its stock power.
FLOOR_FRACTION = 0.5
#: How close to its new point a settling miner is before its firmware says it is stable (fraction of the rate).
STABLE_WITHIN = 1e-3


@dataclass(frozen=True)
class PowerCurve:
    """One model's curve: its stock point (``stock_ths`` TH/s at ``stock_w`` W) and its shape ``k``."""

    stock_ths: float
    stock_w: float
    k: float = K_S19J_PRO

    @classmethod
    def for_model(cls, model: str) -> PowerCurve:
        """The S19j Pro's shape scaled to ``model``'s declared nameplate (the S19j Pro's own figures when the
        catalog has no nameplate for it)."""
        spec = catalog.lookup(model)
        if spec is not None and spec.nameplate_ths and spec.nameplate_w:
            return cls(float(spec.nameplate_ths), float(spec.nameplate_w))
        return cls(*S19J_PRO_STOCK)

    @property
    def floor_w(self) -> float:
        """The lowest power target the simulated firmware takes (W)."""
        return FLOOR_FRACTION * self.stock_w

    def j_per_th(self, ths: float) -> float:
        """Energy per hash (J/TH) at ``ths`` TH/s."""
        return self.stock_w / self.stock_ths * (1 - self.k + self.k * ths / self.stock_ths)

    def power_at(self, ths: float) -> float:
        """Power (W) at ``ths`` TH/s."""
        return ths * self.j_per_th(ths)

    def ths_at(self, power_w: float) -> float:
        """The hash rate (TH/s) the miner settles at under a power target of ``power_w`` (stock at or above stock)."""
        r = min(power_w / self.stock_w, 1.0)
        k = self.k
        if k == 0:
            return self.stock_ths * r
        x = (-(1 - k) + math.sqrt((1 - k) ** 2 + 4 * k * r)) / (2 * k)
        return self.stock_ths * x

    def point(self, power_w: float) -> tuple[float, float]:
        """``(TH/s, W)`` the miner settles at under a power target of ``power_w``."""
        ths = self.ths_at(power_w)
        return ths, self.power_at(ths)

    def gain_per_mw(self, power_w: float) -> float:
        """What a fixed MW buys at this target over stock, as a fraction: ``(TH/s per W) / (stock TH/s per W) - 1``."""
        ths, watts = self.point(power_w)
        return (ths / watts) / (self.stock_ths / self.stock_w) - 1

    def best(self, targets: list[float]) -> float:
        """Of ``targets`` (W), the one at which a fixed MW buys the most TH/s (the first of equals)."""
        return max(targets, key=lambda w: (round(self.gain_per_mw(w), 12), -targets.index(w)))


@dataclass(frozen=True)
class Settle:
    """A miner on its way from ``(from_ths, from_w)`` to ``(to_ths, to_w)`` since ``t0`` (``time.monotonic()``),
    each figure a first-order lag with time constant ``tau_s``."""

    t0: float
    from_ths: float
    from_w: float
    to_ths: float
    to_w: float
    tau_s: float = 3.0

    @classmethod
    def at_rest(cls, t0: float, ths: float, watts: float, tau_s: float = 3.0) -> Settle:
        """A miner settled at ``(ths, watts)``."""
        return cls(t0, ths, watts, ths, watts, tau_s)

    def _left(self, t: float) -> float:
        """The fraction of the change still to come at ``t``."""
        if self.tau_s <= 0 or t <= self.t0:
            return 1.0 if self.tau_s > 0 else 0.0
        return math.exp(-(t - self.t0) / self.tau_s)

    def ths(self, t: float) -> float:
        """The hash rate at ``t`` (TH/s)."""
        return self.to_ths + (self.from_ths - self.to_ths) * self._left(t)

    def watts(self, t: float) -> float:
        """The power at ``t`` (W)."""
        return self.to_w + (self.from_w - self.to_w) * self._left(t)

    def terahashes(self, a: float, b: float) -> float:
        """The exact integral of the hash rate from ``a`` to ``b`` (TH), ``t0 <= a <= b``."""
        if b <= a:
            return 0.0
        if self.tau_s <= 0:
            return self.to_ths * (b - a)
        return self.to_ths * (b - a) + (self.from_ths - self.to_ths) * self.tau_s * (self._left(a) - self._left(b))

    def settled(self, t: float) -> bool:
        """Within :data:`STABLE_WITHIN` of the new rate (what the simulated firmware's stability flag says)."""
        return abs(self.ths(t) - self.to_ths) <= STABLE_WITHIN * max(self.to_ths, 1e-12)

    def retarget(self, t: float, to_ths: float, to_w: float) -> Settle:
        """Towards a new point from wherever the miner is at ``t``."""
        return Settle(t, self.ths(t), self.watts(t), to_ths, to_w, self.tau_s)

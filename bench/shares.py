"""Pool-share statistics: how many shares an honest hash counter predicts, and how far the count may stray.

A share of difficulty D costs on average D x 2^32 hashes, and the number of shares N a miner finds is
Poisson. The exact (Garwood) two-sided interval of N's mean at :data:`CONFIDENCE` bounds the ratio of
share hashes to counted hashes an honest counter shows; with M miners in a run each is judged at
1 - (1 - CONFIDENCE) / M (Bonferroni), so a thousand honest miners fail together no more often than one
would alone. The miners front end judges its counters with these (:mod:`bench.miners.measure.verify`)
and the validator recomputes them from a result file (:mod:`bench.validation.shares`): one definition.
"""

from __future__ import annotations

import math
from statistics import NormalDist

#: Two-sided confidence of the Poisson interval for a whole run (3 sigma), shared among its miners.
CONFIDENCE = 0.9973


def per_miner(confidence: float, miners: int) -> float:
    """The confidence each of ``miners`` is judged at so the run as a whole keeps ``confidence``."""
    return 1 - (1 - confidence) / max(miners, 1)


def _cdf(m: int, mu: float) -> float:
    """P(X <= m) for X ~ Poisson(mu)."""
    if m < 0:
        return 0.0
    if mu == 0:
        return 1.0
    log_term, total = -mu, 0.0
    for k in range(m + 1):
        total += math.exp(log_term)
        log_term += math.log(mu) - math.log(k + 1)
    return min(total, 1.0)


def _solve(m: int, target: float) -> float:
    """The mean mu at which P(X <= m) = target (the CDF falls as mu grows)."""
    lo, hi = 0.0, m + 20.0 + 10.0 * math.sqrt(m + 1)
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _cdf(m, mid) > target else (lo, mid)
    return (lo + hi) / 2


def _chi2_quantile(p: float, dof: float) -> float:
    """Wilson-Hilferty approximation of the chi-square quantile (relative error < 1e-3 above 100 dof)."""
    z = NormalDist().inv_cdf(p)
    return dof * (1 - 2 / (9 * dof) + z * math.sqrt(2 / (9 * dof))) ** 3


def poisson_interval(n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact (Garwood) interval for the mean of a Poisson count ``n``; Wilson-Hilferty above 100."""
    alpha = 1 - confidence
    if n > 100:
        return _chi2_quantile(alpha / 2, 2 * n) / 2, _chi2_quantile(1 - alpha / 2, 2 * n + 2) / 2
    low = 0.0 if n == 0 else _solve(n - 1, 1 - alpha / 2)
    return low, _solve(n, alpha / 2)


def ratio_bounds(n: int, confidence: float) -> tuple[float, float | None]:
    """Bounds on share hashes / counter hashes for an honest counter that found ``n`` shares:
    ``n`` over the Poisson interval of the mean at ``confidence`` (no upper bound when it reaches 0).

    The counter predicts ``n / ratio`` shares; it agrees when that lies in the interval."""
    low, high = poisson_interval(n, confidence)
    return n / high, (n / low if low > 0 else None)


def within(ratio: float, low: float, high: float | None) -> bool:
    """Whether a share ratio lies inside its bounds (``high`` None: no upper bound)."""
    return low <= ratio and (high is None or ratio <= high)

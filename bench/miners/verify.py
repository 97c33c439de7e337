"""What ``verified`` means for a miner: its counter agrees with the pool, and its chips rarely err.

Pool cross-check: a share of difficulty D costs on average D x 2^32 hashes, so over the
measured windows the shares imply ``Delta difficulty x 2^32`` hashes (accepted plus
rejected and stale: all were work). The share count N is Poisson; the counter passes
when the number of shares it predicts, ``counter hashes / (mean D x 2^32)``, lies inside
the exact (Garwood) two-sided interval of N at :data:`CONFIDENCE` for the whole run: with M miners
each is judged at 1 - (1 - CONFIDENCE) / M (Bonferroni), so a thousand honest miners fail together no
more often than one would alone (at 3 sigma per miner, 2.7 honest miners in 1,000 would). Hardware-error rate:
``Delta errors / (Delta errors + hashes / 2^32)``, the share of difficulty-1 nonces that
were wrong, as cgminer's ``Device Hardware%``; it must stay under :data:`MAX_HW_ERROR_RATE`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

from bench.miners.window import Window

#: Two-sided confidence of the Poisson interval for a whole run (3 sigma), shared among its miners.
CONFIDENCE = 0.9973


def per_miner(confidence: float, miners: int) -> float:
    """The confidence each of ``miners`` is judged at so the run as a whole keeps ``confidence``."""
    return 1 - (1 - confidence) / max(miners, 1)
#: Largest hardware-error rate a verified miner may show (0.1% of difficulty-1 nonces).
MAX_HW_ERROR_RATE = 1e-3
TWO32 = 2.0**32


@dataclass(frozen=True)
class ShareCheck:
    """Counter hashes against pool shares over the valid windows.

    Attributes:
        counter_hashes: hashes by the counter over the windows that report shares.
        share_hashes: Delta difficulty x 2^32 over the same windows (None when not reported).
        shares: N, the number of shares found.
        ratio: share_hashes / counter_hashes; ``ratio_low``/``ratio_high`` bound it at CONFIDENCE.
        agrees: True/False, or None when the pool side cannot be judged (``reason`` says why).
        confidence: the level the interval is taken at (this miner's share of the run's).
    """

    counter_hashes: float
    share_hashes: float | None
    shares: int | None
    ratio: float | None
    ratio_low: float | None
    ratio_high: float | None
    agrees: bool | None
    reason: str
    confidence: float | None = None


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


def share_check(windows: Sequence[Window], miners: int = 1) -> ShareCheck:
    """Pool shares against the counter over ``windows`` (the valid ones), one of ``miners`` in the run."""
    usable = [w for w in windows if w.accepted_difficulty is not None and w.shares is not None]
    counter = sum(w.hashes for w in usable)
    if not usable:
        return ShareCheck(sum(w.hashes for w in windows), None, None, None, None, None, None,
                          "the firmware reports no share difficulty: the pool cross-check cannot be made")
    difficulty = sum((w.accepted_difficulty or 0.0) + (w.rejected_difficulty or 0.0) for w in usable)
    n = sum(w.shares or 0 for w in usable)
    share_hashes = difficulty * TWO32
    if n == 0 or counter <= 0:
        return ShareCheck(counter, share_hashes, n, None, None, None, None,
                          "no shares found in the measured windows: lengthen --window or --repeats")
    level = per_miner(CONFIDENCE, miners)
    ratio = share_hashes / counter
    ratio_low, ratio_high = ratio_bounds(n, level)
    agrees = within(ratio, ratio_low, ratio_high)
    verdict = "agree" if agrees else "DISAGREE"
    return ShareCheck(counter, share_hashes, n, ratio, ratio_low, ratio_high, agrees,
                      f"pool shares {verdict} with the counter: {n} shares imply {ratio:.3f}x the counted hashes "
                      f"(expected within {ratio_low:.3f}..{ratio_high or float('inf'):.3f} at {level:.4%})", level)


def ratio_bounds(n: int, confidence: float) -> tuple[float, float | None]:
    """Bounds on share hashes / counter hashes for an honest counter that found ``n`` shares:
    ``n`` over the Poisson interval of the mean at ``confidence`` (no upper bound when it reaches 0).

    The counter predicts ``n / ratio`` shares; it agrees when that lies in the interval."""
    low, high = poisson_interval(n, confidence)
    return n / high, (n / low if low > 0 else None)


def within(ratio: float, low: float, high: float | None) -> bool:
    """Whether a share ratio lies inside its bounds (``high`` None: no upper bound)."""
    return low <= ratio and (high is None or ratio <= high)


def hw_error_rate(windows: Sequence[Window]) -> float | None:
    """Hardware errors per difficulty-1 nonce over ``windows`` (None when not reported)."""
    usable = [w for w in windows if w.hw_errors is not None]
    if not usable:
        return None
    errors = sum(w.hw_errors or 0 for w in usable)
    nonces = sum(w.hashes for w in usable) / TWO32
    return errors / (errors + nonces) if errors + nonces > 0 else None


def verdict(windows: Sequence[Window], max_hw_error_rate: float = MAX_HW_ERROR_RATE,
            miners: int = 1) -> tuple[bool, list[str]]:
    """``verified`` and the reasons behind it, over the valid windows.

    Verified needs valid windows, pool shares agreeing with the counter, and a hardware-error
    rate under the limit; a firmware that reports no hardware errors is noted, not failed.
    """
    valid = [w for w in windows if w.valid]
    if not valid:
        return False, ["no valid measured window"]
    check = share_check(valid, miners)
    reasons = [check.reason]
    ok = bool(check.agrees)
    rate = hw_error_rate(valid)
    if rate is None:
        reasons.append("hardware errors not reported by this firmware: not checked")
    elif rate > max_hw_error_rate:
        ok = False
        reasons.append(f"hardware-error rate {rate:.3%} over the limit {max_hw_error_rate:.3%}")
    else:
        reasons.append(f"hardware-error rate {rate:.4%} (limit {max_hw_error_rate:.3%})")
    return ok, reasons

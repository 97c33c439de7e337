"""What ``verified`` means for a miner: its counter agrees with the pool, and its chips rarely err.

Pool cross-check: a share of difficulty D costs on average D x 2^32 hashes, so over the
measured windows the shares imply ``Delta difficulty x 2^32`` hashes (accepted plus
rejected and stale: all were work). The share count N is Poisson; the counter passes
when the number of shares it predicts, ``counter hashes / (mean D x 2^32)``, lies inside
the exact (Garwood) two-sided interval of N at :data:`~bench.shares.CONFIDENCE` for the whole run
(:mod:`bench.shares`, which the validator recomputes it with): with M miners
each is judged at 1 - (1 - CONFIDENCE) / M (Bonferroni), so a thousand honest miners fail together no
more often than one would alone (at 3 sigma per miner, 2.7 honest miners in 1,000 would). Hardware-error rate:
``Delta errors / (Delta errors + hashes / 2^32)``, the share of difficulty-1 nonces that
were wrong, as cgminer's ``Device Hardware%``; it must stay under :data:`MAX_HW_ERROR_RATE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.miners.measure.window import Window
from bench.shares import CONFIDENCE, per_miner, ratio_bounds, within

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

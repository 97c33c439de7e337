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

What the counters alone cannot forge (issue 25): a firmware that inflates its counter and its accepted
difficulty together still agrees with itself, so the pool check is only one of three bounds:

- the check must be *conclusive*: its interval must exclude a counter reading :data:`LIE_FACTOR` (2x)
  high, i.e. ``ratio_low > 1 / LIE_FACTOR``; with too few shares it cannot tell, says so, and the
  miner is not verified (nor is one whose firmware reports no shares at all);
- the accepted difficulty per share must be the share difficulty the pool set (the active pool's
  ``Last Share Difficulty`` at the windows' polls), within :data:`DIFFICULTY_SLACK` of the lowest and
  highest seen (a pool's vardiff moves it between polls): inflated difficulty is a lie the share
  *count* gives away;
- the measured rate must be plausible for the model (:mod:`bench.miners.measure.plausible`), which
  :func:`verdict` states beside the pool check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.miners.measure.plausible import Bound
from bench.miners.measure.window import Window
from bench.shares import CONFIDENCE, per_miner, ratio_bounds, within

#: Largest hardware-error rate a verified miner may show (0.1% of difficulty-1 nonces).
MAX_HW_ERROR_RATE = 1e-3
#: The pool check is conclusive only when it would refuse a counter reading this many times high.
LIE_FACTOR = 2.0
#: The accepted difficulty per share may stray this factor outside the pool's share difficulties seen.
DIFFICULTY_SLACK = 1.5
TWO32 = 2.0**32


@dataclass(frozen=True)
class ShareCheck:
    """Counter hashes against pool shares over the valid windows.

    Attributes:
        counter_hashes: hashes by the counter over the windows that report shares.
        share_hashes: Delta difficulty x 2^32 over the same windows (None when not reported).
        shares: N, the number of shares found.
        ratio: share_hashes / counter_hashes; ``ratio_low``/``ratio_high`` bound it at CONFIDENCE.
        agrees: True/False, or None when the pool side cannot be judged (``reason`` says why): no shares,
            or too few to tell a counter reading :data:`LIE_FACTOR` x high.
        confidence: the level the interval is taken at (this miner's share of the run's).
        difficulty_per_share: accepted + rejected difficulty over the share count; ``pool_difficulty`` the
            lowest and highest share difficulty the pool set (None: not reported).
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
    difficulty_per_share: float | None = None
    pool_difficulty: tuple[float, float] | None = None


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
    seen = [w.pool_difficulty for w in usable if w.pool_difficulty is not None]
    pool = (min(d[0] for d in seen), max(d[1] for d in seen)) if seen else None
    per_share = difficulty / n
    bounds = f"{ratio_low:.3f}..{ratio_high or float('inf'):.3f} at {level:.4%}"
    if pool is not None and not pool[0] / DIFFICULTY_SLACK <= per_share <= pool[1] * DIFFICULTY_SLACK:
        return ShareCheck(counter, share_hashes, n, ratio, ratio_low, ratio_high, False,
                          f"pool shares DISAGREE with the accepted difficulty: {difficulty:.6g} over {n} shares is "
                          f"{per_share:.6g} a share, but the pool set {pool[0]:.6g}..{pool[1]:.6g} (+/-"
                          f"{DIFFICULTY_SLACK:g}x): the difficulty counter is not the shares' work", level, per_share, pool)
    agrees = within(ratio, ratio_low, ratio_high)
    if agrees and ratio_low <= 1 / LIE_FACTOR:
        return ShareCheck(counter, share_hashes, n, ratio, ratio_low, ratio_high, None,
                          f"pool shares cannot cross-check the counter: {n} shares bound it only to {bounds}, which "
                          f"would not refuse a counter reading {LIE_FACTOR:g}x high: lengthen --window or --repeats "
                          "(or lower the pool difficulty)", level, per_share, pool)
    verdict = "agree" if agrees else "DISAGREE"
    return ShareCheck(counter, share_hashes, n, ratio, ratio_low, ratio_high, agrees,
                      f"pool shares {verdict} with the counter: {n} shares imply {ratio:.3f}x the counted hashes "
                      f"(expected within {bounds})", level, per_share, pool)


def hw_error_rate(windows: Sequence[Window]) -> float | None:
    """Hardware errors per difficulty-1 nonce over ``windows`` (None when not reported)."""
    usable = [w for w in windows if w.hw_errors is not None]
    if not usable:
        return None
    errors = sum(w.hw_errors or 0 for w in usable)
    nonces = sum(w.hashes for w in usable) / TWO32
    return errors / (errors + nonces) if errors + nonces > 0 else None


def verdict(windows: Sequence[Window], max_hw_error_rate: float = MAX_HW_ERROR_RATE,
            miners: int = 1, limits: Bound | None = None) -> tuple[bool, list[str]]:
    """``verified`` and the reasons behind it, over the valid windows.

    Verified needs valid windows (none of them over the model's rate ceiling: ``limits``), pool shares
    conclusively agreeing with the counter, and a hardware-error rate under the limit; a firmware that
    reports no hardware errors is noted, not failed. A reason that fails the miner comes first; what the
    rate was (or could not be) checked against the model's catalog figures is the last.
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
        reasons.insert(0 if ok else 1, f"hardware-error rate {rate:.3%} over the limit {max_hw_error_rate:.3%}")
        ok = False
    else:
        reasons.append(f"hardware-error rate {rate:.4%} (limit {max_hw_error_rate:.3%})")
    if limits is not None:
        reasons.append(limits.note())
    return ok, reasons

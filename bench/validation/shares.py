"""A miner's pool cross-check, recomputed: its share-ratio bounds are the Poisson interval of its share
count at the confidence it states, that confidence is the run's 3 sigma shared among at most the file's
miners, and ``verified`` agrees with where the ratio falls (:mod:`bench.shares`, as the miners front end
judges it). A verified miner run without pool shares is refused: the cross-check is what verifies it
(the miners front end never verifies a miner whose shares it could not count)."""

from __future__ import annotations

from bench.record import Document, Run
from bench.shares import CONFIDENCE, per_miner, ratio_bounds, within
from bench.validation.core import Finding, check, close


def _miner(run: Run) -> bool:
    return run.device.startswith("asic:")


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@check("pool-shares")
def pool_shares(doc: Document) -> list[Finding]:
    """Each miner run with pool shares: bounds recomputed, confidence within the file's, verdict consistent."""
    out: list[Finding] = []
    miners = sum(_miner(r) for r in doc.runs)
    widest = per_miner(CONFIDENCE, miners)
    for i, run in enumerate(doc.runs):
        m = run.metrics
        n = m.get("shares")
        if not _miner(run) or doc.declared:
            continue
        path = f"$.runs[{i}].metrics"
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            if run.verified and (run.ok or run.throughput.units):  # the cross-check is what verifies a miner
                out.append(Finding("pool-shares", f"$.runs[{i}].verified",
                                   f"verified, but without the pool shares that cross-check its counter "
                                   f"(metrics.shares: {n!r})"))
            continue
        ratio, low, high = (_number(m.get(k)) for k in ("share_ratio", "share_ratio_low", "share_ratio_high"))
        level = _number(m.get("share_confidence"))
        if ratio is None or low is None or level is None:
            out.append(Finding("pool-shares", path, f"{n} pool shares without share_ratio, share_ratio_low "
                                                    "and share_confidence: the cross-check cannot be recomputed"))
            continue
        if not CONFIDENCE - 1e-12 <= level <= widest + 1e-12:
            out.append(Finding("pool-shares", f"{path}.share_confidence",
                               f"{level!r} is outside {CONFIDENCE}..{widest!r}: the run's 3 sigma shared among "
                               f"at most the file's {miners} miners"))
            continue
        want_low, want_high = ratio_bounds(n, level)
        if not (close(low, want_low) and close(high, want_high)):
            out.append(Finding("pool-shares", f"{path}.share_ratio_low",
                               f"bounds {low!r}..{high!r} are not those of {n} shares at {level!r} "
                               f"({want_low!r}..{want_high!r})"))
            continue
        if run.verified and not within(ratio, want_low, want_high):
            out.append(Finding("pool-shares", f"$.runs[{i}].verified",
                               f"verified, but its pool shares imply {ratio:.4g}x the counted hashes, outside "
                               f"{want_low:.4g}..{want_high or float('inf'):.4g}"))
    return out

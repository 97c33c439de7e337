"""A merged fleet judged by its distributions: how many of its miners break each ``[miners]`` rule.

A merged fleet's result (``sitebench merge``) holds each model's average miner, not every miner: the
average is judged like any miner (:mod:`bench.qualify.miners`), and the fleet's distributions tell how
many miners break each rule. Missing chips are counted exactly; TH/s, J/TH and the hottest board come
from histograms of log-spaced bins (:class:`bench.record.shards.Distribution`): miners in a bin wholly
past a limit break it, a bin across the limit is within the histogram's resolution of it and is noted.
A miner not measured or not verified breaks the rules as it would alone, and so do the outliers when the
spec says outliers fail. An incomplete fleet (shards missing) FAILS. ``qualify`` on each shard gives the
verdict miner by miner.
"""

from __future__ import annotations

import math

from bench.qualify.miners import MinerRules
from bench.record.shards import Distribution, MinersFleet


def _past(d: Distribution, limit: float, above: bool) -> tuple[int, int]:
    """Miners certainly past ``limit`` (above it, or below it), and those in the bin across it."""
    sure = near = 0
    step = math.log1p(d.resolution)
    for low, count in d.histogram:
        high = low * math.exp(step) if low > 0 else 0.0
        if (low > limit) if above else (high < limit):
            sure += int(count)
        elif low <= limit <= high:
            near += int(count)
    return sure, near


def check(fleet: MinersFleet, rules: MinerRules, outliers_fail: bool) -> tuple[list[str], list[str]]:
    """``(reasons to FAIL, notes)`` of a merged fleet against the ``[miners]`` rules."""
    reasons: list[str] = []
    notes: list[str] = []
    if fleet.missing:
        reasons.append(f"incomplete fleet: shard(s) {', '.join(f'{k}/{fleet.shards}' for k in fleet.missing)} missing")
    for g in fleet.models:
        name = f"{g.make} {g.model}"
        if g.measured < g.miners:
            reasons.append(f"{g.miners - g.measured} of {g.miners} {name} miner(s) not measured")
        if g.verified < g.measured:
            reasons.append(f"{g.measured - g.verified} of {g.measured} {name} miner(s) not verified")
        limits = ((rules.min_ths, g.ths, False, "below", "TH/s"), (rules.max_j_per_th, g.j_per_th, True, "above", "J/TH"),
                  (rules.max_temp_c, g.temp_max_c, True, "above", "°C"))
        for limit, dist, above, word, unit in limits:
            if limit is None:
                continue
            sure, near = _past(dist, limit, above)
            if sure:
                reasons.append(f"{sure} of {g.measured} {name} miner(s) {word} {limit:g} {unit}")
            if near:
                notes.append(f"{near} {name} miner(s) within {dist.resolution:.1%} of {limit:g} {unit}: "
                             "qualify their shards to judge them")
        short = sum(n for c, n in g.missing_chips.items() if int(c) > rules.max_missing_chips)
        if short:
            reasons.append(f"{short} of {g.measured} {name} miner(s) with more than {rules.max_missing_chips} chip(s) "
                           "missing")
    if fleet.totals.outliers:
        what = f"{fleet.totals.outliers} outlier(s) by {fleet.k_mad:g} x MAD among miners of the same model"
        (reasons if outliers_fail else notes).append(what)
    return reasons, notes

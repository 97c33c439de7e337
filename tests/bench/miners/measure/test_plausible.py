"""A miner's claims bounded by its model's catalog figures: the rate ceiling (nameplate + 35%, scaled by its
chips), counter glitches as gaps, implausible windows refused while the rest of the run goes on, firmware
power against nameplate J/TH, and the pool check that the counters alone cannot satisfy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.miners.measure.outcome import CUT_SHORT, Plan, analyse, measured_windows
from bench.miners.measure.plausible import (
    JUMP_FACTOR,
    MIN_POWER_FRACTION,
    RATE_TOLERANCE,
    Bound,
    bound,
    jump_reference,
)
from bench.miners.measure.verify import LIE_FACTOR, TWO32, share_check, verdict
from bench.miners.measure.window import Window, break_between
from bench.miners.protocol.model import Board, Counter, Identity, Poll, Sample
from bench.miners.record.runrecord import miner_run

S19 = Identity("10.0.0.5", 4028, "cgminer", "antminer", "Bitmain", "Antminer S19 Pro", "bmminer 1.0.0")
UNKNOWN = Identity("10.0.0.9", 4028, "cgminer", "antminer", "Bitmain", "Antminer Z99", "bmminer 1.0.0")
NAMEPLATE = 110e12
PLAN = Plan(period_s=1.0, warmup_s=60.0, window_s=10.0, repeats=2, span_s=5.0)


def polls(identity: Identity = S19, n: int = 30, *, rate: float = NAMEPLATE, difficulty_factor: float = 1.0,
          power: float | None = None, glitch: tuple[int, float] | None = None, chips: int = 114,
          pool_difficulty: float | None = 1024.0, t0: float = 100.0) -> list[Sample]:
    """Polls every second of a miner that reports ``rate``; shares are the truth (NAMEPLATE), their difficulty
    counter reports ``difficulty_factor`` x it; ``glitch`` = (from poll i, hashes added to the counter)."""
    out: list[Sample] = []
    for i in range(n):
        e = 500.0 + i
        true = e * NAMEPLATE
        extra = glitch[1] if glitch is not None and i >= glitch[0] else 0.0
        shares = int(true / TWO32 / 1024)
        out.append(Poll(t=t0 + i, wall=t0 + i, identity=identity, elapsed_s=e,
                        counter=Counter(e * rate + extra, 1e6, "Total MH"), rates_hs={"5s": rate},
                        accepted_difficulty=shares * 1024 * difficulty_factor, rejected_difficulty=0.0, shares=shares,
                        hw_errors=0, power_w=power, power_source="summary Power" if power else None,
                        boards=tuple(Board(k, chips, 114) for k in range(3)), stable=True,
                        share_difficulty=pool_difficulty))
    return out


def test_the_ceiling_is_the_nameplate_plus_the_overclock_tolerance_scaled_by_the_chips_present() -> None:
    b = bound(S19, [p for p in polls() if isinstance(p, Poll)])
    assert b.catalog_model == "Antminer S19 Pro" and b.nameplate_hs == NAMEPLATE and b.chips_fraction == 1.0
    assert RATE_TOLERANCE == 0.35 and b.ceiling_hs == pytest.approx(NAMEPLATE * 1.35)
    assert b.rate_reason(1.3 * NAMEPLATE) is None, "an overclock of +30% is plausible"
    assert "2.00x the Antminer S19 Pro's nameplate 110 TH/s" in (b.rate_reason(2 * NAMEPLATE) or "")
    missing = bound(S19, [p for p in polls(chips=57) if isinstance(p, Poll)])
    assert missing.chips_fraction == 0.5 and missing.ceiling_hs == pytest.approx(NAMEPLATE * 1.35 / 2)
    assert "with 171 of 342 chips" in (missing.rate_reason(NAMEPLATE) or ""), "half the chips cannot do the whole rate"
    assert bound(S19).ceiling_hs == pytest.approx(NAMEPLATE * 1.35), "no chips reported: the whole nameplate"


def test_an_unknown_model_cannot_be_checked_and_says_so() -> None:
    b = bound(UNKNOWN)
    assert b.catalog_model is None and b.ceiling_hs is None and b.rate_reason(1e18) is None
    assert "Antminer Z99 is not in sitebench's catalog" in b.note()
    assert b.metrics()["rate_ceiling_hs"] is None and b.metrics()["catalog_model"] is None


def test_a_counter_glitch_is_a_gap_against_the_models_ceiling_even_without_a_nominal_rate() -> None:
    a, b = (p for p in polls(n=2) if isinstance(p, Poll))
    spiked = replace(b, counter=Counter(b.counter.hashes + 1e17, 1e6, "Total MH"))  # type: ignore[union-attr]
    limits = bound(S19)
    assert break_between(a, spiked) is None, "without a reference rate only the absolute bound applies"
    assert "over 3x the model's ceiling 148.5 TH/s" in (break_between(a, spiked, limits) or "")
    huge = replace(b, counter=Counter(b.counter.hashes + 1e20, 1e6, "Total MH"))  # type: ignore[union-attr]
    assert "faster than any miner" in (break_between(a, huge) or "")
    assert jump_reference(limits, 100e12) == (100e12, "the nominal rate")
    assert jump_reference(limits, 1e15) == (pytest.approx(148.5e12), "the model's ceiling"), "an inflated nominal"
    assert JUMP_FACTOR == 3.0


def test_a_liar_at_twice_its_nameplate_has_every_window_refused_and_fails_with_the_reason() -> None:
    m = analyse(S19, polls(rate=2.9 * NAMEPLATE, difficulty_factor=2.9, pool_difficulty=None), PLAN)
    assert not m.valid_windows and not m.verified and m.windows
    assert all("implausible: 319 TH/s is 2.90x" in w.invalid_reasons[-1] for w in m.windows)
    run = miner_run(m, PLAN, 100.0)
    assert run.status == "failed" and not run.verified and "2.90x the Antminer S19 Pro's nameplate" in (run.error or "")


def test_one_glitch_inside_a_window_is_dropped_as_a_gap_and_the_run_goes_on_and_is_written() -> None:
    plan = Plan(period_s=1.0, warmup_s=60.0, window_s=3.0, repeats=2, span_s=5.0)
    samples = polls(n=40, glitch=(4, 2e14), power=None)  # +200 TH in one second: under 3x the ceiling, not a gap
    m = analyse(S19, samples, plan)
    refused = [w for w in m.windows if any(r.startswith("implausible") for r in w.invalid_reasons)]
    assert len(refused) == 1 and refused[0].t_start <= 104 <= refused[0].t_end
    assert len(m.valid_windows) == 2 and all(w.t_start >= refused[0].t_end for w in m.valid_windows)
    assert [w.throughput_hs for w in m.valid_windows] == [pytest.approx(NAMEPLATE)] * 2
    assert all(CUT_SHORT in w.invalid_reasons for w in m.windows if w.t_end <= refused[0].t_start)
    run = miner_run(m, plan, 100.0)
    assert run.ok and run.power.avg_w == pytest.approx(3250, rel=0.01), "modelled power from the true rate, not 30 MW"
    assert run.metrics["windows_refused"] == 1


def test_a_huge_glitch_is_a_gap_not_30_MW_of_modelled_power() -> None:
    m = analyse(S19, polls(n=60, glitch=(15, 1e18)), PLAN)
    assert len(m.valid_windows) == 2 and m.breaks and "hash counter jumped" in m.breaks[0][1]
    run = miner_run(m, PLAN, 100.0)
    assert run.ok and run.power.avg_w is not None and run.power.avg_w < 4000


def test_firmware_power_under_half_the_nameplate_jperth_is_refused_and_the_run_not_verified() -> None:
    assert MIN_POWER_FRACTION == 0.5
    m = analyse(S19, polls(power=1000.0), PLAN)
    assert not m.verified and m.power_refused and "under 0.5x the Antminer S19 Pro's nameplate 29.5 J/TH" in m.power_refused
    assert m.verify_reasons[0] == m.power_refused, "the failing reason first"
    run = miner_run(m, PLAN, 100.0)
    assert run.metrics["power_source"] == "modelled_nameplate" and run.power.modelled and not run.verified
    honest = analyse(S19, polls(power=3300.0), PLAN)
    assert honest.verified and honest.power_refused is None and honest.power_source == "firmware_estimate"
    assert "over 2x" in (bound(S19).power_reason(9000.0, NAMEPLATE) or "")


def test_the_bounds_are_recorded_for_a_reader_to_recompute() -> None:
    run = miner_run(analyse(S19, polls(), PLAN), PLAN, 100.0)
    m = run.metrics
    assert run.verified and m["catalog_model"] == "Antminer S19 Pro" and m["nameplate_ths"] == 110.0
    assert m["rate_tolerance"] == 0.35 and m["chips_fraction"] == 1.0 and m["nameplate_w"] == 3250
    assert m["rate_ceiling_hs"] == pytest.approx(110e12 * 1.35) and m["power_floor_fraction"] == 0.5
    assert m["share_lie_factor"] == 2.0 and m["pool_difficulty_low"] == m["pool_difficulty_high"] == 1024.0
    assert m["share_difficulty_per_share"] == 1024.0 and m["windows_refused"] == 0
    assert run.throughput.rate is not None and run.throughput.rate <= m["rate_ceiling_hs"]  # type: ignore[operator]


def window(hashes: float, shares: int, difficulty: float, pool: tuple[float, float] | None = None) -> Window:
    return Window(0, 0.0, 600.0, hashes, 600.0, 1e6, 121, 0, difficulty, 0.0, shares, 0, None, (), pool)


def test_the_pool_check_cannot_verify_a_counter_with_too_few_shares_to_tell_a_2x_lie() -> None:
    d = 2.0**20
    few = share_check([window(2.9 * 5 * d * TWO32, 5, 5 * d)])  # a counter 2.9x high, 5 shares
    assert few.agrees is None and "would not refuse a counter reading 2x high" in few.reason and LIE_FACTOR == 2.0
    assert verdict([window(2.9 * 5 * d * TWO32, 5, 5 * d)])[0] is False
    many = share_check([window(400 * d * TWO32, 400, 400 * d)])
    assert many.agrees and many.ratio_low is not None and many.ratio_low > 1 / LIE_FACTOR


def test_difficulty_inflated_with_the_counter_is_given_away_by_the_share_count() -> None:
    d = 1024.0
    lie = share_check([window(2.9 * 400 * d * TWO32, 400, 2.9 * 400 * d, (d, d))])
    assert lie.agrees is False and "2969.6 a share, but the pool set 1024..1024" in lie.reason
    vardiff = share_check([window(400 * 1500 * TWO32, 400, 400 * 1500, (1024, 2048))])
    assert vardiff.agrees, "the pool's difficulty moved between polls: within the lowest and highest seen"
    assert share_check([window(400 * d * TWO32, 400, 400 * d)]).agrees, "no pool difficulty reported: not checked"


def test_an_unknown_model_is_verified_by_its_pool_shares_alone_and_says_so() -> None:
    honest = analyse(UNKNOWN, polls(UNKNOWN), PLAN)
    assert honest.verified and "not in sitebench's catalog" in honest.verify_reasons[-1]
    liar = analyse(UNKNOWN, polls(UNKNOWN, rate=2.9 * NAMEPLATE, difficulty_factor=2.9), PLAN)
    assert not liar.verified and "DISAGREE with the accepted difficulty" in liar.verify_reasons[0]


def test_measured_windows_without_bounds_are_as_before() -> None:
    warm, windows, breaks = measured_windows(polls(rate=2.9 * NAMEPLATE), PLAN)
    assert len([w for w in windows if w.valid]) == 2 and not breaks and warm


def test_bound_of_a_model_with_chips_but_no_nameplate() -> None:
    ident = replace(S19, model="Antminer S19j Pro")
    b = bound(ident)
    assert b.catalog_model == "Antminer S19j Pro" and b.ceiling_hs is None and "without a nameplate rate" in b.note()
    assert isinstance(b, Bound)

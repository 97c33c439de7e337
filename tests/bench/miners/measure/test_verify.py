"""Verification: pool shares against the counter (Poisson), and the hardware-error limit."""

from __future__ import annotations

import pytest

from bench.miners.measure.verify import (
    MAX_HW_ERROR_RATE,
    TWO32,
    hw_error_rate,
    share_check,
    verdict,
)
from bench.miners.measure.window import Window


def window(hashes: float, shares: int | None, difficulty: float | None, hw: int | None = 0, *reasons: str) -> Window:
    return Window(0, 0.0, 600.0, hashes, 600.0, 1e6, 121, 0, difficulty, 0.0 if difficulty is not None else None,
                  shares, hw, None, tuple(reasons))


def test_shares_agreeing_with_the_counter_verify_it() -> None:
    d = 65536.0
    w = window(400 * d * TWO32, 400, 400 * d)
    check = share_check([w])
    assert check.agrees and check.ratio == pytest.approx(1.0) and check.shares == 400
    assert check.ratio_low < 1 < check.ratio_high  # type: ignore[operator]
    ok, reasons = verdict([w])
    assert ok and "pool shares agree" in reasons[0] and "hardware-error rate 0.0000%" in reasons[1]


def test_a_counter_reading_high_against_the_pool_fails() -> None:
    d = 65536.0
    check = share_check([window(1.5 * 400 * d * TWO32, 400, 400 * d)])
    assert check.agrees is False and check.ratio == pytest.approx(1 / 1.5) and "DISAGREE" in check.reason


def test_no_shares_or_no_difficulty_cannot_verify() -> None:
    assert share_check([window(1e15, 0, 0.0)]).agrees is None
    assert "lengthen --window" in verdict([window(1e15, 0, 0.0)])[1][0]
    ok, reasons = verdict([window(1e15, None, None, None)])
    assert not ok and "reports no share difficulty" in reasons[0] and "not checked" in reasons[1]
    assert verdict([window(1e15, 4, 4.0, 0, "miner restarted")]) == (False, ["no valid measured window"])


def test_hardware_errors_over_the_limit_fail_verification() -> None:
    d = 65536.0
    hashes = 400 * d * TWO32
    nonces = hashes / TWO32
    bad = window(hashes, 400, 400 * d, hw=int(2 * MAX_HW_ERROR_RATE * nonces))
    assert hw_error_rate([bad]) == pytest.approx(2 * MAX_HW_ERROR_RATE, rel=0.01)
    ok, reasons = verdict([bad])
    assert not ok and "over the limit" in reasons[0] and "pool shares agree" in reasons[1]

"""Warm-up: the firmware's stability flag where it has one, else the counter's slope levels off."""

from __future__ import annotations

from bench.miners.measure.warmup import drift, settle
from bench.miners.protocol.model import Counter, Identity, Poll

ID = Identity("10.0.0.5", 4028, "cgminer", "antminer", "Bitmain", "Antminer S19 Pro", "fw")


def ramped(seconds: int, ramp_s: float, stable: bool | None = None) -> list[Poll]:
    """1 poll/s of a miner whose rate climbs linearly from 60% to 100% over ramp_s (the simulator's ramp)."""
    out, hashes = [], 0.0
    for t in range(seconds + 1):
        rate = 100e12 * (0.6 + 0.4 * min(t / ramp_s, 1.0))
        hashes += rate if t else 0.0
        out.append(Poll(float(t), float(t), ID, float(t), Counter(hashes, 1e6, "Total MH"),
                        stable=None if stable is None else (stable and t >= ramp_s)))
    return out


def test_the_firmware_flag_ends_warm_up_when_it_turns() -> None:
    w = settle(ramped(60, 20, stable=True), limit_s=300, span_s=10)
    assert w.stable and w.method == "firmware flag" and w.t_end == 20 and "stable after 20 s by firmware flag" in w.reason


def test_without_a_flag_the_slope_test_waits_for_the_ramp_to_end() -> None:
    w = settle(ramped(90, 30), limit_s=300, span_s=15)
    assert w.stable and w.method == "slope test" and 40 <= w.t_end <= 50  # type: ignore[operator]
    assert drift(ramped(20, 30), 15) > 0.2  # type: ignore[operator]


def test_the_limit_ends_warm_up_unstable_and_too_few_polls_keep_waiting() -> None:
    w = settle(ramped(90, 200), limit_s=40, span_s=15)
    assert not w.stable and w.method == "limit reached" and "not stable after 40 s" in w.reason
    assert settle(ramped(5, 30), limit_s=300, span_s=15).t_end is None

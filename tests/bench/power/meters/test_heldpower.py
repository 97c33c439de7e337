"""Slow meters fetch in the background (the Poller); reads never wait and a stuck device becomes a gap.

The tests wait on events (the fetch began, the poller recorded an outcome), never on sleeps.
"""

from __future__ import annotations

import threading

import pytest

from bench.errors import MeterReadError
from bench.power.meters.heldpower import HeldPowerMeter

WAIT_S = 60.0  # the bound on any wait: never reached unless the meter is broken


class StuckableMeter(HeldPowerMeter):
    kind = "test-held"

    def __init__(self) -> None:
        super().__init__("held:node", "node", accuracy=0.05, accuracy_note="test", update_period_s=0.05,
                         timeout_s=0.2)
        self.watts = 200.0
        self.unstuck = threading.Event()
        self.unstuck.set()
        self.entered = threading.Event()  # a fetch began
        self.stale_limit: float | None = None
        self.prime()

    @property
    def stale_after_s(self) -> float:
        return self.stale_limit if self.stale_limit is not None else super().stale_after_s

    def fetch(self) -> float:
        self.entered.set()
        self.unstuck.wait()  # a device that stops answering without ever timing out
        return self.watts


def test_read_returns_the_held_figure_without_waiting_then_fails_when_stuck_or_stale() -> None:
    meter = StuckableMeter()
    try:
        assert meter.read().power_w == 200.0
        meter.unstuck.clear()
        meter.entered.clear()
        assert meter.entered.wait(WAIT_S)  # the background fetch is now stuck; a read that waited on it would hang
        assert meter.read().power_w == 200.0
        meter.stale_limit = 0.0  # the held figure is now older than the meter allows
        with pytest.raises(MeterReadError, match=r"held:node: no answer for \d"):
            meter.read()
        meter.stale_limit = None
        assert meter.poller.wait_for(lambda p: p.latest() is not None and p.latest().error is not None, WAIT_S)
        with pytest.raises(MeterReadError, match=r"held:node: no answer within 1.2 s"):  # the fetch's timeout + grace
            meter.read()
        meter.watts = 210.0
        meter.unstuck.set()
        assert meter.poller.wait_for(lambda p: p.latest() is not None and p.latest().value == 210.0, WAIT_S)
        reading = meter.read()
        assert reading.power_w == 210.0 and reading.extra["age_s"] < meter.stale_after_s
    finally:
        meter.unstuck.set()
        meter.close()


class FlakyMeter(StuckableMeter):
    """Raises an error no meter code expected (a truncated HTTP answer) on some fetches."""

    def __init__(self) -> None:
        self.fail = False
        super().__init__()

    def fetch(self) -> float:
        if self.fail:
            raise RuntimeError("IncompleteRead(12 bytes read)")
        return super().fetch()


def test_an_unexpected_fetch_error_is_a_gap_and_the_meter_keeps_polling() -> None:
    meter = FlakyMeter()
    try:
        assert meter.read().power_w == 200.0
        meter.fail = True
        assert meter.poller.wait_for(lambda p: p.latest() is not None and not p.latest().ok, WAIT_S)
        with pytest.raises(MeterReadError, match="IncompleteRead"):
            meter.read()
        meter.fail, meter.watts = False, 220.0
        assert meter.poller.wait_for(lambda p: p.latest() is not None and p.latest().value == 220.0, WAIT_S), \
            "the background thread survived"
        assert meter.read().power_w == 220.0
        meter.fail = True
        with pytest.raises(MeterReadError, match="RuntimeError"):
            meter.prime()
    finally:
        meter.close()


def test_a_period_set_after_opening_is_the_one_polled() -> None:
    meter = StuckableMeter()
    try:
        meter.update_period_s = 0.02  # as a test or a caller does after discovery
        meter.read()
        assert meter.poller.period_s == 0.02
    finally:
        meter.close()

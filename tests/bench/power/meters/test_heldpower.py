"""Slow meters fetch in the background; reads never wait and a stuck device becomes a gap."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import pytest

from bench.errors import MeterReadError
from bench.power.meters.heldpower import HeldPowerMeter

T = TypeVar("T")


class StuckableMeter(HeldPowerMeter):
    kind = "test-held"

    def __init__(self) -> None:
        super().__init__("held:node", "node", accuracy=0.05, accuracy_note="test", update_period_s=0.05,
                         timeout_s=1.0)
        self.watts = 200.0
        self.unstuck = threading.Event()
        self.unstuck.set()
        self.prime()

    def fetch(self) -> float:
        self.unstuck.wait()  # a device that stops answering without ever timing out
        return self.watts


def _power(meter: StuckableMeter) -> float | None:
    """The held figure, or None while the meter's last fetch failed."""
    try:
        return meter.read().power_w
    except MeterReadError:
        return None


def _until(cond: Callable[[], T]) -> T:
    """Wait for the background fetch thread: ``cond()``'s first truthy value (a loaded machine may take seconds)."""
    deadline = time.monotonic() + 30
    while not (value := cond()):
        assert time.monotonic() < deadline, "timed out waiting for the background fetch"
        time.sleep(0.01)
    return value


def test_read_returns_the_held_figure_without_waiting_then_fails_when_stale() -> None:
    meter = StuckableMeter()
    try:
        assert meter.read().power_w == 200.0
        meter.unstuck.clear()
        time.sleep(0.1)  # the background fetch is now stuck for good; a read that waited on it would hang
        assert meter.read().power_w == 200.0
        time.sleep(meter.stale_after_s + 0.1)
        with pytest.raises(MeterReadError, match=r"held:node: no answer for \d"):
            meter.read()
        meter.watts = 210.0
        meter.unstuck.set()
        reading = _until(lambda: _power(meter) == 210.0 and meter.read())
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
        _until(lambda: _power(meter) is None)
        with pytest.raises(MeterReadError, match="IncompleteRead"):
            meter.read()
        meter.fail, meter.watts = False, 220.0
        assert _until(lambda: _power(meter) == 220.0), "the background thread survived"
        meter.fail = True
        with pytest.raises(MeterReadError, match="RuntimeError"):
            meter.prime()
    finally:
        meter.close()

"""Slow meters fetch in the background; reads never wait and a stuck device becomes a gap."""

from __future__ import annotations

import threading
import time

import pytest

from bench.errors import MeterReadError
from bench.power.heldpower import HeldPowerMeter


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
        time.sleep(0.2)
        reading = meter.read()
        assert reading.power_w == 210.0 and reading.extra["age_s"] < meter.stale_after_s
    finally:
        meter.unstuck.set()
        meter.close()

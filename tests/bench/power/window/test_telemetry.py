"""Telemetry recorded beside power: throttle reasons and thinned series."""

from __future__ import annotations

import pytest

from bench.power.meter import Reading
from bench.power.window import telemetry


def test_idle_and_user_clocks_are_not_throttling() -> None:
    rs = [Reading(t=0.0, extra={"throttle_reasons": ["gpu_idle"], "sm_clock_mhz": 345}),
          Reading(t=0.1, extra={"throttle_reasons": ["applications_clocks_setting"], "sm_clock_mhz": 1980})]
    s = telemetry.summary(rs)
    assert s is not None and s.throttled is False
    assert s.throttle_reasons == pytest.approx({"applications_clocks_setting": 0.5, "gpu_idle": 0.5}, rel=1e-12)
    clock = s.series["sm_clock_mhz"]
    assert (clock.min, clock.max) == (345.0, 1980.0) and clock.mean == pytest.approx(1162.5, rel=1e-12)
    assert telemetry.summary([Reading(t=0.0)]) is None


def test_telemetry_series_keep_changes_at_most_twice_a_second() -> None:
    rs = [Reading(t=i * 0.1, extra={"temperature_c": 60 + (i >= 25), "sm_clock_mhz": 1980 - i % 2})
          for i in range(50)]
    s = telemetry.series(rs, 0.0)
    assert s["temperature_c"] == [[0.0, 60.0], [2.5, 61.0], [4.9, 61.0]]
    times = [t for t, _ in s["sm_clock_mhz"]]
    assert times[0] == 0.0 and times[-1] == 4.9 and len(times) <= 12
    assert all(b - a >= 0.5 - 1e-9 for a, b in zip(times[:-2], times[1:-1]))

"""Per-window figures of temperature channels and throttling, from points whose answer is known by hand."""

from __future__ import annotations

import pytest

from bench.power.window.thermal import Info, block, channel, throttle, window_bounds
from bench.record import Phase
from bench.record.thermal import Thermal

BOUNDS = [(10.0, 20.0), (20.0, 30.0), (30.0, 40.0)]
INLET = Info("bmc:10.0.0.7.inlet_c", "redfish", "bmc:10.0.0.7", "inlet", "°C", "Temperatures[0] (Intake)", 2.0,
             {"upper_critical": 42.0})


def test_window_bounds_are_the_window_phases_from_the_run_start() -> None:
    phases = [Phase(name="idle", start=0.0, end=1.0), Phase(name="window-0", start=2.0, end=3.0),
              Phase(name="window-1", start=3.0, end=4.5), Phase(name="tail", start=4.5, end=5.0)]
    assert window_bounds(phases, 100.0) == [(102.0, 103.0), (103.0, 104.5)]


def test_each_window_holds_its_readings_a_boundary_reading_belongs_to_the_later_window() -> None:
    points = [(9.0, 22.0), (10.0, 24.0), (15.0, 26.0), (20.0, 30.0), (25.0, 31.0), (29.9, 35.0), (30.0, 40.0)]
    c = channel(INLET, points, BOUNDS, t_ref=8.0, gaps=[(26.0, "BMC: no answer"), (50.0, "later")])
    w0, w1, w2 = c.windows
    assert (w0.min, w0.mean, w0.max, w0.readings) == (24.0, 25.0, 26.0, 2)
    assert (w1.min, w1.mean, w1.max, w1.readings) == (30.0, pytest.approx(32.0), 35.0, 3)
    assert (w2.mean, w2.readings, w2.held) == (40.0, 1, False)
    assert c.summary.min == 24.0 and c.summary.max == 40.0
    assert c.summary.mean == pytest.approx((24 + 26 + 30 + 31 + 35 + 40) / 6)
    assert (c.gaps, c.gap_reason) == (1, "BMC: no answer")
    assert c.thresholds == {"upper_critical": 42.0} and c.period_s == 2.0
    assert c.series[0] == [1.0, 22.0] and c.series[-1] == [22.0, 40.0]


def test_a_window_without_a_reading_holds_a_fresh_one_else_is_null() -> None:
    c = channel(INLET, [(9.0, 22.0), (25.0, 27.5)], BOUNDS, t_ref=0.0)
    w0, w1, w2 = c.windows
    assert w0 is not None and w0.held and w0.readings == 0 and w0.mean == 22.0  # 1 s old: within 3 periods
    assert w1 is not None and not w1.held and w1.mean == 27.5
    assert w2 is not None and w2.held and w2.mean == 27.5  # 5 s old, 3 x 2 s allowed
    stale = channel(INLET, [(1.0, 22.0)], BOUNDS, t_ref=0.0)
    assert stale.windows == [None, None, None] and stale.summary is None


def test_throttled_time_is_sample_and_hold_and_power_cap_is_not_throttling() -> None:
    samples = [(9.0, ["sw_power_cap"]), (12.0, ["sw_power_cap", "hw_thermal_slowdown"]), (16.0, ["sw_power_cap"]),
               (24.0, ["sw_thermal_slowdown"]), (26.0, []), (30.0, ["sw_power_cap"])]
    th = throttle("gpu:0", "nvml", samples, BOUNDS, 0.1)
    w0, w1, w2 = th.windows
    assert w0.seconds == pytest.approx(4.0) and w0.fraction == pytest.approx(0.4)
    assert w0.reasons == pytest.approx({"sw_power_cap": 10.0, "hw_thermal_slowdown": 4.0})
    assert w1.seconds == pytest.approx(2.0) and w1.reasons == pytest.approx({"sw_power_cap": 4.0,
                                                                             "sw_thermal_slowdown": 2.0})
    assert w2.seconds == 0.0 and w2.reasons == pytest.approx({"sw_power_cap": 10.0})
    assert th.seconds == pytest.approx(6.0) and th.fraction == pytest.approx(0.2)
    assert th.reasons == pytest.approx({"sw_power_cap": 24.0, "hw_thermal_slowdown": 4.0, "sw_thermal_slowdown": 2.0})
    assert throttle("gpu:0", "nvml", [(50.0, ["hw_slowdown"])], BOUNDS).windows == [None, None, None]


def test_the_derating_fit_reads_the_first_inlet_channel_else_ambient() -> None:
    ambient = Info("pdu:pdu-7.ambient_c", "snmp", "pdu:pdu-7", "ambient", "°C")
    humidity = Info("pdu:pdu-7.humidity_rh", "snmp", "pdu:pdu-7", "humidity", "%RH")
    pts = [(15.0, 30.0)]
    only_room = block([channel(humidity, pts, BOUNDS, 0.0), channel(ambient, pts, BOUNDS, 0.0)], [])
    assert isinstance(only_room, Thermal) and only_room.inlet().name == "pdu:pdu-7.ambient_c"
    both = block([channel(ambient, pts, BOUNDS, 0.0), channel(INLET, pts, BOUNDS, 0.0)], [])
    assert both.inlet().name == "bmc:10.0.0.7.inlet_c"
    assert block([], []) is None


def test_a_thermal_block_round_trips_through_json() -> None:
    th = block([channel(INLET, [(15.0, 30.0)], BOUNDS, 0.0)], [throttle("gpu:0", "nvml", [(9.0, [])], BOUNDS)])
    assert th is not None
    again = Thermal.model_validate_json(th.model_dump_json())
    assert again == th and again.channels[0].unit == "°C"

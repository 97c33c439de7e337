"""Meters that cannot be polled live deliver their readings after the run (Meter.backfill)."""

from __future__ import annotations

import pytest

from bench.errors import MeterReadError
from bench.power.meter import Meter, Reading
from bench.power.sampler import Sampler
from bench.run.runner import Timing, run_workload
from tests.bench.power.fakes import CounterMeter, Sleeper

FAST = Timing(idle_s=0.1, warmup_s=0.05, window_s=0.3, repeats=2, tail_s=0.1)


class LogMeter(Meter):
    """A wall meter whose log (300 W every 10 ms) is imported after the run."""

    kind = "test-log"
    polled = False

    def __init__(self, watts: float = 300.0) -> None:
        super().__init__("log:wall", "wall", accuracy=0.01, accuracy_note="test", update_period_s=0.01,
                         method="log")
        self.watts = watts
        self.asked: list[tuple[float, float]] = []

    def read(self) -> Reading:
        raise AssertionError("a backfilled meter must never be polled")

    def backfill(self, t0: float, t1: float) -> list[Reading]:
        self.asked.append((t0, t1))
        n = int((t1 - t0) / 0.01) + 1
        return [Reading(t=t0 + i * 0.01, power_w=self.watts) for i in range(n)]


def test_backfilled_meter_is_not_polled_and_its_log_goes_through_the_same_windows() -> None:
    log = LogMeter()
    sampler = Sampler([CounterMeter(250.0), log], rate_hz=50)
    sampler.start()
    run = run_workload(Sleeper(), "cpu", {}, FAST, sampler).run
    sampler.stop()
    assert len(log.asked) == 1
    t0, t1 = log.asked[0]
    assert t1 - t0 >= FAST.idle_s + FAST.warmup_s + FAST.window_s * FAST.repeats + FAST.tail_s
    pw = run.power
    wall = next(m for m in pw.meters if m.scope == "wall")
    assert wall.avg_w == pytest.approx(300.0)
    assert wall.idle_before_w == pytest.approx(300.0)
    assert pw.scope == "wall" and pw.avg_w == pytest.approx(300.0)
    node = next(m for m in pw.meters if m.scope == "node")
    assert node.avg_w == pytest.approx(250.0, rel=1e-3)


class BrokenLog(LogMeter):
    def backfill(self, t0: float, t1: float) -> list[Reading]:
        raise MeterReadError("pdu.csv: no rows inside the run")


def test_failed_backfill_is_a_gap_not_a_zero() -> None:
    sampler = Sampler([CounterMeter(250.0), BrokenLog()], rate_hz=50)
    sampler.start()
    run = run_workload(Sleeper(), "cpu", {}, FAST, sampler).run
    sampler.stop()
    wall = next(m for m in run.power.meters if m.scope == "wall")
    assert wall.avg_w is None and wall.energy_j is None
    assert run.power.scope == "node"
    assert [g.reason for g in wall.gaps] == ["pdu.csv: no rows inside the run"]
    assert any("no rows inside the run" in f for f in run.power.flags)


class HoleInLog(MeterReadError):
    """Like csvlog.LogGap: the hole's start and the readings around it."""

    def __init__(self, message: str, t: float, readings: list[Reading]) -> None:
        super().__init__(message)
        self.t, self.readings = t, readings


class HoledLog(LogMeter):
    """300 W every 10 ms, but nothing logged for 0.15 s inside the measured window."""

    def backfill(self, t0: float, t1: float) -> list[Reading]:
        readings = super().backfill(t0, t1)
        hole = t0 + FAST.idle_s + FAST.warmup_s + 0.35
        kept = [r for r in readings if not hole < r.t < hole + 0.15]
        raise HoleInLog("pdu.csv: no reading for 0.15 s", hole, kept)


def test_a_hole_in_the_log_keeps_the_readings_and_refuses_the_window_it_touches() -> None:
    sampler = Sampler([CounterMeter(250.0), HoledLog()], rate_hz=50)
    sampler.start()
    run = run_workload(Sleeper(), "cpu", {}, FAST, sampler).run
    sampler.stop()
    pw = run.power
    wall = next(m for m in pw.meters if m.scope == "wall")
    assert wall.valid is False and wall.avg_w == pytest.approx(300.0)
    assert any(r.startswith("readings missing in the window: pdu.csv: no reading") for r in wall.invalid_reasons)
    assert wall.idle_before_w == pytest.approx(300.0)  # the idle baseline before the hole is kept
    assert pw.scope == "node" and pw.valid_for_sizing is True  # the valid node meter is used instead


class SparseLog(LogMeter):
    """1000 W logged once a second, so readings rarely fall on the window's edges."""

    def backfill(self, t0: float, t1: float) -> list[Reading]:
        return [Reading(t=t0 - 0.5 + i, power_w=1000.0) for i in range(int(t1 - t0) + 3)]


def test_a_sparse_log_is_interpolated_at_the_markers_so_energy_spans_the_window() -> None:
    from bench.power.sampler import Marker, MeterLog
    from bench.power.window.energy import select

    log = MeterLog(SparseLog())
    log.readings = SparseLog().backfill(100.0, 112.0)  # readings at 99.5, 100.5, ..., 112.5
    picked = select(log, Marker("a", 100.2, {}), Marker("b", 111.1, {}))
    assert picked[0].t == 100.2 and picked[-1].t == 111.1 and picked[0].power_w == pytest.approx(1000.0)
    energy = sum((a.power_w + b.power_w) / 2 * (b.t - a.t) for a, b in zip(picked, picked[1:]))
    assert energy == pytest.approx(1000.0 * 10.9), "the whole 10.9 s window, not the 10 s between readings"


class TwoHoles(LogMeter):
    """Two separate holes in the log inside the measured windows (placed from the run's own markers)."""

    sampler: Sampler

    def backfill(self, t0: float, t1: float) -> list[Reading]:
        readings = super().backfill(t0, t1)
        starts = [m.t for m in self.sampler.markers if m.phase.endswith(("/window-0", "/window-1"))]
        first, second = (t + 0.05 for t in starts)
        holes = [(first, first + 0.1), (second, second + 0.1)]
        kept = [r for r in readings if not any(a < r.t < b for a, b in holes)]
        exc = HoleInLog("pdu.csv: 2 holes", first, kept)
        exc.holes = holes  # type: ignore[attr-defined]
        raise exc


def test_every_hole_in_a_log_is_a_gap() -> None:
    holed = TwoHoles()
    sampler = Sampler([CounterMeter(250.0), holed], rate_hz=50)
    holed.sampler = sampler
    sampler.start()
    run = run_workload(Sleeper(), "cpu", {}, FAST, sampler).run
    sampler.stop()
    wall = next(m for m in run.power.meters if m.scope == "wall")
    assert len(wall.gaps) == 2 and wall.valid is False

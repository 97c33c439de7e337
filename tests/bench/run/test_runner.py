"""The runner: phases, windows, statistics and power from the same window."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest

from bench.errors import Stopped, VerificationError
from bench.power.meter import Meter, Reading
from bench.power.sampler import Sampler
from bench.run.runner import RunSpec, Timing, run_suite, run_workload
from bench.workload import Workload

FAST = Timing(idle_s=0.05, warmup_s=0.05, window_s=0.3, repeats=3, tail_s=0.05)


class ConstantMeter(Meter):
    """A counter meter that reads exactly ``watts`` at all times."""

    kind = "test"

    def __init__(self, watts: float, scope: str = "node") -> None:
        super().__init__(f"test:{scope}", scope, accuracy=0.01, accuracy_note="test", update_period_s=0.001,
                         method="counter")
        self.watts = watts
        self.t0 = time.monotonic()

    def read(self) -> Reading:
        t = time.monotonic()
        return Reading(t=t, energy_j=(t - self.t0) * self.watts)


class Sleeper(Workload):
    name = "sleeper"
    unit = "op"
    presets = {"ci": {"units": 10, "fail": False}, "full": {"units": 10, "fail": False}}

    def __init__(self, interrupt_at: int | None = None) -> None:
        self.steps = 0
        self.interrupt_at = interrupt_at
        self.torn_down = False

    def setup(self, device: str, params: Mapping[str, Any]) -> None:
        self.units = params["units"]
        self.fail = params["fail"]

    def verify(self) -> None:
        if self.fail:
            raise VerificationError("wrong answer")

    def step(self) -> int:
        self.steps += 1
        if self.interrupt_at is not None and self.steps >= self.interrupt_at:
            raise KeyboardInterrupt
        time.sleep(0.01)
        return self.units

    def ceiling(self, device: str) -> float:
        return 2000.0

    def teardown(self) -> None:
        self.torn_down = True


def test_run_records_windows_power_and_derived_figures() -> None:
    sampler = Sampler([ConstantMeter(200.0)], rate_hz=50)
    sampler.start()
    wl = Sleeper()
    run = run_workload(wl, "cpu", wl.params_for("ci"), FAST, sampler, preset="ci").run
    sampler.stop()
    assert run.status == "ok" and run.verified is True and wl.torn_down
    thr = run.throughput
    assert len(thr.samples) == 3
    for s, u, d in zip(thr.samples, thr.units, thr.durations_s):
        assert s == pytest.approx(u / d)
        assert d >= FAST.window_s
    assert 400 < thr.median <= 1000  # 10 units per >= 10 ms step
    assert thr.rate == pytest.approx(sum(thr.units) / sum(thr.durations_s))
    pw = run.power
    assert pw.avg_w == pytest.approx(200.0, rel=1e-4)
    assert pw.idle_before_w == pytest.approx(200.0, rel=1e-4)
    assert pw.measured is True and pw.scope == "node"
    # Power and throughput come from the same windows: contiguous, so the power window is their sum.
    assert pw.window_s == pytest.approx(sum(thr.durations_s), rel=1e-9)
    assert sum(pw.window_energy_j) == pytest.approx(pw.energy_j, rel=1e-9)
    assert run.efficiency.per_joule == pytest.approx(sum(thr.units) / pw.energy_j)
    assert thr.rate / pw.avg_w == pytest.approx(run.efficiency.per_joule, rel=1e-9)
    assert run.ceiling_fraction == pytest.approx(thr.rate / 2000.0)
    names = [p.name for p in run.phases]
    assert names == ["idle", "warmup", "window-0", "window-1", "window-2", "tail"]
    starts = [p.start for p in run.phases]
    assert starts == sorted(starts)
    wins = run.windows
    assert all(a.end == b.start for a, b in zip(wins, wins[1:])), "windows are contiguous"
    assert pw.meters[0].readings >= 10


def test_failed_verification_is_never_timed() -> None:
    wl = Sleeper()
    run = run_workload(wl, "cpu", wl.params_for("ci", {"fail": True}), FAST, None).run
    assert run.status == "failed" and run.verified is False
    assert "wrong answer" in run.error
    assert wl.steps == 0
    assert run.throughput.samples == []


def test_no_meter_means_no_power_figure_not_zero() -> None:
    wl = Sleeper()
    run = run_workload(wl, "cpu", wl.params_for("ci"), FAST, None).run
    assert run.power.avg_w is None and run.efficiency.per_joule is None


def test_interrupt_keeps_complete_runs_and_marks_the_current_one() -> None:
    first, second = Sleeper(), Sleeper(interrupt_at=45)
    sampler = Sampler([ConstantMeter(100.0)], rate_hz=50)
    sampler.start()
    specs = [RunSpec(first, "cpu", first.params_for("ci")), RunSpec(second, "cpu", second.params_for("ci"))]
    suite = run_suite(specs, FAST, sampler)
    sampler.stop()
    assert suite.interrupted
    runs = suite.runs
    assert [r.status for r in runs] == ["ok", "interrupted"]
    assert second.torn_down
    assert runs[1].throughput.samples, "windows completed before Ctrl-C are kept"


class SignalAfterJournalling:
    """A journal after whose first run record a stop signal lands (the moment the run-level test waits for)."""

    def __init__(self) -> None:
        self.runs: list[str] = []

    def run_start(self, head: object, tag: str) -> None: ...

    def window(self, tag: str, index: int, units: float, duration_s: float) -> None: ...

    def run(self, run: Any) -> None:
        self.runs.append(run.status)
        if len(self.runs) == 1:
            raise Stopped(15)


def test_a_signal_right_after_a_run_is_journalled_records_the_next_as_interrupted() -> None:
    first, second = Sleeper(), Sleeper()
    log = SignalAfterJournalling()
    specs = [RunSpec(first, "cpu", first.params_for("ci")), RunSpec(second, "cpu", second.params_for("ci"))]
    suite = run_suite(specs, FAST, None, log=log)
    assert isinstance(suite.stopped, Stopped)
    assert [r.status for r in suite.runs] == ["ok", "interrupted"] and log.runs == ["ok", "interrupted"]
    assert "before it started measuring" in (suite.runs[1].error or "") and second.steps == 0


class Crasher(Sleeper):
    """Fails in its measured window the way an out-of-memory step does."""

    def step(self) -> int:
        self.steps += 1
        if self.steps > 3:
            raise MemoryError("out of memory at this batch size")
        return super().step()


def test_a_step_that_raises_fails_its_run_and_the_suite_goes_on() -> None:
    crasher, after = Crasher(), Sleeper()
    runs = run_suite([RunSpec(crasher, "cpu", crasher.params_for("ci")), RunSpec(after, "cpu", after.params_for("ci"))],
                     FAST, None).runs
    assert runs[0].status == "failed" and "MemoryError" in runs[0].error
    assert crasher.torn_down
    assert runs[1].status == "ok" and runs[1].throughput.median > 0


def test_a_spec_refused_before_running_is_recorded_failed_without_setup() -> None:
    wl = Sleeper()
    runs = run_suite([RunSpec(wl, "cpu", wl.params_for("ci"), "ci", failed="does not fit: 9 bytes needed")], FAST,
                     None).runs
    assert runs[0].status == "failed" and runs[0].error == "does not fit: 9 bytes needed"
    assert runs[0].params == {"units": 10, "fail": False} and wl.steps == 0

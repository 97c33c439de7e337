"""Sweeps of a machine knob in process: the option's words, the checks before anything changes, one run per
point with its setting, a point the device does not take, an interrupt while settling, over the limit."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bench.errors import UsageError
from bench.power.knobs.guard import KnobGuard
from bench.power.knobs.knob import Allowed, Knob, KnobFailed, KnobRefused, Value
from bench.power.knobs.points import MAX_POINTS, parse_points
from bench.power.meter import Meter, Reading
from bench.power.sampler import Sampler
from bench.record import Timing
from bench.run import sweep as sweep_module
from bench.run.runner import RunSpec
from bench.run.sweep import plan_sweep, run_sweep
from bench.workload import Workload

TINY = Timing(idle_s=0.0, warmup_s=0.0, window_s=0.05, repeats=2, tail_s=0.0)


class FakeKnob(Knob):
    """A GPU power limit held in memory: 100-700 W, stock 700; refuses to take ``refuse``."""

    kind = "gpu.power_limit"
    unit = "W"
    permission = "nothing"
    settle_s = 0.0

    def __init__(self, target: str = "gpu:0", value: float = 700.0, refuse: float | None = None,
                 lacking: str | None = None) -> None:
        super().__init__(target)
        self.value = value
        self.refuse = refuse
        self.lacking = lacking
        self.history: list[Value] = []

    def read(self) -> Value:
        return self.value

    def allowed(self) -> Allowed:
        return Allowed(low=100.0, high=700.0)

    def missing_permission(self) -> str | None:
        return self.lacking

    def set(self, value: Value) -> None:
        if value == self.refuse:
            raise KnobFailed(f"{self.label}: the device did not answer")
        self.value = float(value)
        self.history.append(value)

    def stock(self) -> Value:
        return 700.0

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target}


class Counter(Workload):
    name = "counter"
    unit = "op"
    devices = ("cpu",)
    presets = {"ci": {"n": 10}}

    def __init__(self, interrupt: bool = False) -> None:
        self.interrupt = interrupt

    def setup(self, device: str, params: Mapping[str, Any]) -> None:
        self.n = params["n"]

    def verify(self) -> None:
        pass

    def step(self) -> int:
        time.sleep(0.005)
        return self.n


class GpuMeter(Meter):
    """A counter meter of ``gpu:0`` reading exactly ``watts``, ±5% or 5 W as NVML states."""

    kind = "test"

    def __init__(self, watts: float) -> None:
        super().__init__("test:gpu:0", "gpu:0", accuracy=0.05, accuracy_w=5.0, accuracy_note="test",
                         update_period_s=0.001, method="counter")
        self.watts = watts
        self.t0 = time.monotonic()

    def read(self) -> Reading:
        t = time.monotonic()
        return Reading(t=t, energy_j=(t - self.t0) * self.watts)


def _plan(monkeypatch: pytest.MonkeyPatch, knobs: list[Knob], text: str, settle: float | None = 0.0):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sweep_module, "open_knobs", lambda kind, device: knobs)
    return plan_sweep("cuda:0", power_limit=text, settle_s=settle)


# --- the option's words --------------------------------------------------------------------------------------

def test_a_list_and_an_inclusive_range_become_points_in_the_order_given() -> None:
    assert parse_points("--power-limit", "300,400,500,max") == ["300", "400", "500", "max"]
    assert parse_points("--power-limit", "200:500:50") == ["200", "250", "300", "350", "400", "450", "500"]
    assert parse_points("--power-limit", "0.1:0.3:0.1, MAX") == ["0.1", "0.2", "0.3", "max"]
    assert parse_points("--sm-clocks", "1200,1500,unlocked") == ["1200", "1500", "unlocked"]
    assert parse_points("--power-limit", "200:290:50") == ["200", "250"], "the last step never passes HIGH"


@pytest.mark.parametrize("text, says", [
    ("300,,400", "an empty point"),
    ("200:500", "LOW:HIGH:STEP"),
    ("200:500:0", "positive STEP"),
    ("500:200:50", "LOW <= HIGH"),
    ("200:x:50", "not a number"),
    ("nan", "not a finite number"),
    ("300,inf", "not a finite number"),
    ("1:1e9:1", f"more than {MAX_POINTS} points"),
    ("300,300", "given twice"),
])
def test_words_that_make_no_sweep_are_refused_in_one_line(text: str, says: str) -> None:
    with pytest.raises(UsageError, match=says) as err:
        parse_points("--power-limit", text)
    assert "\n" not in str(err.value)


# --- checked before anything changes ------------------------------------------------------------------------

def test_the_plan_resolves_words_through_the_knob_and_marks_stock(monkeypatch: pytest.MonkeyPatch) -> None:
    knob = FakeKnob()
    sweep = _plan(monkeypatch, [knob], "300,min,max", settle=None)
    assert sweep is not None
    assert [p.points[0].value for p in sweep.points] == [300.0, 100.0, 700.0]
    assert [p.stock for p in sweep.points] == [False, False, True]
    assert sweep.kind == "gpu.power_limit" and sweep.settle_s == knob.settle_s
    assert knob.history == [], "planning changes nothing"


@pytest.mark.parametrize("text, says", [
    ("300,800", "800 W is outside the device's own range"),
    ("300,turbo", "'turbo' is not a number of W"),
    ("50:300:50", "50 W is outside"),
])
def test_a_point_the_device_refuses_refuses_the_whole_sweep(monkeypatch: pytest.MonkeyPatch, text: str,
                                                           says: str) -> None:
    knob = FakeKnob()
    with pytest.raises(KnobRefused, match=says) as err:
        _plan(monkeypatch, [knob], text)
    assert "nothing was changed" in str(err.value) and "\n" not in str(err.value)
    assert knob.history == []


def test_no_permission_is_said_first_and_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    knob = FakeKnob(lacking="this process is not root")
    with pytest.raises(KnobRefused, match="not root .*changing it needs nothing.*nothing was changed"):
        _plan(monkeypatch, [knob], "300,800")
    assert knob.history == []


def test_the_same_setting_twice_under_two_words_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="700 and max are the same setting"):
        _plan(monkeypatch, [FakeKnob()], "700,max")


@pytest.mark.parametrize("kwargs, says", [
    ({"power_limit": "300", "sm_clocks": "1200"}, "one knob per sweep"),
    ({"settle_s": 3.0}, "--settle: only with a sweep"),
    ({"power_limit": "300", "settle_s": -1.0}, "--settle -1.0: must be 0 or more"),
])
def test_options_that_do_not_go_together_are_refused(kwargs: dict[str, Any], says: str) -> None:
    with pytest.raises(UsageError, match=says):
        plan_sweep("cuda:0", **kwargs)


def test_a_gpu_knob_on_the_cpu_is_refused() -> None:
    with pytest.raises(UsageError, match="--sm-clocks: no such knob on --device cpu"):
        plan_sweep("cpu", sm_clocks="1200")


def test_no_sweep_without_its_options() -> None:
    assert plan_sweep("cpu") is None


# --- the sweep ----------------------------------------------------------------------------------------------

def _specs(n: int = 1) -> list[RunSpec]:
    return [RunSpec(Counter(), "cpu", {"n": 10}, "ci") for _ in range(n)]


def test_each_point_is_a_run_per_workload_with_its_setting_and_the_originals_journaled_first(
        monkeypatch: pytest.MonkeyPatch) -> None:
    knob = FakeKnob(value=650.0)
    sweep = _plan(monkeypatch, [knob], "300,max")
    lines: list[dict[str, Any]] = []
    with KnobGuard(lines.append) as guard:
        out = run_sweep(sweep, _specs(2), TINY, None, guard)
    assert out.stopped is None and len(out.runs) == 4 and all(r.ok for r in out.runs)
    settings = [r.setting for r in out.runs]
    assert all(s is not None for s in settings)
    assert [s.requested for s in settings if s] == [300.0, 300.0, 700.0, 700.0]
    assert [s.read_back for s in settings if s] == [300.0, 300.0, 700.0, 700.0]
    assert all(s.original == 650.0 and s.limit_w == s.requested for s in settings if s)
    assert [s.stock for s in settings if s] == [False, False, True, True]
    assert knob.value == 650.0 and knob.history == [300.0, 700.0, 650.0], "put back when the guard exits"
    kinds = [x["type"] for x in lines]
    assert kinds == ["knob", "knob_set", "sweep-point", "knob_set", "sweep-point", "knob_restored"]
    assert lines[0]["original"] == 650.0


def test_a_point_the_device_does_not_take_stops_the_sweep_there(monkeypatch: pytest.MonkeyPatch) -> None:
    knob = FakeKnob(refuse=400.0)
    sweep = _plan(monkeypatch, [knob], "300,400,500")
    with KnobGuard(lambda line: None) as guard:
        out = run_sweep(sweep, _specs(), TINY, None, guard)
    assert [r.status for r in out.runs] == ["ok", "failed"]
    failed = out.runs[1]
    assert failed.error and "was not applied" in failed.error and "did not answer" in failed.error
    assert failed.setting is not None and failed.setting.requested == 400.0 and failed.setting.read_back is None
    assert knob.value == 700.0 and 500.0 not in knob.history


def test_an_interrupt_while_settling_records_the_point_as_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    knob = FakeKnob()
    sweep = _plan(monkeypatch, [knob], "300,400", settle=30.0)

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep_module.time, "sleep", interrupted)
    with KnobGuard(lambda line: None) as guard:
        out = run_sweep(sweep, _specs(), TINY, None, guard)
        assert knob.value == 300.0, "still set: the caller restores once stop signals are held"
    assert isinstance(out.stopped, KeyboardInterrupt)
    (run,) = out.runs
    assert run.status == "interrupted" and run.setting is not None and run.setting.read_back == 300.0
    assert knob.value == 700.0


def test_several_packages_are_one_setting_with_their_limits_added(monkeypatch: pytest.MonkeyPatch) -> None:
    knobs: list[Knob] = [FakeKnob("intel-rapl:0", 200.0), FakeKnob("intel-rapl:1", 250.0)]
    monkeypatch.setattr(sweep_module, "open_knobs", lambda kind, device: knobs)
    sweep = plan_sweep("cpu", power_limit="150", settle_s=0)
    assert sweep is not None
    with KnobGuard(lambda line: None) as guard:
        (run,) = run_sweep(sweep, _specs(), TINY, None, guard).runs
    s = run.setting
    assert s is not None and s.target == "intel-rapl:0+intel-rapl:1" and s.limit_w == 300.0
    assert any("original per target: intel-rapl:0 200 W, intel-rapl:1 250 W" in n for n in s.notes)
    assert [k.read() for k in knobs] == [200.0, 250.0]


@pytest.mark.parametrize("watts, over", [(330.0, True), (312.0, False)])
def test_power_over_the_limit_beyond_the_meters_accuracy_is_flagged(monkeypatch: pytest.MonkeyPatch,
                                                                    watts: float, over: bool) -> None:
    sweep = _plan(monkeypatch, [FakeKnob()], "300")
    sampler = Sampler([GpuMeter(watts)], rate_hz=200)
    sampler.start()
    try:
        with KnobGuard(lambda line: None) as guard:
            (run,) = run_sweep(sweep, _specs(), TINY, sampler, guard).runs
    finally:
        sampler.stop()
    s = run.setting
    assert s is not None and run.power.avg_w == pytest.approx(watts, rel=0.01)
    assert s.over_limit is over, s.notes  # the margin: 5% of ~330 W = 16.5 W over a 300 W limit
    assert any(n.startswith("OVER LIMIT") for n in s.notes) is over


def test_the_runs_table_tells_the_points_apart(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bench.report.terminal import labels

    sweep = _plan(monkeypatch, [FakeKnob()], "300,max")
    with KnobGuard(lambda line: None) as guard:
        runs = run_sweep(sweep, _specs(), TINY, None, guard).runs
    assert labels(runs) == ["counter @300 W", "counter @700 W stock"]


def test_without_root_or_cap_sys_admin_the_command_says_so_in_one_line_and_changes_nothing(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.cli import main
    from bench.power.knobs import permission

    zone = tmp_path / "powercap" / "intel-rapl:0"
    zone.mkdir(parents=True)
    for name, text in (("name", "package-0"), ("constraint_0_power_limit_uw", "100000000"),
                       ("constraint_0_max_power_uw", "150000000"), ("constraint_0_name", "long_term")):
        (zone / name).write_text(text + "\n")
    status = tmp_path / "status"
    status.write_text("Name:\tpython\nCapEff:\t0000000000000000\n")  # an unprivileged process's capabilities
    monkeypatch.setenv("SITEBENCH_POWERCAP_ROOT", str(tmp_path / "powercap"))
    monkeypatch.setattr(permission.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(permission, "PROC_STATUS", status)
    out = tmp_path / "r.json"
    code = main(["run", "-w", "sha256", "--meter", "model", "--power-limit", "60,80", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "not root and lacks CAP_SYS_ADMIN" in err and "nothing was changed" in err
    assert len(err.strip().splitlines()) == 1, err
    assert (zone / "constraint_0_power_limit_uw").read_text() == "100000000\n" and not out.exists()


def test_any_error_mid_sweep_puts_every_knob_back_before_it_propagates(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    import json

    from bench.run.session import RunPlan, execute

    knob = FakeKnob(value=650.0)
    sweep = _plan(monkeypatch, [knob], "300,400")
    real = sweep_module.run_suite
    calls: list[int] = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("a bug at point 2")
        return real(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "run_suite", failing)
    out = tmp_path / "r.json"
    plan = RunPlan(_specs(), TINY, "ci", out, [], [], quiet=True, sweep=sweep)
    with pytest.raises(RuntimeError, match="a bug at point 2"):
        execute(plan)
    assert knob.value == 650.0 and knob.history == [300.0, 400.0, 650.0]
    lines = [json.loads(x) for x in Path(f"{out}.journal.jsonl").read_text().splitlines()]
    assert [x["type"] for x in lines if x["type"].startswith("knob")][-1] == "knob_restored"

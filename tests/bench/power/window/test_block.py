"""The run's power block: refusals, gaps, cross-checks, quality and scope class."""

from __future__ import annotations

import time

import pytest

from bench.power.discovery import open_spec
from bench.power.sampler import Sampler
from bench.record import Run
from bench.run.runner import Timing
from tests.bench.power.fakes import CounterMeter, Sleeper, sampled_run

FAST = Timing(idle_s=0.25, warmup_s=0.05, window_s=0.3, repeats=2, tail_s=0.25)


def _run(meters: list, timing: Timing = FAST, on_step=None) -> Run:  # type: ignore[no-untyped-def]
    return sampled_run(meters, timing, workload=Sleeper(on_step))


def _schema_ok(run: Run) -> None:
    assert Run.model_validate(run.to_json()) == run


def test_nested_meters_unattributed_remainder_and_level_3() -> None:
    # level 3 wants 10 readings in each idle phase: 0.5 s of them leaves room for a loaded machine's stalls
    run = _run([CounterMeter(1000.0, "wall"), CounterMeter(900.0, "node"),
                CounterMeter(500.0, "gpu:0"), CounterMeter(150.0, "cpu-package:0")],
               FAST.model_copy(update={"idle_s": 0.5, "tail_s": 0.5}))
    pw = run.power
    assert pw.scope == "wall" and pw.scope_class == "wall"
    assert pw.avg_w == pytest.approx(1000.0, rel=1e-3)
    assert pw.unattributed_w == pytest.approx(1000.0 - 650.0, rel=1e-3)
    assert [c.agree for c in pw.crosschecks] == [True, True]
    assert pw.valid_for_sizing is True and pw.flags == []
    assert pw.idle_before_w == pytest.approx(1000.0, rel=1e-3)
    assert pw.idle_after_w == pytest.approx(1000.0, rel=1e-3)
    assert pw.quality.level == 3 and pw.quality.reasons == []
    assert len(pw.meters) == 4
    _schema_ok(run)


def test_components_exceeding_node_beyond_accuracy_are_flagged() -> None:
    run = _run([CounterMeter(400.0, "node"), CounterMeter(500.0, "gpu:0")])
    pw = run.power
    check = pw.crosschecks[0]
    assert check.agree is False and check.inner_w > check.outer_w
    assert any("exceed" in f for f in pw.flags)
    assert pw.quality.level == 2
    assert "meters disagree beyond their stated accuracy" in pw.quality.reasons


def test_components_only_is_level_1_with_components_scope_class() -> None:
    pw = _run([CounterMeter(300.0, "gpu:0"), CounterMeter(100.0, "dram:0")]).power
    assert pw.scope_class == "components" and pw.scope == "gpu:0+dram:0"
    assert pw.avg_w == pytest.approx(400.0, rel=1e-3)
    assert pw.unattributed_w is None
    assert pw.quality.level == 1
    assert any("node overhead" in r for r in pw.quality.reasons)


def test_window_shorter_than_ten_update_periods_is_refused() -> None:
    # a 1 s meter against a 0.6 s measured span: figures kept, sizing refused
    run = _run([CounterMeter(700.0, "node", update_period_s=1.0)])
    pw = run.power
    assert pw.valid_for_sizing is False
    assert any("shorter than 10 x the update period" in r for r in pw.invalid_reasons)
    assert pw.meters[0].valid is False
    assert pw.avg_w == pytest.approx(700.0, rel=1e-3)
    assert pw.quality.level == 1
    _schema_ok(run)


def test_too_few_readings_is_refused() -> None:
    run = sampled_run([CounterMeter(100.0, "node")],
                      Timing(idle_s=0.05, warmup_s=0.05, window_s=0.3, repeats=2, tail_s=0.05), rate_hz=2)
    reasons = run.power.meters[0].invalid_reasons
    assert any("need >= 10" in r for r in reasons)
    assert run.power.valid_for_sizing is False


def test_meter_failing_mid_run_leaves_a_gap_and_the_others_continue() -> None:
    bmc, gpu = CounterMeter(900.0, "node"), CounterMeter(500.0, "gpu:0")

    def on_step(n: int) -> None:  # the BMC stops answering for a while inside the window
        bmc.failing = 10 <= n < 20

    run = _run([bmc, gpu], on_step=on_step)
    pw = run.power
    node = next(m for m in pw.meters if m.scope == "node")
    gpu_fig = next(m for m in pw.meters if m.scope == "gpu:0")
    assert node.gaps and node.gaps[0].reason == "BMC stopped answering"
    assert not gpu_fig.gaps and gpu_fig.avg_w == pytest.approx(500.0, rel=1e-3)
    assert any("gap" in f and "BMC stopped answering" in f for f in pw.flags)
    # a counter spans the gap exactly: the node figure stays right, the run is flagged below level 3
    assert node.avg_w == pytest.approx(900.0, rel=1e-3)
    assert pw.quality.level == 2
    _schema_ok(run)


def test_validator_accepts_a_refused_meter_but_not_one_passed_off_as_valid() -> None:
    from bench.record import System, new_document
    from bench.validation.consistency import power_consistent

    run = _run([CounterMeter(700.0, "node", update_period_s=1.0)])
    run.power.meters[0].readings = 3
    doc = new_document(System(), [run])
    assert power_consistent(doc) == []
    run.power.valid_for_sizing = True
    assert [f.path for f in power_consistent(doc)] == ["$.runs[0].power.valid_for_sizing"]


def test_counter_discontinuity_in_the_window_refuses_it() -> None:
    from bench.power.meter import CounterDiscontinuity, Reading

    class Jumpy(CounterMeter):
        armed = False

        def read(self) -> Reading:
            if self.armed:
                self.armed = False
                raise CounterDiscontinuity("energy_uj: jumped by 900 J in 0.02 s")
            return super().read()

    def arm_at_step_8(n: int) -> None:  # the warm-up (0.05 s of 10 ms steps) is over: inside window-0 or window-1
        if n == 8:
            jumpy.armed = True

    jumpy = Jumpy(300.0, "node")
    pw = _run([jumpy], on_step=arm_at_step_8).power
    assert pw.valid_for_sizing is False
    assert any("counter discontinuity in the window: energy_uj: jumped" in r for r in pw.invalid_reasons)


class FailingAfter(CounterMeter):
    """A component counter that breaks after a few reads (a GPU whose NVML read starts failing)."""

    def __init__(self, watts: float, scope: str, good_reads: int) -> None:
        super().__init__(watts, scope)
        self.left = good_reads

    def read(self):  # type: ignore[no-untyped-def]
        from bench.errors import MeterReadError

        self.left -= 1
        if self.left < 0:
            raise MeterReadError("counter read failed")
        return super().read()


def test_a_component_without_a_valid_figure_refuses_the_run_instead_of_vanishing_from_the_sum() -> None:
    pw = _run([CounterMeter(100.0, "gpu:0"), FailingAfter(300.0, "gpu:1", good_reads=2)]).power
    assert pw.valid_for_sizing is False
    assert any(r.startswith("gpu:1") or "gpu:1" in r for r in pw.invalid_reasons)
    assert pw.scope == "gpu:0", "the partial sum is recorded as what it is, and refused"


@pytest.mark.parametrize("meters, refused", [
    ([CounterMeter(150.0, "cpu-package:0"), CounterMeter(40.0, "dram:0")], "no meter measured that GPU"),
    ([CounterMeter(400.0, "gpu:0")], "no meter measured that GPU"),  # another GPU than the run's
    ([CounterMeter(400.0, "gpu:1"), CounterMeter(150.0, "cpu-package:0")], None),
    ([CounterMeter(900.0, "module:1")], None),  # a GH200's module counter covers its GPU
    ([CounterMeter(2000.0, "node"), CounterMeter(150.0, "cpu-package:0")], None),  # the node holds the GPU
])
def test_a_gpu_run_without_its_gpu_metered_is_refused_for_sizing(meters: list, refused: str | None) -> None:
    from bench.power.window.block import power_block

    sampler = Sampler(meters, rate_hz=50)
    sampler.start()
    t0 = sampler.mark("r/run/start")
    for i in range(3):
        time.sleep(0.25)
        sampler.mark(f"r/window-{i}")
    sampler.stop()
    block = power_block(sampler, t0, [(f"r/window-{i}", f"r/window-{i + 1}") for i in range(2)], None,
                        ("r/run/start", "r/window-2"), device="cuda:1")
    if refused is None:
        assert block.valid_for_sizing, block.invalid_reasons
    else:
        assert not block.valid_for_sizing and any(refused in r for r in block.invalid_reasons)
        assert any("MIG" in r for r in block.invalid_reasons)


def test_a_gpu_run_with_only_the_cpu_model_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.power.window.block import power_block

    monkeypatch.setenv("SITEBENCH_CPU_TDP_W", "100")
    sampler = Sampler(open_spec("model"), rate_hz=50)
    sampler.start()
    t0 = sampler.mark("r/run/start")
    for i in range(2):
        time.sleep(0.3)
        sampler.mark(f"r/window-{i}")
    sampler.stop()
    block = power_block(sampler, t0, [("r/window-0", "r/window-1")], None, ("r/run/start", "r/window-1"),
                        device="cuda:0")
    assert not block.valid_for_sizing and any("model of the CPU" in r for r in block.invalid_reasons)

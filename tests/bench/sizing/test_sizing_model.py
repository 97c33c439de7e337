"""The sizing arithmetic against hand-computed cases: machines, throughput, efficiency, MW per unit, bounds."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from bench.errors import UsageError
from bench.record import Fleet, FleetNode, Gpu, NodeTotal, Phase, Run, System, WorkloadTotal
from bench.sizing.model import Allocation, Sized, Skipped, size, throughput_bounds
from bench.sizing.power import machine_power
from bench.sizing.sources import Candidate, candidates, system_name
from tests.bench.sizing.conftest import make_doc

approx = pytest.approx


def sized(run: Run, mw: float = 1.0, pue: float = 1.0, overhead: float | None = None,
          declared: bool = False) -> Sized | Skipped:
    return size(Candidate("f.json", 0, run, "sys", declared), Allocation(mw, pue), overhead)


def test_node_scope_run_by_hand(run_factory: Callable[..., Run]) -> None:
    # 1 MW at PUE 1.25 -> 800 kW IT; P = 500 W (node, ±5%) -> 475..525 W; T = 100 (p10 90, p90 110)
    s = sized(run_factory(), mw=1.0, pue=1.25)
    assert isinstance(s, Sized)
    assert (s.power_w_per_machine, s.power_w_per_machine_low, s.power_w_per_machine_high) == approx((500, 475, 525))
    assert (s.machines, s.machines_low, s.machines_high) == (1600, 1523, 1684)
    assert (s.throughput, s.throughput_low, s.throughput_high) == approx((160_000, 1523 * 90, 1684 * 110))
    assert (s.efficiency, s.efficiency_low, s.efficiency_high) == approx((0.2, 90 / 525, 110 / 475))
    assert (s.machine_efficiency, s.machine_efficiency_low, s.machine_efficiency_high) == approx(
        (0.2, 90 / 525, 110 / 475)), "no overhead: the machine efficiency is the measured one"
    assert s.mw_per_throughput == approx(1.25 * 500 / 100e6)
    assert s.mw_per_throughput == approx(1.25e-6 / s.machine_efficiency, rel=1e-12)
    assert s.mw_per_throughput_low == approx(1.25 * 475 / 110e6)
    assert s.mw_per_throughput_high == approx(1.25 * 525 / 90e6)
    assert s.measured and not s.modelled and s.scope_class == "node" and s.node_overhead_w == 0


def test_components_get_the_default_node_overhead_with_its_band(run_factory: Callable[..., Run]) -> None:
    # 400 W of GPU at ±5%; overhead 30% (10%..60%) of 400 W = 120 (40..240) W
    p = machine_power(run_factory(avg_w=400.0, scope="gpu:0"))
    assert p.scope_class == "components"
    assert (p.overhead_w, p.overhead_low_w, p.overhead_high_w) == approx((120, 40, 240))
    assert (p.watts, p.low_w, p.high_w) == approx((520, 400 * 0.95 + 40, 400 * 1.05 + 240))
    assert "30%" in p.overhead_note and "--node-overhead-w" in p.overhead_note


def test_a_given_node_overhead_is_exact(run_factory: Callable[..., Run]) -> None:
    s = sized(run_factory(avg_w=400.0, scope="gpu:0+cpu-package:0"), mw=1.0, overhead=100.0)
    assert isinstance(s, Sized)
    assert (s.power_w_per_machine, s.power_w_per_machine_low, s.power_w_per_machine_high) == approx((500, 480, 520))
    assert s.node_overhead_w == 100 and "100 W" in s.node_overhead_note
    assert s.machines == 2000
    # the measured efficiency stays the run's; the machine efficiency carries the overhead, and MW per unit/s follows it
    assert s.efficiency == approx(100 / 400) and s.machine_efficiency == approx(100 / 500)
    assert s.mw_per_throughput == approx(1e-6 / s.machine_efficiency, rel=1e-12)


def test_wider_scopes_take_no_overhead(run_factory: Callable[..., Run]) -> None:
    for scope in ("wall", "node", "node+gpu:0"):
        assert machine_power(run_factory(scope=scope), node_overhead_w=100).overhead_w == 0


def test_modelled_power_gets_the_wide_stated_band_and_is_marked(run_factory: Callable[..., Run]) -> None:
    s = sized(run_factory(avg_w=20.0, scope="modelled", measured=False, accuracy=None, p10=None, p90=None))
    assert isinstance(s, Sized)
    assert s.modelled and not s.measured and s.scope_class == "modelled"
    assert (s.power_w_per_machine_low, s.power_w_per_machine_high) == approx((20 / 2.9, 20 / 0.4))
    assert "MODELLED" in s.accuracy_note
    assert s.machines == 50_000 and s.machines_low == 20_000 and s.machines_high == math.floor(1e6 / (20 / 2.9))


def test_unstated_accuracy_is_assumed_10_percent_and_said(run_factory: Callable[..., Run]) -> None:
    p = machine_power(run_factory(scope="wall", accuracy=None))
    assert (p.low_w, p.high_w) == approx((450, 550))
    assert "10%" in p.band_note and "assumed" in p.band_note


def test_power_spread_across_windows_widens_the_bounds(run_factory: Callable[..., Run]) -> None:
    # windows average 90 W and 110 W: p10 = 92, p90 = 108 (linear interpolation), accuracy 0
    run = run_factory(avg_w=100.0, accuracy=0.0, trace=[[0.2, 90], [0.8, 90], [1.2, 110], [1.8, 110]],
                      phases=[Phase(name="window-0", start=0.0, end=1.0), Phase(name="window-1", start=1.0, end=2.0)])
    p = machine_power(run)
    assert (p.watts, p.low_w, p.high_w) == approx((100, 92, 108))
    # a version 2 run has each window's energy: the spread comes from it, not the trace
    run.power.window_energy_j, run.throughput.durations_s = [90.0, 110.0], [1.0, 1.0]
    p = machine_power(run)
    assert (p.watts, p.low_w, p.high_w) == approx((100, 92, 108))


def test_throughput_bounds_from_samples_when_p10_p90_absent(run_factory: Callable[..., Run]) -> None:
    run = run_factory(p10=None, p90=None, samples=[80.0, 100.0, 120.0])
    assert throughput_bounds(run) == approx((84.0, 100.0, 116.0))


def test_scope_class_recorded_by_the_power_layer_wins(run_factory: Callable[..., Run]) -> None:
    assert machine_power(run_factory(scope="gpu:0", scope_class="node")).scope_class == "node"
    assert machine_power(run_factory(scope="gpu:0", measured=False)).scope_class == "modelled"


@pytest.mark.parametrize(("change", "reason"), [
    ({"status": "failed"}, "status 'failed'"),
    ({"avg_w": None}, "no power figure"),
    ({"median": 0.0}, "no throughput"),
    ({"valid_for_sizing": False, "invalid_reasons": ["3 readings in the window, need >= 10"]}, "need >= 10"),
])
def test_runs_that_cannot_be_sized_say_why(run_factory: Callable[..., Run], change: dict[str, Any],
                                            reason: str) -> None:
    s = sized(run_factory(**change))
    assert isinstance(s, Skipped) and reason in s.reason and s.to_dict()["sized"] is False


def test_declared_runs_are_sized_without_verification(run_factory: Callable[..., Run]) -> None:
    run = run_factory(scope="wall", measured=False, scope_class="wall")
    run.verified = False
    s = sized(run, declared=True)
    assert isinstance(s, Sized) and s.source == "declared" and not s.modelled and not s.measured
    assert isinstance(sized(run), Skipped)


@pytest.mark.parametrize(("mw", "pue"), [(0, 1.0), (-5, 1.0), (math.inf, 1.0), (1, 0.99), (1, math.nan)])
def test_bad_allocations_are_usage_errors(mw: float, pue: float) -> None:
    with pytest.raises(UsageError):
        Allocation(mw, pue)


def test_system_names(run_factory: Callable[..., Run]) -> None:
    gpus = [Gpu(index=i, name="NVIDIA H100 80GB HBM3") for i in range(8)]
    system = System.model_validate({"cpu": {"model": "AMD EPYC"}, "gpus": gpus})

    def on(device: str) -> Run:
        return run_factory().model_copy(update={"device": device})

    assert system_name(system, on("cuda:3")) == "NVIDIA H100 80GB HBM3"
    assert system_name(system, on("cuda")) == "8x NVIDIA H100 80GB HBM3"
    assert system_name(system, on("cpu")) == "AMD EPYC"
    assert system_name(System(model="Bitmain Antminer S21")) == "Bitmain Antminer S21"
    assert system_name(System()) == "?"


def _fleet(runs: list[Run], nodes: dict[str, list[int]], throughput: float, avg_w: float,
           lost: list[int] | None = None) -> Any:
    doc = make_doc(*runs, cpu="X")
    per = {n: NodeTotal(throughput=throughput / len(nodes), avg_w=avg_w / len(nodes)) for n in nodes}
    doc.fleet = Fleet(world_size=len(runs), lost_ranks=lost or [],
                      nodes={n: FleetNode(ranks=r, system=doc.system) for n, r in nodes.items()},
                      totals={"sha256d": WorkloadTotal(throughput=throughput, avg_w=avg_w, nodes=per)})
    return doc


def test_a_fleet_file_is_sized_per_node(run_factory: Callable[..., Run]) -> None:
    runs = []
    for rank in range(4):
        r = run_factory(median=10.0, p10=9.0, p90=11.0, avg_w=100.0, scope=f"gpu:{rank % 2}")
        runs.append(r.model_copy(update={"rank": rank, "node": f"n{rank // 2}"}))
    doc = _fleet(runs, {"n0": [0, 1], "n1": [2, 3]}, 40.0, 400.0)
    (c,) = candidates(doc, "fleet.json")
    s = size(c, Allocation(1.0), node_overhead_w=0.0)
    assert isinstance(s, Sized)
    assert s.throughput_per_machine == approx(20.0, rel=1e-12) and s.power_w_per_machine == approx(200.0)
    assert (s.machines, s.throughput) == (5000, approx(100_000.0))
    assert throughput_bounds(c.run) == approx((18.0, 20.0, 22.0))
    doc.fleet.lost_ranks = [3]
    (c,) = candidates(doc, "fleet.json")
    assert isinstance(size(c, Allocation(1.0)), Skipped)


def test_the_power_layers_quality_level_is_carried(run_factory: Callable[..., Run]) -> None:
    s = sized(run_factory(quality=2))
    assert isinstance(s, Sized) and s.quality_level == 2
    assert isinstance(t := sized(run_factory(), declared=True), Sized) and t.quality_level is None


def test_a_fleet_node_is_not_sized_when_a_rank_was_refused(run_factory: Callable[..., Run]) -> None:
    runs = [run_factory(scope="gpu:0"), run_factory(scope="gpu:1", valid_for_sizing=False,
                                                    invalid_reasons=["window too short"])]
    runs = [r.model_copy(update={"rank": rank, "node": "n0"}) for rank, r in enumerate(runs)]
    doc = _fleet(runs, {"n0": [0, 1]}, 200.0, 1000.0)
    (c,) = candidates(doc, "fleet.json")
    s = size(c, Allocation(1.0))
    assert isinstance(s, Skipped) and "window too short" in s.reason and "1 rank(s)" in s.reason


def test_an_unstable_run_is_sized_and_marked(run_factory: Callable[..., Run]) -> None:
    run = run_factory()
    run.throughput.unstable = True
    s = sized(run)
    assert isinstance(s, Sized) and s.unstable

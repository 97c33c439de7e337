"""Operating envelopes: grouping by setting, the Pareto frontier, the choice for an allocation and its gain."""

from __future__ import annotations

import pytest

from bench.errors import UsageError
from bench.record import Document, Hardware, Run, Setting
from bench.sizing.declare import DeclaredPoint, declared_sweep
from bench.sizing.frontier import Costs, choose, envelopes, mark_frontier, setting_label
from bench.sizing.model import Allocation, Sized, capped, size
from bench.sizing.sources import candidates
from tests.records import document, run

S19J = [DeclaredPoint(96e12, 2850, stock=True), DeclaredPoint(74.5e12, 1905)]


def s19j(tolerance: float = 0.05) -> Document:
    """The S19j Pro's two declared points (issue 26): stock 96 TH/s at 2850 W, underclocked 74.5 TH/s at 1905 W."""
    return declared_sweep("Bitmain Antminer S19j Pro", "sha256d", S19J, unit="hash", tolerance=tolerance)


def gpu_point(limit: float, rate: float, watts: float, *, stock: bool = False, **kw: object) -> Run:
    """A measured node-metered run at a GPU power limit."""
    setting = Setting(knob="gpu.power_limit", target="gpu:0", unit="W", requested=limit, read_back=limit,
                      original=700.0, stock=stock, limit_w=limit)
    return run("decode", "cuda:0", rate=rate, watts=watts, unit="token", setting=setting, **kw)


def test_the_s19j_pro_curve_gives_16_percent_more_hash_per_mw_with_1_5x_the_machines() -> None:
    (env,) = envelopes(s19j(), "s19j.json")
    assert env.declared and env.knob == "declared.power" and env.system == "Bitmain Antminer S19j Pro"
    assert [p.label for p in env.points] == ["1905 W", "2850 W (stock)"]
    assert all(p.on_frontier for p in env.points), "less power and less hash: neither dominates"
    choice = choose(env, 100.0, 1.0)
    assert choice.point.setting.requested == 1905 and choice.stock is not None and choice.stock.setting.stock
    implied = (74.5 / 1905) / (96 / 2850)  # hash per W, efficient over stock
    assert choice.throughput_gain is not None and choice.machines_ratio is not None
    assert choice.throughput_gain.value == pytest.approx(implied, rel=1e-4)
    assert implied == pytest.approx(1.161, abs=1e-3)
    # A fixed MW buys 2850/1905 = 1.50x the machines (1.29x is what the same hash would need: 96/74.5).
    assert choice.machines_ratio.value == pytest.approx(2850 / 1905, rel=1e-4)
    g = choice.throughput_gain
    assert g.low < 1 < implied < g.high, "the declared ±5% carries through as worst-case bounds"
    assert g.low == pytest.approx(choice.sized.throughput_low / choice.stock_sized.throughput_high)  # type: ignore[union-attr]
    text = choice.gain_text()
    assert text.startswith("at 1905 W: +16% throughput per MW (") and "1.50x the machines" in text


def test_the_chosen_points_figures_are_sizings_own() -> None:
    doc = s19j()
    (env,) = envelopes(doc, "f")
    choice = choose(env, 250.0, 1.2)
    direct = size(candidates(doc, "f")[1], Allocation(250.0, 1.2))
    assert isinstance(direct, Sized) and choice.sized == direct


def test_a_machine_cap_can_make_stock_the_best_choice() -> None:
    (env,) = envelopes(s19j(), "f")
    capped_choice = choose(env, 100.0, max_machines=30_000)
    assert capped_choice.point.setting.stock and capped_choice.sized.machines == 30_000
    assert "stock is the best choice" in capped_choice.gain_text() and "30,000 machines" in capped_choice.gain_text()
    loose = choose(env, 100.0, max_machines=1_000_000)
    assert loose.point.setting.requested == 1905 and not loose.capped


def test_the_choice_by_cost_weighs_machines_against_energy() -> None:
    (env,) = envelopes(s19j(), "f")
    cheap = choose(env, 100.0, 1.0, machine_cost=500.0, energy_price=50.0, years=4.0)
    dear = choose(env, 100.0, 1.0, machine_cost=10_000.0, energy_price=50.0, years=4.0)
    assert cheap.by == "cost" and cheap.point.setting.requested == 1905
    assert dear.point.setting.stock, "dear machines: fewer of them, run hard"
    costs = Costs(10_000.0, 50.0, 4.0)
    stock_w, stock_t = 2850.0, 96e12
    want = (10_000 / 4 + stock_w * 8760 / 1e6 * 50) / (stock_t * 8760 * 3600)
    assert costs.per_unit(stock_w, stock_t, 1.0) == pytest.approx(want)
    assert dear.cost is not None and dear.cost.per_unit == pytest.approx(want)
    assert dear.cost.per_unit_low < dear.cost.per_unit < dear.cost.per_unit_high


def test_bad_choice_options_are_one_usage_error() -> None:
    (env,) = envelopes(s19j(), "f")
    with pytest.raises(UsageError, match="go together"):
        choose(env, 100.0, machine_cost=1000.0)
    with pytest.raises(UsageError, match="--max-machines 0"):
        choose(env, 100.0, max_machines=0)
    with pytest.raises(UsageError, match="--years"):
        choose(env, 100.0, machine_cost=1.0, energy_price=1.0, years=0)


def test_a_dominated_point_is_off_the_frontier() -> None:
    doc = document([gpu_point(300, 100.0, 300.0), gpu_point(400, 90.0, 400.0),
                    gpu_point(700, 150.0, 700.0, stock=True)])
    (env,) = envelopes(doc, "f")
    assert [(p.setting.requested, p.on_frontier) for p in env.points] == [(300, True), (400, False), (700, True)]
    choice = choose(env, 1.0)
    assert choice.point.setting.requested == 300  # 1/3 token/J against 0.21
    assert choice.throughput_gain is not None and choice.throughput_gain.value == pytest.approx((100 / 300) / (150 / 700),
                                                                                               rel=1e-3)


def test_repeated_points_at_the_same_figures_are_both_on_the_frontier() -> None:
    doc = document([gpu_point(300, 100.0, 300.0), gpu_point(300, 100.0, 300.0)])
    (env,) = envelopes(doc, "f")
    assert [p.on_frontier for p in mark_frontier(list(env.points))] == [True, True]


def test_runs_differing_in_more_than_the_setting_are_separate_envelopes_and_plain_runs_none() -> None:
    doc = document([gpu_point(300, 100.0, 300.0), gpu_point(400, 120.0, 400.0),
                    gpu_point(300, 50.0, 300.0, params={"batch": 8}), gpu_point(400, 60.0, 400.0, params={"batch": 8}),
                    run("decode", "cuda:0", rate=100.0, watts=500.0, unit="token")])
    envs = envelopes(doc, "f")
    assert [len(e.points) for e in envs] == [2, 2]
    assert envelopes(document([run(), run(rate=20.0)]), "f") == []


def test_a_point_that_cannot_be_sized_is_listed_not_dropped() -> None:
    bad = gpu_point(500, 10.0, 500.0, valid=False)
    doc = document([gpu_point(300, 100.0, 300.0), bad])
    (env,) = envelopes(doc, "f")
    assert len(env.points) == 1 and len(env.skipped) == 1
    assert "not valid for sizing" in env.skipped[0][1].reason
    assert env.to_dict()["not_sized"][0]["setting"] == "500 W"


def test_no_stock_point_says_so() -> None:
    doc = document([gpu_point(300, 100.0, 300.0), gpu_point(400, 120.0, 400.0)])
    (env,) = envelopes(doc, "f")
    assert "no stock point" in choose(env, 1.0).gain_text()


def test_miners_are_averaged_per_model_and_operating_point() -> None:
    def miner(ip: str, target: float, rate: float, watts: float, stock: bool = False) -> Run:
        s = Setting(knob="miner.power_target", target=f"{ip}:4028", unit="W", requested=target, read_back=target,
                    stock=stock, limit_w=target)
        hw = Hardware(kind="asic", make="MicroBT", model="Whatsminer M50", serial=ip)
        return run("sha256d", f"{ip}:4028", rate=rate, watts=watts, scope="wall", setting=s, hardware=hw)

    doc = document([miner("10.0.0.1", 3300, 110e12, 3300, True), miner("10.0.0.2", 3300, 114e12, 3300, True),
                    miner("10.0.0.1", 2400, 90e12, 2400), miner("10.0.0.2", 2400, 92e12, 2400)])
    found = candidates(doc, "m")
    assert len(found) == 2 and all(c.run.setting is not None for c in found)
    (env,) = envelopes(doc, "m")
    assert env.system == "MicroBT Whatsminer M50"
    low, stock = env.points
    assert low.throughput == pytest.approx(91e12) and stock.throughput == pytest.approx(112e12)
    assert low.setting.target == "asic x2" and stock.setting.stock


def test_capped_keeps_figures_per_machine_and_bounds() -> None:
    (c, _) = candidates(s19j(), "f")
    s = size(c, Allocation(100.0))
    assert isinstance(s, Sized)
    t = capped(s, 10_000)
    assert (t.machines, t.machines_low, t.machines_high) == (10_000, 10_000, 10_000)
    assert t.throughput == pytest.approx(10_000 * 96e12) and t.throughput_low == pytest.approx(10_000 * 96e12 * 0.95)
    assert t.mw_per_throughput == s.mw_per_throughput and capped(s, None) is s and capped(s, 10**9) is s


def test_setting_label_names_numbers_with_their_unit_and_modes_as_they_are() -> None:
    assert setting_label(Setting(knob="k", target="t", unit="W", requested=1905.0)) == "1905 W"
    assert setting_label(Setting(knob="miner.mode", target="t", unit="mode", requested="low-power")) == "low-power"

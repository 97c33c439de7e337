"""plan with a use whose result file holds a sweep: the point chosen per allocation, the cap, the choice by cost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.builtin import resolve
from bench.cli import main
from bench.errors import UsageError
from bench.sizing.plan import ChoiceOptions, evaluate, parse_plan

SWEEP = resolve("builtin:declared/bitmain-antminer-s19j-pro-sweep")


def plan_file(tmp_path: Path, *, capex: float | None = None, price: float | None = 50.0, mw: float = 100.0) -> Path:
    prices = f"[prices]\nelectricity_per_mwh = {price}\n" if price is not None else ""
    capex_line = f"  capex_per_machine = {capex}\n" if capex is not None else ""
    path = tmp_path / "plan.toml"
    path.write_text(f'[plan]\nname = "sweep"\n{prices}[[allocation]]\nname = "A"\nmw = {mw}\n'
                    f'  [[allocation.use]]\n  name = "mining"\n  share = 1.0\n  result = "{SWEEP}"\n{capex_line}')
    return path


def test_a_sweep_use_is_sized_at_the_point_that_buys_the_most(tmp_path: Path) -> None:
    (r,) = evaluate(parse_plan(plan_file(tmp_path)))
    assert r.choice is not None and r.choice["label"] == "1905 W" and r.choice["by"] == "throughput"
    assert r.sized.power_w_per_machine == pytest.approx(1905)
    assert r.choice["throughput_gain"]["value"] == pytest.approx((74.5 / 1905) / (96 / 2850), rel=1e-4)
    assert r.choice["gain"].startswith("at 1905 W: +16% throughput per MW")


def test_a_cap_per_use_and_its_energy(tmp_path: Path) -> None:
    (r,) = evaluate(parse_plan(plan_file(tmp_path)), ChoiceOptions(max_machines=30_000))
    assert r.choice is not None and r.choice["label"] == "2850 W (stock)" and r.sized.machines == 30_000
    assert r.energy_mwh == pytest.approx(30_000 * 2850 * 8760 / 1e6), "the energy of the machines bought"


def test_the_plans_capex_and_tariff_choose_by_cost(tmp_path: Path) -> None:
    (dear,) = evaluate(parse_plan(plan_file(tmp_path, capex=10_000)))
    assert dear.choice is not None and dear.choice["by"] == "cost" and dear.choice["label"] == "2850 W (stock)"
    assert dear.capex == pytest.approx(dear.sized.machines * 10_000)
    (cheap,) = evaluate(parse_plan(plan_file(tmp_path, capex=10_000)), ChoiceOptions(machine_cost=500.0))
    assert cheap.choice is not None and cheap.choice["label"] == "1905 W"
    with pytest.raises(UsageError, match="go together"):
        evaluate(parse_plan(plan_file(tmp_path, price=None)), ChoiceOptions(machine_cost=500.0))


def test_plan_prints_the_choice_and_its_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plan_file(tmp_path)
    assert main(["plan", str(path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "A: mining: at 1905 W: +16% throughput per MW" in out and "1.50x the machines" in out
    assert "at 1905 W, declared" in out
    assert main(["plan", str(path), "--max-machines", "30000", "--json"]) == 0
    (use,) = json.loads(capsys.readouterr().out)["uses"]
    assert use["choice"]["label"] == "2850 W (stock)" and use["sizing"]["machines"] == 30_000


def test_a_plan_without_sweeps_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    plan = parse_plan("builtin:plans/phase1-2000mw")
    assert all(r.choice is None for r in evaluate(plan))
    assert evaluate(plan) == evaluate(plan, ChoiceOptions())

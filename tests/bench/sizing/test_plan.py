"""Site plans: parsing, the per-year arithmetic with and without prices, the example plan, plots, bad input."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.cli import main
from bench.record import Run, write_result
from bench.sizing.declare import declared_document
from bench.sizing.plan import evaluate, parse_plan, warnings
from bench.sizing.plan_render import money, money_range, totals, years

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "results" / "plans" / "phase1-2000mw.toml"
PRICES = """
[prices]
currency = "USD"
electricity_per_mwh = 60.0
revenue_per_ph_day = 50.0
revenue_per_million_tokens = 0.9
"""


@pytest.fixture
def hardware(tmp_path: Path) -> Path:
    """hw/miner.json (1 TH/s at 1 kW wall) and hw/gpu.json (1,000 tok/s at 1 kW wall), both exact."""
    (tmp_path / "hw").mkdir()
    write_result(tmp_path / "hw" / "miner.json",
                 declared_document("Miner", "sha256d", 1e12, 1000.0, unit="hash", tolerance=0.0))
    write_result(tmp_path / "hw" / "gpu.json",
                 declared_document("GPU box", "llm", 1000.0, 1000.0, unit="token", tolerance=0.0))
    return tmp_path


def write_plan(dirpath: Path, uses: str, *, prices: str = PRICES, alloc: str = "mw = 11\npue = 1.1") -> Path:
    (dirpath / "plans").mkdir(exist_ok=True)
    path = dirpath / "plans" / "p.toml"
    path.write_text(f'[plan]\nname = "test"\navailability = 0.5\n{prices}\n'
                    f'[[allocation]]\nname = "A"\n{alloc}\n{uses}')
    return path


def use(result: str, share: float, name: str = "u", extra: str = "") -> str:
    return f'[[allocation.use]]\nname = "{name}"\nshare = {share}\nresult = "{result}"\n{extra}\n'


def test_plan_by_hand_with_prices(hardware: Path) -> None:
    # 11 MW at PUE 1.1 -> 10 MW IT; half to each use: 5,000 machines of 1 kW each
    plan = parse_plan(write_plan(hardware, use("../hw/miner.json", 0.5, "mine") + use("../hw/gpu.json", 0.5, "ai")))
    mine, ai = evaluate(plan)
    assert (mine.sized.machines, mine.sized.throughput) == (5000, pytest.approx(5e15))
    assert mine.energy_mwh == pytest.approx(5.5 * 0.5 * 8760)
    assert mine.cost == pytest.approx(5.5 * 0.5 * 8760 * 60)
    assert mine.revenue == pytest.approx(5 * 50 * 365 * 0.5)  # 5 PH/s x 50 USD/PH/day x 365 days x 50%
    assert ai.revenue == pytest.approx(5e6 * 8760 * 3600 * 0.5 / 1e6 * 0.9)  # 5 M tok/s for half a year
    tot = totals(plan, [mine, ai])["total"]
    assert tot["energy_mwh"] == pytest.approx(11 * 0.5 * 8760)
    assert tot["margin"] == pytest.approx(mine.revenue + ai.revenue - 11 * 0.5 * 8760 * 60)
    assert tot["by_unit"]["hash"]["machines"] == 5000


def test_money_is_printed_as_currency_not_si_prefixes() -> None:
    assert money(14.1e9) == "$14.1 billion" and money(266_437_152.0) == "$266 million"
    assert money(4000) == "$4,000" and money(14_100_000, "EUR") == "€14.1 million"
    assert money(999_950_000) == "$1 billion", "rounding up moves to the next word"
    assert money(-2.5e6) == "-$2.5 million" and money(None) == "-" and money(0.9) == "$0.90"
    assert money(3.2e9, "PKR") == "3.2 billion PKR"
    assert money_range(564e6, 689e6) == "$564 - 689 million"
    assert money_range(950e6, 1.2e9) == "$950 million - $1.2 billion"


def test_capex_per_machine_gives_capex_and_payback(hardware: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 5,000 miners and 5,000 GPU boxes (see test_plan_by_hand_with_prices); the miners earn less than
    # their energy costs at these prices, so they never pay back
    plan = parse_plan(write_plan(hardware, use("../hw/miner.json", 0.5, "mine", "capex_per_machine = 3000")
                                 + use("../hw/gpu.json", 0.5, "ai", "capex_per_machine = 250000")))
    mine, ai = evaluate(plan)
    assert mine.capex == pytest.approx(5000 * 3000) and ai.capex == pytest.approx(5000 * 250_000)
    assert ai.cost is not None and ai.revenue is not None and mine.cost is not None and mine.revenue is not None
    assert ai.payback_years == pytest.approx(ai.capex / (ai.revenue - ai.cost))
    assert mine.revenue < mine.cost and mine.payback_years is None and years(None, 1.0, 2.0, 3.0) != "-"
    tot = totals(plan, [mine, ai])["total"]
    assert tot["capex"] == pytest.approx(mine.capex + ai.capex)
    assert tot["payback_years"] == pytest.approx(tot["capex"] / tot["margin"])
    assert main(["plan", str(plan.path)]) == 0
    out = capsys.readouterr().out
    assert "never" in out and "$3,000 each" in out and "$250,000 each" in out and "ILLUSTRATIVE" in out
    assert main(["plan", str(plan.path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["uses"][1]["capex_per_machine"] == 250000 and data["uses"][0]["payback_years"] is None
    assert any("illustrative" in n.lower() for n in data["money_notes"])


def test_prices_without_capex_say_capital_is_left_out(hardware: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_plan(hardware, use("../hw/gpu.json", 0.5))
    (r,) = evaluate(parse_plan(path))
    assert r.capex is None and r.payback_years is None
    assert main(["plan", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ILLUSTRATIVE" in out and "capital cost is left out" in out


def test_plan_without_prices_has_energy_but_no_money(hardware: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_plan(hardware, use("../hw/miner.json", 0.6), prices="")
    (r,) = evaluate(parse_plan(path))
    assert r.energy_mwh == pytest.approx(11 * 0.6 * 0.5 * 8760)
    assert r.cost is None and r.revenue is None
    assert main(["plan", str(path)]) == 0
    out = capsys.readouterr().out
    assert "unallocated" in out and "4.4" in out  # 40% of 11 MW left
    assert "Money per year" not in out and "ILLUSTRATIVE" not in out, "no money table without prices"
    assert main(["plan", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["total"]["cost"] is None and data["uses"][0]["sizing"]["machines"] == 6000
    assert data["money_notes"] == [] and data["totals"]["total"]["payback_years"] is None


def test_example_plan_is_2000_mw_over_three_plants(capsys: pytest.CaptureFixture[str]) -> None:
    plan = parse_plan(EXAMPLE)
    assert [a.name for a in plan.allocations] == ["Sahiwal", "Port Qasim", "China Hub"]
    assert sum(a.mw for a in plan.allocations) == 2000
    assert all(a.site_capacity_mw == 1320 and a.site_load_factor == 0.15 for a in plan.allocations)
    assert not warnings(plan)
    results = evaluate(plan)
    assert {r.sized.source for r in results} == {"declared"}
    assert {r.sized.unit for r in results} == {"hash", "token"}
    assert main(["plan", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "EH/s" in out and "tok/s" in out and "declared" in out and "node overhead" in out
    # the example's money: illustrative prices and capex per machine, printed as currency, with a payback
    assert {r.capex_per_machine for r in results} == {5000.0, 4000.0, 275000.0}
    assert all(r.payback_years is not None and r.payback_years > 0 for r in results)
    assert "ILLUSTRATIVE" in out and "not quotes" in out and "capex" in out and "payback" in out
    assert " billion" in out and " million" in out and "$" in out and "years" in out
    assert not re.search(r"\d[GM]\b", out.split("Money per year", 1)[1]), "no SI prefixes on money"
    text = EXAMPLE.read_text()
    assert len(re.findall(r"^ *capex_per_machine = .*# illustrative", text, flags=re.M)) == 6


def test_allocation_over_the_sites_spare_capacity_warns(hardware: Path) -> None:
    path = write_plan(hardware, use("../hw/miner.json", 1.0),
                      alloc="mw = 1200\nsite_capacity_mw = 1320\nsite_load_factor = 0.15")
    (w,) = warnings(parse_plan(path))
    assert "1122" in w


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_plan_plot_is_a_valid_image(hardware: Path, tmp_path: Path, suffix: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = write_plan(hardware, use("../hw/miner.json", 0.3, "mine") + use("../hw/gpu.json", 0.5, "ai"))
    plot = tmp_path / f"plan.{suffix}"
    assert main(["plan", str(path), "--plot", str(plot)]) == 0
    data = plot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") if suffix == "png" else b"<svg" in data[:2000]


@pytest.mark.parametrize(("uses", "alloc", "message"), [
    (use("../hw/miner.json", 0.7) + use("../hw/gpu.json", 0.4), "mw = 10", "more than 100%"),
    (use("../hw/missing.json", 0.5), "mw = 10", "no such file"),
    (use("../hw/miner.json", 0.5), "mw = 0", "allocation[0].mw"),
    (use("../hw/miner.json", 0.5), "mw = -10", "allocation[0].mw"),
    (use("../hw/miner.json", 0.5), "mw = 10\npue = 0.9", "allocation[0].pue"),
    (use("../hw/miner.json", 0.5), "mw = 10\navailability = 1.5", "availability"),
    (use("../hw/miner.json", 0), "mw = 10", "share"),
    (use("../hw/miner.json", 0.5), "mw = 10\ncolour = 'red'", "unknown key"),
    (use("../hw/miner.json", 0.5, extra="capex_per_machine = -1"), "mw = 10", "capex_per_machine"),
    (use("../hw/miner.json", 0.5, extra='capex_per_machine = "cheap"'), "mw = 10", "capex_per_machine"),
    ("", "mw = 10", "at least one"),
    (use("../hw/miner.json", 0.5, extra='workload = "nope"'), "mw = 10", "no usable runs"),
    (use("../hw/miner.json", 0.5) + '[[allocation]]\nname = "A"\nmw = 5\n' + use("../hw/gpu.json", 0.5), "mw = 10",
     "duplicate name 'A'"),
])
def test_bad_plans_exit_2_with_one_line(hardware: Path, capsys: pytest.CaptureFixture[str], uses: str, alloc: str,
                                        message: str) -> None:
    assert main(["plan", str(write_plan(hardware, uses, alloc=alloc))]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_plan_files(hardware: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        run_factory: Callable[..., Run], write_doc: Callable[..., Path]) -> None:
    assert main(["plan", str(tmp_path / "none.toml")]) == 2
    broken = tmp_path / "broken.toml"
    broken.write_text("[plan\n")
    assert main(["plan", str(broken)]) == 2 and "not valid TOML" in capsys.readouterr().err
    bad = hardware / "hw" / "bad.json"
    bad.write_text('{"schema": "sitebench.result/1"}')
    assert main(["plan", str(write_plan(hardware, use("../hw/bad.json", 0.5)))]) == 1
    assert "bad.json" in capsys.readouterr().err
    two = write_doc(run_factory(), run_factory(workload="sha256"), name="two.json")
    assert main(["plan", str(write_plan(hardware, use(str(two), 0.5)))]) == 2
    assert "set workload" in capsys.readouterr().err
    assert main(["plan", str(write_plan(hardware, use(str(two), 0.5, extra='workload = "sha256"')))]) == 0

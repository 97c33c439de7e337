"""declare --point, size and show with operating envelopes: tables, the gain over stock, --json, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.cli import main
from bench.record import load, write_result
from bench.sizing.frontier import plotted, size_all
from bench.sizing.model import Allocation
from bench.sizing.sources import candidates
from tests.bench.sizing.test_frontier import gpu_point
from tests.records import document, run

S19J = ["declare", "--model", "Bitmain Antminer S19j Pro", "--workload", "sha256d",
        "--point", "96e12@2850:stock", "--point", "74.5e12@1905"]


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def s19j(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "s19j.json"
    assert cli(capsys, *S19J, "--out", str(path))[0] == 0
    return path


def test_size_prints_the_declared_envelope_its_frontier_and_the_gain(s19j: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(capsys, "size", str(s19j), "--mw", "100")
    assert rc == 0
    assert "DECLARED operating envelope (vendor curve, not measured)" in out
    assert "Runs measured by sitebench" not in out, "the points are in the envelope's table, not sized twice"
    flat = " ".join(out.split())
    assert "at 1905 W: +16% throughput per MW" in flat and "1.50x the machines" in flat
    assert "2850 W (stock)" in flat and "chosen" in flat


def test_max_machines_can_make_stock_the_choice(s19j: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(capsys, "size", str(s19j), "--mw", "100", "--max-machines", "30000")
    assert rc == 0
    flat = " ".join(out.split())
    assert "at 2850 W (stock): stock is the best choice (the most throughput with at most 30,000 machines)" in flat


def test_size_json_marks_the_points_frontier_and_the_choice(s19j: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(capsys, "size", str(s19j), "--mw", "100", "--machine-cost", "500", "--energy-price", "50",
                     "--years", "4", "--json")
    assert rc == 0
    stock, low = json.loads(out)
    assert stock["setting"]["stock"] is True and stock["on_frontier"] and not stock["chosen"]
    assert low["chosen"] and low["setting"]["requested"] == 1905.0
    choice = low["choice"]
    assert choice["by"] == "cost" and choice["cost"]["per_unit"] > 0
    assert choice["throughput_gain"]["value"] == pytest.approx((74.5 / 1905) / (96 / 2850), rel=1e-4)
    assert choice["machines_ratio"]["value"] == pytest.approx(2850 / 1905, rel=1e-4)
    assert choice["throughput_gain"]["low"] < 1 < choice["throughput_gain"]["high"]


def test_runs_without_a_setting_size_exactly_as_before(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_result(tmp_path / "r.json", document([run(rate=10.0, watts=100.0)]))
    rc, out, _ = cli(capsys, "size", str(path), "--mw", "1", "--json")
    (row,) = json.loads(out)
    assert rc == 0 and not {"setting", "on_frontier", "chosen", "choice"} & set(row)
    rc, text, _ = cli(capsys, "size", str(path), "--mw", "1")
    assert "Runs measured by sitebench" in text and "envelope" not in text


def test_a_measured_sweep_beside_a_plain_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = document([gpu_point(300, 100.0, 300.0), gpu_point(700, 150.0, 700.0, stock=True),
                    run("other", "cpu", rate=5.0, watts=50.0)])
    path = write_result(tmp_path / "sweep.json", doc)
    rc, out, _ = cli(capsys, "size", str(path), "--mw", "1")
    assert rc == 0
    assert "Runs measured by sitebench" in out and "Operating envelope (measured)" in out
    flat = " ".join(out.split())
    assert "at 300 W: +56% throughput per MW" in flat and "2.33x the machines" in flat
    assert "read back" in flat


def test_show_prints_the_envelope_and_its_json(s19j: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = cli(capsys, "show", str(s19j))
    assert rc == 0 and "DECLARED operating envelope" in out and "frontier" in out
    rc, out, _ = cli(capsys, "show", "--json", str(s19j))
    (entry,) = json.loads(out)
    assert rc == 0 and entry["source"] == "declared"
    (env,) = entry["envelopes"]
    assert env["source"] == "declared" and len(env["points"]) == 2 and len(env["frontier"]) == 2
    assert env["choice"]["label"] == "1905 W" and entry["runs"][1]["chosen"] is True


@pytest.mark.parametrize(("argv", "message"), [
    (["--point", "96e12@2850"], "at least two points"),
    (["--point", "96e12@2850:stock", "--point", "74e12@2850"], "same power"),
    (["--point", "96e12@2850:stock", "--point", "74e12@1900:stock"], "more than one point marked :stock"),
    (["--point", "96e12-2850", "--point", "1@2"], "expected THROUGHPUT@POWER_W"),
    (["--point", "x@2850", "--point", "1@2"], "must be numbers"),
    (["--point", "0@2850", "--point", "1@2"], "must be a positive number"),
    (["--point", "1@2", "--point", "2@3", "--throughput", "1e12"], "either --point"),
    ([], "--throughput and --power-w are required"),
])
def test_bad_declared_sweeps_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     argv: list[str], message: str) -> None:
    out = tmp_path / "x.json"
    rc, _, err = cli(capsys, "declare", "--model", "M", "--workload", "sha256d", *argv, "--out", str(out))
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1 and not out.exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["--machine-cost", "3000"], "go together"),
    (["--energy-price", "50"], "go together"),
    (["--max-machines", "0"], "--max-machines 0"),
    (["--machine-cost", "-1", "--energy-price", "50"], "--machine-cost -1"),
    (["--machine-cost", "1", "--energy-price", "50", "--years", "0"], "--years 0"),
])
def test_bad_choice_options_are_one_line_and_exit_2(s19j: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                                     message: str) -> None:
    rc, _, err = cli(capsys, "size", str(s19j), "--mw", "100", *argv)
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1


def test_the_cap_heads_the_plain_table_and_the_plot_draws_the_chosen_point(tmp_path: Path, s19j: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    plain = write_result(tmp_path / "r.json", document([run(rate=10.0, watts=100.0)]))
    rc, out, _ = cli(capsys, "size", str(plain), str(s19j), "--mw", "1", "--max-machines", "300",
                     "--plot", str(tmp_path / "p.png"))
    assert rc == 0 and "at most 300 machines" in out and (tmp_path / "p.png").stat().st_size > 0
    found = [c for p in (plain, s19j) for c in candidates(load(p), str(p))]
    rows = plotted(size_all(found, Allocation(1.0), max_machines=300))
    assert len(rows) == 2 and rows[1].system == "Bitmain Antminer S19j Pro at 2850 W (stock)"

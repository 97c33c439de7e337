"""A plan names each use's climate and cooling itself (``climate``/``cooling`` in a use, else its allocation's):
``plan`` gives the figures ``--climate``/``--cooling`` would, the command line overrides the plan, and a bad
key is one line naming the file and the key, exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.sizing.plan import parse_plan
from tests.bench.sizing.climate.test_annual import s21

USE = '[[allocation.use]]\nname = "{name}"\nshare = {share}\nresult = "s21.json"\n'


def plan_file(tmp_path: Path, allocation: str = "", uses: tuple[str, ...] = ("",), shares: tuple[float, ...] = (1.0,),
              name: str = "A") -> Path:
    s21(tmp_path)
    text = f'[plan]\nname = "S"\npue = 1.1\n[[allocation]]\nname = "{name}"\nmw = 38.5\n{allocation}\n'
    for i, (extra, share) in enumerate(zip(uses, shares)):
        text += USE.format(name=f"u{i}", share=share) + extra + "\n"
    path = tmp_path / "p.toml"
    path.write_text(text)
    return path


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["plan", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_uses_own_climate_gives_the_figures_the_options_give(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    in_plan = plan_file(tmp_path, uses=('climate = "sahiwal"\ncooling = "evaporative"',))
    from_plan = run_json(capsys, str(in_plan))["climate"]
    bare = plan_file(tmp_path / "bare")
    from_options = run_json(capsys, str(bare), "--climate", "sahiwal", "--cooling", "evaporative")["climate"]
    (use,) = from_plan["uses"]
    assert (use["site"], use["cooling"]) == ("Sahiwal", "evaporative")
    assert use["throughput"] == pytest.approx(from_options["uses"][0]["throughput"], rel=1e-12)
    assert use["monthly"] == pytest.approx(from_options["uses"][0]["monthly"], rel=1e-12)
    assert from_plan["allocations"]["A"]["cooling"] == "evaporative"
    assert use["throughput"] < use["flat_throughput"]  # a Sahiwal summer costs an S21 hash


def test_an_allocations_climate_is_its_uses_and_a_use_may_differ(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = plan_file(tmp_path, 'climate = "port-qasim"\ncooling = "evaporative"',
                     ("", 'cooling = "dry-cooler"', 'climate = "hub"'), (0.4, 0.3, 0.3))
    c = run_json(capsys, str(path))["climate"]
    assert [(u["use"], u["site"], u["cooling"]) for u in c["uses"]] == [
        ("A: u0", "Port Qasim", "evaporative"), ("A: u1", "Port Qasim", "dry-cooler"), ("A: u2", "Hub", "evaporative")]
    assert set(c["allocations"]) == {"A: u0", "A: u1", "A: u2"}  # the uses differ: each its own
    assert main(["plan", str(path)]) == 0
    text = " ".join(capsys.readouterr().out.split())  # the notes wrap at the terminal's width
    assert "allocation 'A' use 'u1': Port Qasim" in text and "cooling: liquid with a dry cooler" in text


def test_the_command_line_overrides_the_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plan_file(tmp_path, 'climate = "port-qasim"', ('cooling = "dry-cooler"',))
    c = run_json(capsys, str(path), "--climate", "sahiwal")["climate"]
    assert [(u["site"], u["cooling"]) for u in c["uses"]] == [("Sahiwal", "dry-cooler")]
    c = run_json(capsys, str(path), "--cooling", "A=air")["climate"]  # the plan's climate, the option's cooling
    assert [(u["site"], u["cooling"]) for u in c["uses"]] == [("Port Qasim", "air")]
    c = run_json(capsys, str(path), "--climate", "A=hub", "--cooling", "evaporative")["climate"]
    assert [(u["site"], u["cooling"]) for u in c["uses"]] == [("Hub", "evaporative")]


def test_a_climate_file_beside_the_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        write_csv: Callable[..., Path]) -> None:
    write_csv("year.csv")
    path = plan_file(tmp_path, 'climate = "year.csv"')
    assert parse_plan(path).allocations[0].climate == str(tmp_path / "year.csv")
    (use,) = run_json(capsys, str(path))["climate"]["uses"]
    assert use["cooling"] == "air" and use["throughput"] > 0


def test_a_plan_without_climates_prints_no_annual_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "climate" not in run_json(capsys, str(plan_file(tmp_path)))
    assert main(["plan", str(plan_file(tmp_path)), "--cooling", "air"]) == 2
    assert "--cooling needs --climate" in capsys.readouterr().err


@pytest.mark.parametrize(("allocation", "use", "says"), [
    ("", 'climate = "atlantis"', "allocation[0].use[0].climate: no such site 'atlantis' (shipped: "),
    ('climate = "gone.epw"', "", "allocation[0].climate: no such file "),
    ("", 'climate = "sahiwal"\ncooling = "magic"', "allocation[0].use[0].cooling: 'magic': expected one of air"),
    ("", "climate = 3", "allocation[0].use[0].climate: must be a non-empty string"),
])
def test_a_bad_climate_or_cooling_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     allocation: str, use: str, says: str) -> None:
    path = plan_file(tmp_path, allocation, (use,))
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: {says}" in err and len(err.strip().splitlines()) == 1, err

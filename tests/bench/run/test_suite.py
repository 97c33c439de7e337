"""Parameter sweeps of `sitebench run`: one run per value, a refused point recorded and the sweep going on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.cli import main
from bench.errors import UsageError
from bench.run.suite import sweep_points

FAST = ["--idle", "0", "--warmup", "0.05", "--window", "0.2", "--repeats", "2", "--quiet"]


def test_sweep_points_of_numeric_parameters_are_every_combination() -> None:
    preset = {"batch": 4, "prompt_len": 16, "model": "tiny", "compile": True}
    assert sweep_points({"batch": "1,4"}, preset) == [{"batch": "1"}, {"batch": "4"}]
    points = sweep_points({"batch": "1,2", "prompt_len": "8,16", "model": "tiny"}, preset)
    assert len(points) == 4 and {"batch": "2", "prompt_len": "8", "model": "tiny"} in points
    assert sweep_points({"model": "a,b"}, preset) == [{"model": "a,b"}], "strings are not swept"
    with pytest.raises(UsageError, match="empty value"):
        sweep_points({"batch": "1,,4"}, preset)


def test_batch_sweep_records_a_point_that_does_not_fit_and_goes_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep.json"
    code = main(["run", "-w", "llm-decode", "--param", "batch=1,100000000,2", "--out", str(out), *FAST])
    runs = json.loads(out.read_text())["runs"]
    assert [r["params"]["batch"] for r in runs] == [1, 100000000, 2]
    assert [r["status"] for r in runs] == ["ok", "failed", "ok"]
    assert "bytes" in runs[1]["error"] and "batch 100000000" in runs[1]["error"]
    assert runs[0]["throughput"]["median"] > 0 and runs[2]["throughput"]["median"] > 0
    assert code == 1, "a failed point fails the run's exit code"
    assert "llm-decode batch=100000000" in capsys.readouterr().out


def test_a_single_point_that_does_not_fit_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "-w", "llm-decode", "--param", "model=llama-3.1-70b", "--out", str(tmp_path / "r.json"), *FAST])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "bytes on cpu" in err[0]
    assert not (tmp_path / "r.json").exists(), "refused before anything ran or was written"


@pytest.mark.parametrize(("param", "message"), [
    ("batch=abc", "--param batch=abc: expected an integer"),
    ("sha256d.batch=1.5", "--param sha256d.batch=1.5: expected an integer"),
    ("batch=1,x,4", "--param batch=1,x,4: expected an integer for each value of the sweep ('x' is not)"),
])
def test_a_param_of_the_wrong_type_is_one_line_naming_the_option(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 param: str, message: str) -> None:
    code = main(["run", "-w", "sha256d", "--param", param, "--out", str(tmp_path / "r.json"), *FAST])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].endswith(message) and "invalid literal" not in err[0]
    assert not (tmp_path / "r.json").exists()


def test_expected_types_are_named_for_people() -> None:
    from bench.run.suite import expected_type

    assert [expected_type(v) for v in (4, 0.5, True, "tiny", [1, 2])] == [
        "an integer", "a number", "true or false", "text", "a comma-separated list of integers"]

"""`sitebench baseline save|check` through the CLI: per-machine directories, the default fallback,
per-workload thresholds and the significance test."""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.cli import main

TIMES = [0.010, 0.011, 0.0105, 0.0102, 0.0108, 0.0101, 0.0104, 0.0107]


def _bench(path: Path, scale: float, name: str = "sleepy") -> Path:
    path.write_text(json.dumps({"benchmarks": [{"group": name, "name": "t",
        "extra_info": {"workload": name, "device": "cpu", "params": {}, "unit": "step",
                       "units_per_round": 1.0}, "stats": {"data": [t * scale for t in TIMES]}}]}))
    return path


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def baseline_cli(capsys: pytest.CaptureFixture[str]):
    """``sitebench baseline ARGS`` in this process (saves a torch import per call)."""
    def run(*args: str) -> Result:
        code = main(["baseline", *args])
        out, err = capsys.readouterr()
        return Result(code, out, err)
    return run


def test_save_then_check_falls_back_to_default(tmp_path: Path, baseline_cli) -> None:
    d = tmp_path / "bl"
    assert baseline_cli("save", str(_bench(tmp_path / "a.json", 1.0)), "--dir", str(d), "--name", "default").returncode == 0
    assert (d / "default" / "baseline.json").is_file()
    assert json.loads((d / "default" / "thresholds.json").read_text()) == {"default_pct": 5.0, "workloads": {}}
    ok = baseline_cli("check", str(_bench(tmp_path / "b.json", 1.0)), "--dir", str(d))
    assert ok.returncode == 0 and "using" in ok.stdout and "default/baseline.json" in ok.stdout
    bad = baseline_cli("check", str(_bench(tmp_path / "c.json", 1.5)), "--dir", str(d))
    assert bad.returncode == 1 and "regression in sleepy" in bad.stderr
    assert baseline_cli("check", str(tmp_path / "c.json"), "--dir", str(d), "--report-only").returncode == 0


def test_own_machine_dir_and_per_workload_thresholds(tmp_path: Path, baseline_cli) -> None:
    d = tmp_path / "bl"
    assert baseline_cli("save", str(_bench(tmp_path / "a.json", 1.0)), "--dir", str(d), "--name", "m1").returncode == 0
    slow = str(_bench(tmp_path / "c.json", 1.3))
    assert baseline_cli("check", slow, "--dir", str(d), "--name", "m1").returncode == 1
    # a 30 % slowdown passes under a 40 % threshold, from the file or the command line
    (d / "m1" / "thresholds.json").write_text(json.dumps({"default_pct": 5, "workloads": {"sleepy": 40}}))
    r = baseline_cli("check", slow, "--dir", str(d), "--name", "m1")
    assert r.returncode == 0 and "using" not in r.stdout
    assert baseline_cli("check", slow, "--dir", str(d), "--name", "m1", "--workload-threshold", "sleepy=10").returncode == 1


def test_bad_input_is_one_line(tmp_path: Path, baseline_cli) -> None:
    d = tmp_path / "bl"
    a = str(_bench(tmp_path / "a.json", 1.0))
    assert baseline_cli("save", a, "--dir", str(d), "--name", "m1").returncode == 0
    (d / "m1" / "thresholds.json").write_text('{"default_pct": "five"}')
    for args in (("check", a, "--dir", str(d), "--name", "m1"),
                 ("check", a, "--dir", str(tmp_path / "none")),
                 ("check", a, "--dir", str(d), "--workload-threshold", "x"),
                 ("save", a, "--dir", str(d), "--name", "../up"),
                 ("check", str(tmp_path / "missing.json"), "--dir", str(d))):
        r = baseline_cli(*args)
        assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, args


def test_a_baseline_from_other_hardware_is_shown_not_judged(tmp_path: Path, baseline_cli) -> None:
    from bench.record import load, write_result

    d = tmp_path / "bl"
    assert baseline_cli("save", str(_bench(tmp_path / "a.json", 1.0)), "--dir", str(d), "--name", "default").returncode == 0
    path = d / "default" / "baseline.json"
    doc = load(path)
    assert doc.system.cpu is not None
    other = doc.system.model_copy(update={"cpu": doc.system.cpu.model_copy(update={"model": "Other CPU 9000",
                                                                                    "flags": ["avx2"]})})
    write_result(path, doc.model_copy(update={"system": other}))
    slow = str(_bench(tmp_path / "c.json", 1.5))
    refused = baseline_cli("check", slow, "--dir", str(d))
    assert refused.returncode == 2 and "Other CPU 9000" in refused.stderr and "baseline save" in refused.stderr
    shown = baseline_cli("check", slow, "--dir", str(d), "--report-only")
    assert shown.returncode == 0 and "recorded" in shown.stdout and "Other CPU 9000, " in shown.stdout
    assert "not judged" in shown.stdout and "REGRESSION" not in shown.stdout
    judged = baseline_cli("check", slow, "--dir", str(d), "--any-machine")
    assert judged.returncode == 1 and "regression in sleepy" in judged.stderr

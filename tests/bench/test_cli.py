"""The `sitebench` command end to end, in subprocesses, as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.record import load

FAST = ["--idle", "0.05", "--warmup", "0.05", "--window", "0.3", "--repeats", "2", "--quiet"]


def sitebench(*args: str, env_path: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if env_path is not None:
        env["PYTHONPATH"] = f"{env_path}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0]


def test_default_suite_end_to_end(tmp_path: Path) -> None:
    """The README's run, at ci size: both workloads verified, throughput and power non-zero, schema-valid."""
    out = tmp_path / "r.json"
    proc = sitebench("run", "--device", "cpu", "--preset", "ci", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    doc = load(out)  # typed and bounded on load
    runs = {r.workload: r for r in doc.runs}
    assert {"sha256d", "llm-decode"} <= set(runs)
    for run in runs.values():
        assert run.status == "ok" and run.verified is True
        assert run.throughput.rate and run.throughput.rate > 0
        assert run.power.avg_w and run.power.avg_w > 0 and run.efficiency.per_joule and run.efficiency.per_joule > 0
    assert "What 1 MW buys" in proc.stdout
    assert "sha256d" in proc.stdout and "llm-decode" in proc.stdout
    assert not list(tmp_path.glob("*.journal.jsonl")), "journal removed after a complete write"
    shown = sitebench("show", str(out))
    assert shown.returncode == 0 and "sha256d" in shown.stdout


def test_third_party_workload_runs_and_lists(thirdparty_dist: Path, tmp_path: Path) -> None:
    listed = sitebench("list", "--json", env_path=thirdparty_dist)
    assert listed.returncode == 0, listed.stderr
    info = json.loads(listed.stdout)
    assert "thirdparty-count" in {w["name"] for w in info["workloads"]}
    meters = {m["name"]: m for m in info["meters"]}
    assert "model" in {m.split(":")[0] for m in meters}
    assert all(m["available"] or m["reason"] for m in meters.values())

    out = tmp_path / "r.json"
    proc = sitebench("run", "-w", "thirdparty-count", "--out", str(out), *FAST, env_path=thirdparty_dist)
    assert proc.returncode == 0, proc.stderr
    (run,) = load(out).runs
    assert run.workload == "thirdparty-count" and run.verified and len(run.throughput.samples) == 2


def test_failed_verification_exits_1_and_is_recorded(thirdparty_dist: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = sitebench("run", "-w", "thirdparty-count", "--param", "broken=true", "--out", str(out), *FAST,
                     env_path=thirdparty_dist)
    assert proc.returncode == 1
    (run,) = load(out).runs
    assert run.status == "failed" and run.verified is False and "deliberately wrong" in run.error


@pytest.mark.parametrize(
    "args, code, needles",
    [
        (["run", "-w", "nope"], 2, ["unknown workload 'nope'"]),
        (["run", "--device", "tpu"], 2, ["--device 'tpu'"]),
        (["run", "--device", "cuda"], 2, ["no CUDA GPU"]),
        (["run", "--frobnicate"], 2, ["unrecognized arguments: --frobnicate"]),
        (["run", "--preset", "huge"], 2, ["--preset 'huge'"]),
        (["run", "--param", "nokey"], 2, ["expected [WORKLOAD.]KEY=VALUE"]),
        (["run", "--param", "zzz=1"], 2, ["no workload in this run has a parameter 'zzz'"]),
        (["run", "--repeats", "0"], 2, ["must be positive"]),
        (["run", "--meter", "nosuch"], 2, ["unknown meter 'nosuch'"]),
        (["run", "--out", "/etc/hostname/r.json"], 2, ["--out", "/etc/hostname is a file, not a directory"]),
        (["run", "--out", "/proc/x.json"], 2, ["--out /proc/x.json"]),
        (["show", "/nonexistent.json"], 2, ["no such file"]),
        (["nosuchcommand"], 2, ["invalid choice"]),
    ],
)
def test_bad_input_is_one_line_and_the_documented_code(args: list[str], code: int, needles: list[str]) -> None:
    if args[:3] == ["run", "--device", "cuda"]:
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has a GPU")
    assert_one_line_error(sitebench(*args), code, *needles)


def test_show_rejects_non_json_and_wrong_schema(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert_one_line_error(sitebench("show", str(bad)), 1, str(bad), "not valid JSON")
    bad.write_text(json.dumps({"schema": "other/1"}))
    assert_one_line_error(sitebench("show", str(bad)), 1, str(bad), "$.schema")


def test_help_explains_every_command() -> None:
    proc = sitebench("--help")
    assert proc.returncode == 0
    for word in ("run", "list", "show", "exit codes"):
        assert word in proc.stdout
    run_help = sitebench("run", "--help").stdout
    assert "--preset" in run_help and "examples" in run_help


def test_the_cli_loads_only_the_command_it_runs() -> None:
    """``sitebench --help`` imports no command module (nor torch); a command loads its own module alone."""
    probe = ("import sys\nfrom bench.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith('bench.commands.')), 'torch' in sys.modules)")
    top = subprocess.run([sys.executable, "-c", probe, "--help"], capture_output=True, text=True, timeout=120)
    assert top.stdout.splitlines()[-1] == "[] False"
    one = subprocess.run([sys.executable, "-c", probe, "keygen", "--help"], capture_output=True, text=True, timeout=120)
    assert one.stdout.splitlines()[-1].startswith("['bench.commands.keygen']")


def test_every_command_registers_under_its_listed_name_and_help() -> None:
    import argparse

    from bench.cli import build_parser
    from bench.commands import COMMANDS

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == list(COMMANDS)
    assert {a.dest: a.help for a in sub._choices_actions} == {name: help_text for name, (_, help_text) in COMMANDS.items()}
    for name, parser in sub.choices.items():
        assert parser.description or parser.format_help(), name


def test_ctrl_c_leaves_a_complete_file_with_the_run_interrupted(thirdparty_dist: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    env = dict(os.environ, PYTHONPATH=f"{thirdparty_dist}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", "run", "-w", "thirdparty-count", "--out", str(out), "--quiet",
         "--idle", "0", "--warmup", "0", "--window", "30", "--repeats", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    journal = out.with_name(out.name + ".journal.jsonl")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "/window-0" not in (journal.read_text() if journal.exists() else ""):
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    (run,) = load(out).runs
    assert run.status == "interrupted"
    assert not list(tmp_path.glob(".r.json.*.tmp")), "no half-written temporary"

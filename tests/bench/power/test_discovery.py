"""Meter discovery, `sitebench list` and `run --meter` choices."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.commands import list as list_cmd
from bench.errors import UsageError
from bench.power.discovery import BACKENDS, discover
from tests.bench.power import fake_pynvml
from tests.bench.power.meters.test_rapl import _zone


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with one RAPL package and one H100 (fake powercap tree and fake pynvml)."""
    _zone(tmp_path, "intel-rapl:0", "package-0")
    monkeypatch.setenv("SITEBENCH_POWERCAP_ROOT", str(tmp_path))
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml.make())


def test_list_shows_every_backend_with_why_it_is_unavailable(machine: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert list_cmd.main(argparse.Namespace(json=True)) == 0
    rows = json.loads(capsys.readouterr().out)["meters"]
    by_name = {r["name"]: r for r in rows}
    assert by_name["rapl:cpu-package:0"]["available"] and by_name["rapl:cpu-package:0"]["scope"] == "cpu-package:0"
    assert by_name["nvml:gpu:0"]["accuracy_w"] == 5.0
    assert by_name["model:cpu"]["reason"] == "not used by default: a measured meter works"
    kinds = {r.get("kind") for r in rows}
    assert kinds >= set(BACKENDS)
    assert all(r["reason"] for r in rows if not r["available"])


def test_default_discovery_drops_the_model_when_something_is_measured(machine: None) -> None:
    meters, _ = discover()
    assert sorted(m.kind for m in meters) == ["nvml", "rapl"]


def test_explicit_meter_that_cannot_open_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEBENCH_POWERCAP_ROOT", str(tmp_path / "none"))
    with pytest.raises(UsageError, match=r"--meter rapl: .*not present"):
        discover(["rapl"])
    with pytest.raises(UsageError, match="unknown meter 'bogus'"):
        discover(["bogus"])


def test_run_with_an_unusable_meter_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "SITEBENCH_POWERCAP_ROOT": str(tmp_path / "none")}
    proc = subprocess.run([sys.executable, "-m", "bench", "run", "-w", "sha256", "--meter", "rapl", "--quiet",
                           "--out", str(tmp_path / "r.json")], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--meter rapl:" in lines[0] and "not present" in lines[0]


def test_a_run_on_one_gpu_measures_that_gpu_by_default(machine: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml.make([fake_pynvml.Gpu() for _ in range(4)]))
    meters, _ = discover(device="cuda:2")
    assert sorted(m.scope for m in meters) == ["cpu-package:0", "gpu:2"]
    assert len([m for m in discover(["nvml"], device="cuda:2")[0]]) == 4  # named explicitly: every GPU
    assert sorted(m.scope for m in discover(device="cpu")[0]) == ["cpu-package:0", "gpu:0", "gpu:1", "gpu:2", "gpu:3"]

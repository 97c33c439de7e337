"""A figure means the same thing everywhere: the efficiency and MW per unit/s of one fresh run, as
run, show, size --json, report and leaderboard print them, and sitebench size against the report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import units
from bench.record import load
from bench.report import render
from bench.sizing.model import Allocation, Sized, size
from bench.sizing.sources import candidates

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--idle", "0.2", "--warmup", "0.2", "--window", "0.4", "--repeats", "3", "--quiet"]


def sitebench(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600, env={"COLUMNS": "250", "PATH": "/usr/bin:/bin"})


def test_every_command_prints_the_same_efficiency_and_mw_per_throughput(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    ran = sitebench("run", "-w", "sha256d", "-w", "llm-decode", "--out", str(out), *FAST)
    assert ran.returncode == 0, ran.stderr
    doc = load(out)
    shown = sitebench("show", str(out))
    sized = sitebench("size", str(out), "--mw", "1", "--json")
    assert shown.returncode == 0 and sized.returncode == 0, shown.stderr + sized.stderr
    store = tmp_path / "store"
    assert sitebench("submit", str(out), "--org", "acme", "--store", str(store)).returncode == 0
    board = json.loads(sitebench("leaderboard", str(store), "--json").stdout)
    page = render([(str(out), doc)], mw=1.0)
    by_workload = {s["workload"]: s for s in json.loads(sized.stdout)}
    for run in doc.runs:
        per_j = run.efficiency.per_joule
        assert per_j and run.throughput.rate and run.power.avg_w
        assert run.throughput.rate / run.power.avg_w == pytest.approx(per_j, rel=1e-9), "one definition"
        text = units.efficiency(per_j, run.unit)
        for name, output in (("run", ran.stdout), ("show", shown.stdout), ("report", page)):
            assert text in output, f"{name} does not print {text} for {run.workload}"
        s = by_workload[run.workload]
        assert s["efficiency"] == pytest.approx(per_j, rel=1e-12)
        assert s["mw_per_throughput"] == pytest.approx(1e-6 / s["machine_efficiency"], rel=1e-3)
        if not s["node_overhead_w"]:
            assert s["machine_efficiency"] == pytest.approx(per_j, rel=1e-9)
        (entry,) = [e for e in board if e["workload"] == run.workload]
        assert entry["per_joule"] == pytest.approx(per_j, rel=1e-12)
        scale, per = units.throughput_per_mw_unit(run.unit)
        mw_text = f"{s['mw_per_throughput'] * scale:.4g} per {per}"
        for name, output in (("run", ran.stdout), ("show", shown.stdout), ("report", page)):
            assert mw_text in output, f"{name} does not print {mw_text} for {run.workload}"


@pytest.mark.parametrize("path", sorted((ROOT / "bench" / "data" / "declared").glob("*.json")), ids=lambda p: p.stem)
def test_size_and_the_report_agree_on_every_declared_file(path: Path) -> None:
    doc = load(path)
    cands = candidates(doc, str(path))
    assert len(cands) == len(doc.runs), "a declared sweep is one candidate per point"
    page = render([(str(path), doc)], mw=100.0, pue=1.1)
    for c in cands:
        s = size(c, Allocation(100.0, 1.1))
        assert isinstance(s, Sized)
        scale, per = units.throughput_per_mw_unit(s.unit)
        assert f"{s.mw_per_throughput * scale:.4g} per {per}" in page
        if len(cands) == 1:
            assert f"{s.machines:,.0f}" in page
    assert "declared" in page and "MODELLED" not in re.sub(r"<svg.*?</svg>", "", page, flags=re.S)


def test_size_and_the_report_agree_on_a_measured_components_only_run(tmp_path: Path) -> None:
    from bench.record import write_result
    from tests.records import document, run

    doc = document([run("llm-decode", "cuda:0", 2500.0, 640.0, unit="token", scope="gpu:0")])
    path = write_result(tmp_path / "gpu.json", doc)
    sized = sitebench("size", str(path), "--mw", "20", "--pue", "1.25", "--json")
    assert sized.returncode == 0, sized.stderr
    (s,) = json.loads(sized.stdout)
    assert s["node_overhead_w"] > 0 and s["machine_efficiency"] < s["efficiency"]
    assert s["mw_per_throughput"] == pytest.approx(1.25e-6 / s["machine_efficiency"], rel=1e-9)
    page = render([(str(path), doc)], mw=20.0, pue=1.25)
    scale, per = units.throughput_per_mw_unit("token")
    assert f"{s['machines']:,.0f}" in page and f"{s['mw_per_throughput'] * scale:.4g} per {per}" in page
    assert units.efficiency(s["machine_efficiency"], "token") in page

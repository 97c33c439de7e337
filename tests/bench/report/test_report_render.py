"""Report rendering: with and without power, a fleet file, several files, escaping, headless Chromium."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.report import render, write_report

HERE = Path(__file__).parent
DOC = json.loads((HERE / "sample_run.json").read_text())


def test_with_power_has_plots_and_headline() -> None:
    out = render([("site.json", DOC)], mw=10, pue=1.2)
    assert out.count("<svg") >= 2 + len(DOC["runs"])
    assert "Headline per workload" in out and "MW per EH/s" in out and "MODELLED" in out
    # self-contained: nothing is fetched (namespace URIs inside the SVG are names, not loads)
    assert "<script" not in out and "<link" not in out and 'src="http' not in out and "url(http" not in out


def test_without_power_says_so() -> None:
    doc = copy.deepcopy(DOC)
    for r in doc["runs"]:
        r["power"] = {}
        r["efficiency"] = {}
    out = render([("p.json", doc)])
    assert "no run has an efficiency figure" in out and "no power" in out


def test_fleet_and_several_files_and_escaping() -> None:
    fleet = copy.deepcopy(DOC)
    base = fleet["runs"][1]
    fleet["runs"] = []
    for rank in range(4):
        r = copy.deepcopy(base)
        r.update(rank=rank, local_rank=rank, node="n1", local_device=f"cuda:{rank}")
        r["throughput"]["median"] *= 0.5 if rank == 3 else 1.0
        fleet["runs"].append(r)
    fleet["fleet"] = {"world_size": 4, "lost_ranks": []}
    fleet["system"]["hostname"] = "<b>evil</b>"
    out = render([("vendor.json", DOC), ("fleet.json", fleet)])
    assert "Per GPU (fleet)" in out and "OUTLIER" in out and 'class="outlier"' in out
    assert "<b>evil</b>" not in out and "&lt;b&gt;evil&lt;/b&gt;" in out
    assert "Files side by side" in out and "[B]" in out


@pytest.mark.skipif(not shutil.which("chromium"), reason="chromium not installed (.ci/run installs Debian chromium)")
def test_headless_chromium_screenshot(tmp_path: Path) -> None:
    html = write_report([("site.json", DOC)], tmp_path / "r.html", mw=10, pue=1.2)
    png = tmp_path / "shot.png"
    proc = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           "--enable-logging=stderr", "--window-size=1280,2400", f"--screenshot={png}",
                           html.as_uri()], capture_output=True, text=True, timeout=90)
    assert png.exists() and png.stat().st_size > 10000, proc.stderr[-2000:]
    console_errors = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln and "ERROR" in ln.upper()]
    assert not console_errors

"""Report rendering: with and without power, a fleet file, several files, escaping, headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
import time
import tracemalloc
from pathlib import Path

import pytest

from bench.record import Fleet, PowerBlock, load
from bench.report import render, write_report
from bench.sizing.model import Allocation, Sized, size
from bench.sizing.sources import candidates
from bench.units import throughput_per_mw_unit

HERE = Path(__file__).parent
DOC = load(HERE / "sample_run.json")


def test_with_power_has_plots_and_the_sizing_models_headline() -> None:
    out = render([("site.json", DOC)], mw=10, pue=1.2)
    assert out.count("<svg") >= 2 + len(DOC.runs)
    assert "What the allocation buys" in out and "per EH/s" in out and "MODELLED" in out
    for c in candidates(DOC, "site.json"):  # the headline is sitebench size's figures, machine for machine
        s = size(c, Allocation(10, 1.2))
        assert isinstance(s, Sized)
        scale, per = throughput_per_mw_unit(s.unit)
        assert f"{s.machines:,.0f}" in out and f"{s.mw_per_throughput * scale:.4g} per {per}" in out
    # self-contained: nothing is fetched (namespace URIs inside the SVG are names, not loads)
    assert "<script" not in out and "<link" not in out and 'src="http' not in out and "url(http" not in out


def test_without_power_says_so() -> None:
    doc = DOC.model_copy(deep=True)
    for r in doc.runs:
        r.power = PowerBlock(measured=False, valid_for_sizing=False)
        r.efficiency.per_joule = None
    out = render([("p.json", doc)])
    assert "no run could be sized" in out and "no power" in out


def test_fleet_and_several_files_and_escaping() -> None:
    fleet = DOC.model_copy(deep=True)
    base = fleet.runs[1]
    fleet.runs = []
    for rank in range(4):
        r = base.model_copy(deep=True, update={"rank": rank, "local_rank": rank, "node": "n1",
                                                "local_device": f"cuda:{rank}"})
        if rank == 3:
            r.throughput.rate = (r.throughput.rate or 0.0) * 0.5
        fleet.runs.append(r)
    fleet.fleet = Fleet(world_size=4)
    fleet.system.hostname = "<b>evil</b>"
    out = render([("vendor.json", DOC), ("fleet.json", fleet)])
    assert "Per GPU (fleet)" in out and "OUTLIER" in out and 'class="outlier"' in out
    assert "<b>evil</b>" not in out and "&lt;b&gt;evil&lt;/b&gt;" in out
    assert "Files side by side" in out and "[B]" in out


def test_a_huge_string_is_cut_and_the_page_stays_quick() -> None:
    doc = DOC.model_copy(deep=True)
    doc.runs[0].workload = "w" * 200  # the longest a name may be, in every place a label is drawn
    doc.runs[0].error = "e" * 2000
    tracemalloc.start()
    t0 = time.monotonic()
    out = render([("big.json", doc)])
    took = time.monotonic() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "e" * 300 not in out and "w" * 61 not in out.split("<svg")[1], "cells and plot labels are cut"
    assert peak < 500e6 and took < 120


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

"""size --climate (text, JSON, the monthly plot) and report --climate with a fitted derating curve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.cli import main
from bench.record import write_result
from bench.sizing.declare import declared_document
from tests.bench.sizing.derate_docs import write_soaks


def test_size_climate_text_json_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = tmp_path / "s21.json"
    write_result(r, declared_document("Bitmain Antminer S21", "sha256d", 200e12, 3500.0, unit="hash"))
    assert main(["size", str(r), "--mw", "10", "--climate", "sahiwal", "--plot", str(tmp_path / "s.svg")]) == 0
    text = capsys.readouterr()
    flat = " ".join(text.out.split())
    assert "over a year at Sahiwal" in flat and "DECLARED" in flat
    assert (tmp_path / "s-months.svg").read_text().count("<svg") == 1
    assert main(["size", str(r), "--mw", "10", "--climate", "port-qasim", "--cooling", "dry-cooler", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["climate"]["site"] == "Port Qasim" and out["climate"]["cooling"] == "dry-cooler"
    (run,) = out["runs"]
    a = run["annual"]
    assert len(a["monthly"]) == 12 and a["curve"] == "declared" and a["knee_c"] == 40.0
    assert a["throughput_low"] <= a["throughput"] <= a["throughput_high"] <= a["flat_throughput_high"] * 1.0001


def test_report_draws_the_fit_and_the_months(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fit = tmp_path / "fit.json"
    assert main(["derate", *map(str, write_soaks(tmp_path)), "--out", str(fit)]) == 0
    page = tmp_path / "r.html"
    assert main(["report", str(fit), "--climate", "sahiwal", "--out", str(page)]) == 0
    html = page.read_text()
    assert "Heat: derating and the year" in html and "fitted derating" in html
    assert "Throughput per facility MW per month at Sahiwal" in html
    assert main(["report", str(fit), "--cooling", "air", "--out", str(tmp_path / "x.html")]) == 2

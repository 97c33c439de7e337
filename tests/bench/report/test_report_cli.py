"""`sitebench report` on the command line: writes the page, bad input is one line and exit 2 or 1."""

from __future__ import annotations

from pathlib import Path

from bench.cli import main

SAMPLE = str(Path(__file__).parent / "sample_run.json")


def test_report_writes_page(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["report", SAMPLE, SAMPLE, "--mw", "20", "--pue", "1.25", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and "20 MW" in text and "Files side by side" in text


def test_bad_input_exit_codes(tmp_path: Path) -> None:
    assert main(["report", SAMPLE, "--pue", "0.5", "--out", str(tmp_path / "a.html")]) == 2
    assert main(["report", str(tmp_path / "missing.json"), "--out", str(tmp_path / "b.html")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["report", str(bad), "--out", str(tmp_path / "c.html")]) == 1

"""Hostile files, CI-sized: seeded mutations of a valid file (random damage, blocks removed, consistent
forgeries) never crash validate, and every mutated file it still accepts has every figure equal to its
recomputation from the raw samples, none resting on a block that was removed (10,000 files:
benchmarks/validate_fuzz.py)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.validation import errors, validate_text
from tests.bench.validation.mutate import REMOVALS, _drop_power, disagreements, mutate

N = 1000


def test_mutated_files_never_crash_and_accepted_ones_recompute(doc: dict[str, Any]) -> None:
    rng = random.Random(20261125)
    accepted = refused = 0
    for _ in range(N):
        result = validate_text(mutate(doc, rng), "m.json")
        assert all(f.path.startswith("$") and f.message for f in result.findings)
        if result.doc is not None and not errors(result.findings):
            accepted += 1
            assert disagreements(result.doc) == []
        else:
            refused += 1
    assert refused > N / 2 and accepted > 0


def _energy_x(run: dict[str, Any], k: float) -> None:
    p = run["power"]
    for key in ("energy_j", "avg_w"):
        if p.get(key) is not None:
            p[key] *= k
    p["window_energy_j"] = [e * k for e in p.get("window_energy_j", [])]
    for m in p.get("meters", []):
        m["energy_j"], m["avg_w"] = m["energy_j"] * k, m["avg_w"] * k
    run["efficiency"]["per_joule"] /= k


@pytest.mark.parametrize("removal", [r for r in REMOVALS if r is not _drop_power], ids=lambda r: r.__name__)
@pytest.mark.parametrize("k", [0.5, 2.0])
def test_a_block_removed_is_no_way_round_a_consistent_energy_forgery(doc: dict[str, Any], removal: Any,
                                                                     k: float) -> None:
    for run in doc["runs"]:
        removal(run, random.Random(0))
        _energy_x(run, k)
    result = validate_text(json.dumps(doc), "m.json")
    assert result.doc is None or errors(result.findings), "a forged file was accepted"


def test_an_honest_file_with_a_block_removed_is_refused_or_still_recomputes(doc: dict[str, Any]) -> None:
    for removal in REMOVALS:
        for seed in range(3):
            obj = json.loads(json.dumps(doc))
            for run in obj["runs"]:
                removal(run, random.Random(seed))
            result = validate_text(json.dumps(obj), "m.json")
            if result.doc is not None and not errors(result.findings):
                assert disagreements(result.doc) == [], removal.__name__


def test_validate_dir_escapes_what_a_terminal_cannot_print_and_goes_on(doc: dict[str, Any], tmp_path: Path) -> None:
    hostile = ["\ud800", "\ud800\u0000", "\udfff\x1b[31m"]
    for i, text in enumerate(hostile):
        bad = json.loads(json.dumps(doc))
        bad["runs"][0]["workload"] = text  # refused by the types
        bad["schema"] = text if i == 2 else bad["schema"]  # quoted back in the finding
        (tmp_path / f"{i}.json").write_text(json.dumps(bad))
    (tmp_path / "3.json").write_text(json.dumps(doc))
    r = subprocess.run([sys.executable, "-m", "bench", "validate", str(tmp_path)], capture_output=True, timeout=120)
    out = r.stdout.decode("utf-8")  # printable UTF-8 all through
    assert r.returncode == 1 and b"Traceback" not in r.stderr
    assert all(f"{i}.json: $" in out for i in range(3)) and "3.json: ok" in out
    assert "\x1b" not in out, "no control character reaches the terminal"


def test_validate_on_an_empty_directory_is_a_usage_error(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "bench", "validate", str(tmp_path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "no *.json result file" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_verdict_names_the_power_basis(doc: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc))
    r = subprocess.run([sys.executable, "-m", "bench", "validate", str(path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and "ok (sitebench.result/2; MODELLED power, unsigned)" in r.stdout
    for run in doc["runs"]:  # stopped before any window: nothing measured
        run.update(status="interrupted", ceiling_fraction=None, phases=[],
                   throughput={"unit": run["throughput"]["unit"]},
                   power={"measured": False, "valid_for_sizing": False, "invalid_reasons": ["no power measured"]},
                   efficiency={"unit": run["efficiency"]["unit"]})
    path.write_text(json.dumps(doc))
    r = subprocess.run([sys.executable, "-m", "bench", "validate", str(path)], capture_output=True, text=True,
                       timeout=60)
    assert "no measured run: interrupted" in r.stdout


def test_a_twenty_megabyte_string_is_refused_fast(doc: dict[str, Any], tmp_path: Path) -> None:
    doc["system"]["hostname"] = "h" * 20_000_000
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    for cmd in (["validate", str(path)], ["report", str(path), "--out", str(tmp_path / "r.html")],
                ["show", str(path)]):
        r = subprocess.run([sys.executable, "-m", "bench", *cmd], capture_output=True, text=True, timeout=120)
        assert r.returncode == 1 and "$.system.hostname" in r.stdout + r.stderr, cmd


def test_an_object_bomb_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    from bench.errors import InvalidResultFile
    from bench.record import parse_json

    text = '{"schema": "sitebench.result/2", "x": [' + ",".join(["{}"] * 2_100_000) + "]}"
    try:
        parse_json(text, "bomb.json")
    except InvalidResultFile as exc:
        assert "objects and arrays" in exc.reason
    else:
        raise AssertionError("a 2.1 million object file parsed")


def test_what_a_terminal_would_obey_is_shown_escaped(doc: dict[str, Any], tmp_path: Path) -> None:
    doc["system"]["hostname"] = "h\u00e9\u001b[2J\u202eevil"
    path = tmp_path / "ctl.json"
    path.write_text(json.dumps(doc))
    for env in ({}, {"PYTHONIOENCODING": "ascii"}):
        r = subprocess.run([sys.executable, "-m", "bench", "show", str(path)], capture_output=True, timeout=120,
                           env={**__import__("os").environ, **env})
        assert r.returncode == 0 and b"Traceback" not in r.stderr
        assert b"\x1b[2J" not in r.stdout and "\u202e".encode() not in r.stdout and b"\\x1b" in r.stdout


def test_thousands_of_runs_are_shown_and_reported_in_bounded_pieces(tmp_path: Path) -> None:
    from bench.record import write_result
    from bench.report import render
    from bench.tables import MAX_ROWS
    from tests.records import document, run

    doc = document([run(f"w{i % 50}", params={"i": i}) for i in range(MAX_ROWS + 100)])
    path = write_result(tmp_path / "many.json", doc)
    r = subprocess.run([sys.executable, "-m", "bench", "show", str(path)], capture_output=True, text=True,
                       timeout=300, env={**__import__("os").environ, "COLUMNS": "200"})
    assert r.returncode == 0 and "… 100 more" in r.stdout
    page = render([(str(path), doc)])
    assert page.count("<svg") <= 2 + 40 and "Plots show at most" in page

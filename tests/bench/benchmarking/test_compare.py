"""compare: a real slowdown is flagged, noise is not, and a verdict says what it rests on."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from bench.benchmarking.compare import compare_documents, min_p, repeats_needed
from bench.measure.runrecord import RunHead, measured_run
from bench.record import Document, write_result
from tests.records import document


def _doc(scale: float, seed: int, n: int = 20, noise: float = 0.01, params: dict | None = None) -> Document:
    rng = random.Random(seed)
    rates = [100.0 * scale * (1 + rng.gauss(0, noise)) for _ in range(n)]
    head = RunHead(workload="sha256", device="cpu", unit="hash", params=params or {"size": 1})
    return document([measured_run(head, rates, [1.0] * n)])


def test_twenty_percent_slowdown_flagged_with_an_interval() -> None:
    [c] = compare_documents(_doc(1.0, 1), _doc(0.8, 2))
    assert c.regression and not c.improvement and c.test == "mann-whitney"
    assert c.change is not None and -0.22 < c.change < -0.18 and c.p_value is not None and c.p_value < 0.05
    assert c.ratio_low is not None and c.ratio_high is not None and c.ratio_low < 0.8 < c.ratio_high < 0.9


def test_same_code_passes() -> None:
    [c] = compare_documents(_doc(1.0, 1), _doc(1.0, 2))
    assert not c.regression and c.change is not None and abs(c.change) < 0.02
    assert c.ratio_low is not None and c.ratio_high is not None and c.ratio_low < 1.0 < c.ratio_high


def test_three_against_three_is_threshold_only_and_says_so() -> None:
    assert min_p(3, 3) == pytest.approx(0.1) and repeats_needed(0.05) == 4
    [c] = compare_documents(_doc(1.0, 1, n=3), _doc(0.5, 2, n=3))
    assert c.regression and c.test == "threshold" and c.p_value is None
    assert "3 vs 3 repeats: too few for a significance test at p < 0.05; threshold only" in c.note
    assert "use 4 or more repeats" in c.note
    [same] = compare_documents(_doc(1.0, 1, n=3), _doc(1.0, 2, n=3))
    assert not same.regression


SPREAD = [88.0, 91.0, 94.0, 97.0, 99.0, 101.0, 103.0, 106.0, 109.0, 112.0]


def _spread(scale: float) -> Document:
    head = RunHead(workload="sha256", device="cpu", unit="hash", params={"size": 1})
    return document([measured_run(head, [x * scale for x in SPREAD], [1.0] * len(SPREAD))])


def test_ten_repeats_five_percent_apart_with_overlapping_spread_pass() -> None:
    [c] = compare_documents(_spread(1.0), _spread(0.95))
    assert c.test == "mann-whitney" and c.change == pytest.approx(-0.05)
    assert c.p_value is not None and c.p_value > 0.05 and not c.regression


def test_per_workload_threshold_and_unmatched() -> None:
    base, new = _doc(1.0, 1), _doc(0.8, 2)
    [c] = compare_documents(base, new, per_workload={"sha256": 0.5})
    assert not c.regression
    notes = sorted(c.note for c in compare_documents(base, _doc(0.8, 2, params={"size": 2})))
    assert notes == ["only in base", "only in new"]


def test_cli_exit_codes(tmp_path: Path) -> None:
    def cli(a: Document, b: Document, *extra: str) -> subprocess.CompletedProcess[str]:
        write_result(tmp_path / "a.json", a)
        write_result(tmp_path / "b.json", b)
        return subprocess.run([sys.executable, "-m", "bench", "compare", str(tmp_path / "a.json"),
                               str(tmp_path / "b.json"), *extra], capture_output=True, text=True, timeout=120)

    assert cli(_doc(1.0, 1), _doc(0.8, 2)).returncode == 1
    r = cli(_doc(1.0, 1, n=3), _doc(0.5, 2, n=3), "--json")
    assert r.returncode == 1 and json.loads(r.stdout)[0]["test"] == "threshold"
    assert cli(_spread(1.0), _spread(0.95)).returncode == 0
    r = cli(_doc(1.0, 1), _doc(1.0, 1), "--workload-threshold", "bad")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_changed_params_still_compared() -> None:
    base, new = _doc(1.0, 1), _doc(0.8, 2, params={"size": 1, "added": 0})
    [c] = compare_documents(base, new)
    assert c.regression and "params differ" in c.note
    extra = _doc(0.8, 3, params={"size": 1, "other": 1}).runs[0]
    new.runs.append(extra)  # two candidates: ambiguous, so nothing is paired
    notes = sorted(c.note for c in compare_documents(base, new))
    assert notes == ["only in base", "only in new", "only in new"]


def test_nan_threshold_and_an_alpha_outside_zero_one_are_usage_errors(tmp_path: Path) -> None:
    write_result(tmp_path / "a.json", _doc(1.0, 1))
    for extra in (["--threshold", "nan"], ["--alpha", "2"], ["--alpha", "0"]):
        r = subprocess.run([sys.executable, "-m", "bench", "compare", str(tmp_path / "a.json"), str(tmp_path / "a.json"),
                            *extra], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and extra[0] in r.stderr, (extra, r.stderr)


def test_fleet_runs_are_compared_rank_by_rank() -> None:
    base, new = _doc(1.0, 1), _doc(1.0, 2)
    for doc in (base, new):
        second = doc.runs[0].model_copy(deep=True)
        doc.runs[0].rank, second.rank = 0, 1
        doc.runs[0].node = second.node = "n0"
        doc.runs.append(second)
    new.runs[1].throughput = _doc(0.5, 3).runs[0].throughput  # rank 1 halves
    comps = compare_documents(base, new)
    assert len(comps) == 2 and [c.regression for c in comps] == [False, True]


def test_the_table_names_the_unit_of_base_and_new() -> None:
    from rich.console import Console

    from bench.benchmarking.compare import format_table

    comps = compare_documents(_doc(1.0, 1), _doc(1.0, 2))
    assert {c.unit for c in comps} == {"hash/s"} and comps[0].to_dict()["unit"] == "hash/s"
    table = format_table(comps)
    headers = [str(c.header) for c in table.columns]
    assert "base (hash/s)" in headers and "new (hash/s)" in headers
    console = Console(width=200, record=True)
    console.print(table)
    assert " H/s" in console.export_text(), "each cell carries its unit too"


def test_contended_runs_and_other_hardware_are_shown_not_judged(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bench.benchmarking.compare import compare_documents
    from bench.cli import main
    from bench.record import Contention, Cpu, contention_reasons, write_result
    from tests import records

    base = records.run(rate=100.0, spread=0.02, windows=10)
    slow = records.run(rate=50.0, spread=0.02, windows=10)
    busy = slow.model_copy(update={"contention": Contention(cpus=2, others_cpu=0.6, steal=0.0, contended=True,
                                                             reasons=contention_reasons(0.6, 0.0, None, []))})
    assert compare_documents(records.document([base]), records.document([slow]))[0].regression
    judged = compare_documents(records.document([base]), records.document([busy]))[0]
    assert not judged.regression and "busy machine" in judged.note

    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    write_result(a, records.document([base], cpu=Cpu(model="CPU A", logical_cpus=2, flags=["avx2"])))
    write_result(b, records.document([slow], cpu=Cpu(model="CPU A", logical_cpus=2, flags=["avx2", "avx512f"])))
    assert main(["compare", str(a), str(b)]) == 0
    assert main(["compare", str(a), str(b), "--any-machine"]) == 1

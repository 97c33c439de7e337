"""compare: a 20% slowdown is flagged, two runs of the same code pass."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path

from bench.compare import compare_documents


def _doc(scale: float, seed: int) -> dict:
    rng = random.Random(seed)
    samples = [100.0 * scale * (1 + rng.gauss(0, 0.01)) for _ in range(20)]
    samples.sort()
    run = {"workload": "sha256", "device": "cpu", "params": {"size": 1}, "status": "ok",
           "throughput": {"median": samples[10], "samples": samples}}
    return {"runs": [run]}


def test_twenty_percent_slowdown_flagged() -> None:
    [c] = compare_documents(_doc(1.0, 1), _doc(0.8, 2))
    assert c.regression and not c.improvement
    assert -0.22 < c.change < -0.18 and c.p_value < 0.05


def test_same_code_passes() -> None:
    [c] = compare_documents(_doc(1.0, 1), _doc(1.0, 2))
    assert not c.regression and abs(c.change) < 0.02


def test_per_workload_threshold_and_unmatched() -> None:
    base, new = _doc(1.0, 1), _doc(0.8, 2)
    [c] = compare_documents(base, new, per_workload={"sha256": 0.5})
    assert not c.regression
    other = copy.deepcopy(new)
    other["runs"][0]["params"] = {"size": 2}
    notes = sorted(c.note for c in compare_documents(base, other))
    assert notes == ["only in base", "only in new"]


def test_cli_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(_doc(1.0, 1)))
    (tmp_path / "b.json").write_text(json.dumps(_doc(0.8, 2)))
    # load() checks the schema, so go through compare's API-level main with a patched loader
    from bench.commands import compare as cmd
    import argparse
    import bench.resultfile as rf
    orig, orig_check = rf.load, rf.require_schema
    rf.load = lambda path, **kw: json.loads(Path(path).read_text())
    rf.require_schema = lambda doc, path: None
    try:
        ns = argparse.Namespace(base=str(tmp_path / "a.json"), new=str(tmp_path / "b.json"), threshold=5.0,
                                workload_threshold=[], alpha=0.05, json=True)
        assert cmd.main(ns) == 1
        ns.new = str(tmp_path / "a.json")
        assert cmd.main(ns) == 0
    finally:
        rf.load, rf.require_schema = orig, orig_check
    r = subprocess.run([sys.executable, "-m", "bench", "compare", str(tmp_path / "a.json"), str(tmp_path / "a.json"),
                        "--workload-threshold", "bad"], capture_output=True, text=True)
    assert r.returncode in (1, 2) and "Traceback" not in r.stderr


def test_changed_params_still_compared() -> None:
    base, new = _doc(1.0, 1), _doc(0.8, 2)
    new["runs"][0]["params"] = {"size": 1, "added": 0}
    [c] = compare_documents(base, new)
    assert c.regression and "params differ" in c.note
    extra = copy.deepcopy(new["runs"][0])
    extra["params"] = {"size": 1, "other": 1}
    new["runs"].append(extra)  # two candidates: ambiguous, so nothing is paired
    notes = sorted(c.note for c in compare_documents(base, new))
    assert notes == ["only in base", "only in new", "only in new"]

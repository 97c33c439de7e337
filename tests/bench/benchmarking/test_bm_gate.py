"""The gate fails a slowed workload and passes an unchanged one."""

from bench.benchmarking.convert import to_result
from bench.benchmarking.gate import gate


def _run(times: list[float]) -> dict:
    return {"benchmarks": [{"group": "sleepy", "name": "test_workload[sleepy-cpu]",
                            "extra_info": {"workload": "sleepy", "device": "cpu", "params": {},
                                           "unit": "step", "units_per_round": 1.0},
                            "stats": {"data": times}}]}


BASE = [0.010, 0.011, 0.0105, 0.0102, 0.0108, 0.0101, 0.0104, 0.0107]


def test_slowed_workload_fails_gate() -> None:
    passed, comps = gate(to_result(_run(BASE)), _run([t * 1.5 for t in BASE]))
    assert not passed
    assert comps[0].regression and comps[0].change is not None and comps[0].change < -0.3


def test_unchanged_workload_passes_gate() -> None:
    passed, comps = gate(to_result(_run(BASE)), _run(list(reversed(BASE))))
    assert passed
    assert not comps[0].regression and abs(comps[0].change or 0.0) < 1e-9


def test_compare_reads_pytest_benchmark_json(tmp_path, capsys) -> None:
    import json

    from bench.cli import main

    (tmp_path / "base.json").write_text(json.dumps(_run(BASE)))
    (tmp_path / "slow.json").write_text(json.dumps(_run([t * 1.5 for t in BASE])))
    (tmp_path / "junk.json").write_text(json.dumps({"benchmarks": [{"stats": {}}]}))
    assert main(["compare", str(tmp_path / "base.json"), str(tmp_path / "slow.json")]) == 1
    assert main(["compare", str(tmp_path / "base.json"), str(tmp_path / "base.json")]) == 0
    assert main(["compare", str(tmp_path / "base.json"), str(tmp_path / "junk.json")]) == 1
    assert "junk.json: $.benchmarks" in capsys.readouterr().err

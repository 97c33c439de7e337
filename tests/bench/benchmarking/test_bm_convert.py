"""pytest-benchmark JSON to result documents: a plugin-recorded run as it is, plain rounds as windows."""

import pytest

from bench.benchmarking.convert import to_result
from bench.errors import InvalidResultFile
from bench.record import Run
from bench.validation import errors, run_checks


def _bench_json() -> dict:
    return {"benchmarks": [{"group": "sleepy", "name": "test_workload[sleepy-cpu]",
                            "extra_info": {"workload": "sleepy", "device": "cpu", "params": {"n": 2},
                                           "unit": "hash", "units_per_round": 10.0, "preset": "ci",
                                           "verified": True},
                            "stats": {"data": [0.5, 0.25, 1.0], "median": 0.5}}]}


def test_plain_rounds_become_windows_with_the_runs_own_figures() -> None:
    doc = to_result(_bench_json())
    (run,) = doc.runs
    assert run.workload == "sleepy" and run.params == {"n": 2}
    assert run.throughput.samples == pytest.approx([20.0, 40.0, 10.0], rel=1e-12)
    assert run.throughput.median == pytest.approx(20.0, rel=1e-12) and run.throughput.unit == "hash/s"
    assert run.throughput.rate == pytest.approx(30.0 / 1.75)
    assert run.power.energy_j is None and run.efficiency.per_joule is None
    assert errors(run_checks(doc)) == []


def test_a_plugin_recorded_run_is_taken_as_it_is() -> None:
    plain = to_result(_bench_json()).runs[0]
    bj = _bench_json()
    bj["benchmarks"][0]["extra_info"]["sitebench_run"] = plain.to_json()
    assert to_result(bj).runs[0] == plain
    bj["benchmarks"][0]["extra_info"]["sitebench_run"]["throughput"]["rate"] = -1.0
    with pytest.raises(InvalidResultFile, match=r"sitebench_run.*throughput\.rate"):
        to_result(bj)


def test_rejects_non_benchmark_json() -> None:
    with pytest.raises(InvalidResultFile):
        to_result({"runs": []})
    with pytest.raises(InvalidResultFile, match="no round timings"):
        to_result({"benchmarks": [{"stats": {}}]})


def test_run_type_survives_the_benchmark_json_round_trip() -> None:
    run = to_result(_bench_json()).runs[0]
    assert Run.model_validate(run.to_json()) == run
